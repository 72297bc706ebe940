"""Load test: simulated learners against a real multi-worker SayZhong, beside a blank Reflex app.

    python bench/load_test.py --learners 50,500 --duration 60 --workers 3

starts, on loopback, a throw-away PostgreSQL (scripts/pg.sh), Redis, SayZhong in production mode with
several granian workers (scripts/serve.sh) and a blank Reflex app (one page, an empty on_load) in
the same mode; seeds the learners; then runs each load level for ``--duration`` seconds and prints
p50/p95/p99 and errors per step, and the ratio to the blank app (this box is shared and noisy, so
the ratio is the figure to compare between runs). ``--url``/``--blank-url`` target running servers
instead (then seed with the same DATABASE_URL/DATA_DIR as the server).

A web learner keeps one websocket (Reflex's socket.io protocol, spoken directly), opens its first
page in full (the hydrate), then loops with a think time of ``--think`` seconds as a browser does:
open home, the lesson list and a lesson by in-app navigation (the pages' on_load handlers), upload a
take (the browser's upload route), read the result and progress (JSON API). One learner in ten is a
terminal-client learner: the same through the JSON API only. Every learner signs in once, arriving
at a random moment of the first ``--think`` seconds, through the sign-in page's event handler
(password check included). Sign-ins, connects and first page loads are all reported; the other
steps are measured after a ramp of ``--ramp`` seconds (default twice the think time), so the table
shows the level's steady state beside its sign-in burst instead of mixing the two.

    python bench/load_test.py --uploads 1,4,16 --duration 30 --workers 3

is the upload sweep instead: at each concurrency, that many terminal-client learners upload takes
back to back (a closed loop, no think time) while five web learners open their home page once a
second; it prints takes/s, upload p50/p95/p99, errors and the home page's latency meanwhile (how
much a burst of scoring slows everyone else).

    python bench/load_test.py --homes 1,8,32 --duration 30 --workers 1

is the home-page sweep: that many signed-in tabs (learners with a practice history) open their home
page back to back; it prints page loads per second (per worker with --workers 1) and p50/p95/p99.
Each level runs twice: as a full page load (a new tab or a reload: the websocket's hydrate, which
sends every state of the app, then the page's on_load handlers) and as in-app navigation (a click
on "Home" in the navigation bar: the browser sends only Reflex's ``on_load_internal``, which runs
the page's on_load handlers). Most home visits in the app are the second kind.

    python bench/load_test.py --learners 50,500 --browse --workers 1 --think 15

is the page-load level test that issue 16 measured first (one worker, learners' tabs moving between
pages, no takes): learners who are signed in already (their tabs connect and load their first page
during the ramp) open home, the lesson list and a lesson once per think time, beside as many blank-app
tabs; each learner has a short practice history, so home draws real figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import websockets  # noqa: E402

PASSWORD = "learning tones daily"
STATE = "reflex___state____state"
SCORING_STATE = f"{STATE}.state___practice____scoring_state"  # the result view of the practice page
SIGN_IN_EVENT = f"{STATE}.state___accounts____sign_in_state.submit"
HYDRATED = '"is_hydrated_rx_state_":true'
ON_LOAD_INTERNAL = f"{STATE}.reflex___state____on_load_internal_state.on_load_internal"


ARRIVAL_STEPS = (
    "web: sign in",
    "web: connect",
    "web: first page load (hydrate)",
    "blank: connect",
    "blank: first page load (hydrate)",
)
"""Steps of a learner's arrival: reported whenever they happen, ramp or not."""


@dataclass
class Stats:
    samples: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    measure_from: float = 0.0
    """perf_counter() time before which steady-state steps are not counted (the ramp)."""

    def counts(self, step: str, started: float) -> bool:
        return started >= self.measure_from or step in ARRIVAL_STEPS

    def record(self, step: str, seconds: float) -> None:
        self.samples[step].append(seconds * 1000)

    def error(self, step: str) -> None:
        self.errors[step] += 1


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


# --- Reflex's websocket protocol (engine.io v4 + socket.io over a plain websocket) -------------


class Tab:
    def __init__(self, base: str, cookie: str | None) -> None:
        self.base = base
        self.cookie = cookie
        self.ws: websockets.ClientConnection | None = None
        self.frames: asyncio.Queue[str] = asyncio.Queue()
        self.reader: asyncio.Task[None] | None = None
        self.last_match = ""

    async def open(self) -> bool:
        url = self.base.replace("http", "ws", 1) + f"/_event/?EIO=4&transport=websocket&token={uuid.uuid4()}"
        headers = {"Origin": self.base}
        if self.cookie:
            headers["Cookie"] = self.cookie
        self.ws = await websockets.connect(url, additional_headers=headers, max_size=None, open_timeout=30)
        await self.ws.recv()  # engine.io OPEN
        await self.ws.send("40/_event,{}")
        while not (await self.ws.recv()).startswith("40/_event"):
            pass
        self.reader = asyncio.create_task(self._read())
        return True

    async def _read(self) -> None:
        assert self.ws is not None
        async for frame in self.ws:
            text = frame if isinstance(frame, str) else frame.decode()
            if text == "2":  # engine.io ping
                await self.ws.send("3")
            elif text.startswith("42/_event"):
                self.frames.put_nowait(text)

    async def event(
        self, name: str, payload: dict[str, object], path: str, until: str, limit_s: float = 30
    ) -> float:
        """Send one event; the seconds until a frame containing ``until`` arrives."""
        assert self.ws is not None
        while not self.frames.empty():
            self.frames.get_nowait()
        pathname, _, query = path.partition("?")
        router = {"pathname": pathname, "asPath": path}
        if query:
            router["query"] = dict(p.split("=", 1) for p in query.split("&"))
        start = time.perf_counter()
        await self.ws.send(
            "42/_event," + json.dumps(["event", {"name": name, "payload": payload, "router_data": router}])
        )
        deadline = start + limit_s
        while True:
            frame = await asyncio.wait_for(self.frames.get(), max(0.01, deadline - time.perf_counter()))
            if until in frame:
                self.last_match = frame
                return time.perf_counter() - start

    async def load_page(self, path: str) -> float:
        return await self.event(f"{STATE}.hydrate_and_load", {}, path, HYDRATED)

    async def navigate(self, path: str) -> float:
        """In-app navigation to `path` (a link click): the page's on_load handlers, no hydrate."""
        return await self.event(ON_LOAD_INTERNAL, {}, path, HYDRATED)

    async def close(self) -> None:
        if self.reader:
            self.reader.cancel()
        if self.ws:
            await self.ws.close()


# --- simulated learners -------------------------------------------------------------------------


@dataclass
class Learner:
    email: str
    session_token: str
    api_token: str
    terminal: bool


async def timed(stats: Stats, step: str, coro) -> object:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    try:
        result = await coro
    except Exception:
        if stats.counts(step, start):
            stats.error(step)
        return None
    if stats.counts(step, start):
        stats.record(step, time.perf_counter() - start)
    return result


async def sign_in(base: str, learner: Learner, http: httpx.AsyncClient) -> str:
    """The browser's sign-in: the page's submit handler checks the password and hands back a
    one-time ticket, which POST /auth/session turns into the HttpOnly session cookie."""
    tab = Tab(base, None)
    await tab.open()
    try:
        await tab.event(
            SIGN_IN_EVENT, {"form": {"email": learner.email, "password": PASSWORD}}, "/signin", "ticket"
        )
    finally:
        frames = []
        while not tab.frames.empty():
            frames.append(tab.frames.get_nowait())
        await tab.close()
    ticket = re.search(r'ticket\\": \\"([^\\"]+)', "".join(frames) + _last_frame(tab))
    if ticket is None:
        raise RuntimeError("no ticket")
    async with httpx.AsyncClient(timeout=60) as browser:  # its own cookie jar, like a browser
        response = await browser.post(
            f"{base}/auth/session",
            data={"ticket": ticket.group(1), "next": "/home"},
            headers={"origin": base},
        )
        token = response.cookies.get("sz_session")
    if response.status_code != 303 or not token:
        raise RuntimeError(f"sign-in hand-off failed: {response.status_code}")
    return f"sz_session={token}"


def _last_frame(tab: Tab) -> str:
    return tab.last_match


async def run_learner(
    learner: Learner,
    base: str,
    take: bytes,
    stats: Stats,
    stop_at: float,
    think: float,
    http: httpx.AsyncClient,
    browse: bool = False,
) -> None:
    """One learner's visit; `browse`: signed in already, pages only (no takes)."""
    api = {"authorization": f"Bearer {learner.api_token}"}
    await asyncio.sleep(random.uniform(0, think))  # spread the arrivals
    tab = None
    cookie = f"sz_session={learner.session_token}"
    if not learner.terminal:
        if not browse:
            signed_in = await timed(stats, "web: sign in", sign_in(base, learner, http))
            if signed_in is None:
                return
            cookie = str(signed_in)
        tab = Tab(base, cookie)
        if await timed(stats, "web: connect", tab.open()) is None:
            return
        # Sign-in lands on home in full (the hydrate); from then on the learner navigates in the app.
        if await timed(stats, "web: first page load (hydrate)", tab.load_page("/home")) is None:
            return
    try:
        while time.perf_counter() < stop_at:
            cycle_start = time.perf_counter()
            if tab is not None:
                await timed(stats, "web: open home (on_load)", tab.navigate("/home"))
                await timed(stats, "web: open lesson list", tab.navigate("/learn"))
                await timed(stats, "web: open lesson", tab.navigate("/practice?unit=greetings"))
                if browse:
                    await asyncio.sleep(
                        max(0.0, think * random.uniform(0.5, 1.5) - (time.perf_counter() - cycle_start))
                    )
                    continue
                headers = {
                    "content-type": "audio/wav",
                    "x-item-id": "greetings.hello",
                    "origin": base,
                    "cookie": f"sz_session={learner.session_token}",
                }
                upload = http.post(f"{base}/practice/attempts", content=take, headers=headers)
                step = "web: upload take (scored)"
            else:
                headers = {**api, "content-type": "audio/wav", "x-item-id": "greetings.hello"}
                upload = http.post(f"{base}/api/v1/attempts", content=take, headers=headers)
                step = "api: upload take (scored)"
            response = await timed(stats, step, upload)
            if response is not None and response.status_code not in (200, 201):  # type: ignore[attr-defined]
                stats.error(step)
                stats.samples[step].pop()
            elif response is not None:
                attempt_id = response.json().get("attempt_id") or response.json().get("id")  # type: ignore[attr-defined]
                prefix = "api" if learner.terminal else "web"
                if tab is not None:  # the practice page shows it: the event the page sends once scored
                    await timed(
                        stats,
                        "web: read result",
                        tab.event(
                            f"{SCORING_STATE}.on_scored",
                            {"attempt_id": str(attempt_id)},
                            "/practice?unit=greetings",
                            '"pron_rx_state_"',
                        ),
                    )
                else:  # the terminal client (the JSON API is a Plus feature)
                    result = await timed(
                        stats,
                        "api: read result",
                        http.get(f"{base}/api/v1/attempts/{attempt_id}", headers=api),
                    )
                    if result is not None and result.status_code != 200:  # type: ignore[attr-defined]
                        stats.error("api: read result")
                        stats.samples["api: read result"].pop()
                await timed(
                    stats, f"{prefix}: read progress", http.get(f"{base}/api/v1/progress", headers=api)
                )
            await asyncio.sleep(
                max(0.0, think * random.uniform(0.5, 1.5) - (time.perf_counter() - cycle_start))
            )
    finally:
        if tab is not None:
            await tab.close()


async def run_blank_tab(base: str, stats: Stats, stop_at: float, think: float) -> None:
    await asyncio.sleep(random.uniform(0, think))
    tab = Tab(base, None)
    if await timed(stats, "blank: connect", tab.open()) is None:
        return
    if await timed(stats, "blank: first page load (hydrate)", tab.load_page("/")) is None:
        return
    try:
        while time.perf_counter() < stop_at:
            cycle_start = time.perf_counter()
            for _ in range(3):  # same number of page loads per cycle as a web learner
                await timed(stats, "blank: open page (on_load)", tab.navigate("/"))
            await asyncio.sleep(
                max(0.0, think * random.uniform(0.5, 1.5) - (time.perf_counter() - cycle_start))
            )
    finally:
        await tab.close()


async def run_level(
    learners: list[Learner],
    base: str,
    blank: str | None,
    duration: float,
    think: float,
    ramp: float = 0,
    browse: bool = False,
) -> Stats:
    """Every learner arrives during the first `think` seconds; steady-state steps are counted for
    `duration` seconds after a `ramp`. `browse`: signed-in learners moving between pages, no takes."""
    from tests.support.pron_synth import synth_wav_bytes

    take = synth_wav_bytes([2, 3])
    stats = Stats(measure_from=time.perf_counter() + ramp)
    stop_at = stats.measure_from + duration
    limits = httpx.Limits(max_connections=2000, max_keepalive_connections=2000)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        tasks = [run_learner(lr, base, take, stats, stop_at, think, http, browse) for lr in learners]
        if blank:
            tasks += [run_blank_tab(blank, stats, stop_at, think) for lr in learners if not lr.terminal]
        await asyncio.gather(*tasks)
    return stats


async def run_uploads(
    concurrency: int, pool: list[Learner], watchers: list[Learner], base: str, duration: float
) -> Stats:
    """`concurrency` closed loops of API uploads while `watchers` open /home once a second.

    Each upload is the next learner's of `pool` in turn: one token's budget (120 requests, then 2/s;
    a take costs 5) is a person's pace, so one token cannot carry a sweep alone."""
    from tests.support.pron_synth import synth_wav_bytes

    take = synth_wav_bytes([2, 3])
    stats = Stats()
    stop_at = time.perf_counter() + duration
    step = "api: upload take (scored)"

    turn = itertools.cycle(pool)

    async def upload_loop(http: httpx.AsyncClient) -> None:
        while time.perf_counter() < stop_at:
            headers = {
                "authorization": f"Bearer {next(turn).api_token}",
                "content-type": "audio/wav",
                "x-item-id": "greetings.hello",
                "idempotency-key": uuid.uuid4().hex,
            }
            sent = http.post(f"{base}/api/v1/attempts", content=take, headers=headers)
            response = await timed(stats, step, sent)
            if response is not None and response.status_code not in (200, 201):  # type: ignore[attr-defined]
                stats.error(step)
                stats.error(f"{step}: HTTP {response.status_code}")  # type: ignore[attr-defined]
                stats.samples[step].pop()

    async def watch_home(learner: Learner) -> None:
        tab = Tab(base, f"sz_session={learner.session_token}")
        if await timed(stats, "others: connect", tab.open()) is None:
            return
        try:
            while time.perf_counter() < stop_at:
                started = time.perf_counter()
                await timed(stats, "others: open home (on_load)", tab.load_page("/home"))
                await asyncio.sleep(max(0.0, 1.0 - (time.perf_counter() - started)))
        finally:
            await tab.close()

    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        await asyncio.gather(
            *(upload_loop(http) for _ in range(concurrency)), *(watch_home(lr) for lr in watchers)
        )
    return stats


async def run_homes(
    tabs: list[Learner | None], base: str, duration: float, path: str = "/home", navigate: bool = False
) -> Stats:
    """Closed loop: each tab opens `path` again as soon as the last load finished (None: no cookie);
    with `navigate`, after one full load, by in-app navigation."""
    stats = Stats()
    stop_at = time.perf_counter() + duration

    async def loop(learner: Learner | None) -> None:
        tab = Tab(base, f"sz_session={learner.session_token}" if learner else None)
        if await timed(stats, "home: connect", tab.open()) is None:
            return
        try:
            if navigate and await timed(stats, "home: first load", tab.load_page(path)) is None:
                return
            while time.perf_counter() < stop_at:
                load = tab.navigate(path) if navigate else tab.load_page(path)
                await timed(stats, "home: open (on_load)", load)
        finally:
            await tab.close()

    await asyncio.gather(*(loop(lr) for lr in tabs))
    return stats


def _load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def home_sweep(
    args: argparse.Namespace, base: str, blank: str, meters: tuple[CpuMeter, CpuMeter] | None
) -> int:
    """SayZhong's home page and the blank app's page, each at every level, one after the other."""
    levels = [int(x) for x in args.homes.split(",")]
    learners = seed(max(levels), history=40)
    print(
        f"# home-page sweep: {args.workers} workers each (SayZhong and a blank Reflex app), PostgreSQL + "
        f"Redis, {os.cpu_count()} CPUs; each SayZhong learner has 40 scored takes"
    )
    if args.warmup:
        asyncio.run(run_homes(list(learners[:2]), base, args.warmup))
        asyncio.run(run_homes([None, None], blank, args.warmup, "/"))
    print("\n| app | tabs | loads/s | p50 ms | p95 ms | p99 ms | errors | CPU ms per load: app / PG | load |")
    print("|---|---|---|---|---|---|---|---|---|")
    for level, navigate in itertools.product(levels, (False, True)):
        how = "navigation" if navigate else "page load"
        runs: list[tuple[str, list[Learner | None], str, str]] = [
            (f"SayZhong /home, {how}", list(learners[:level]), base, "/home"),
            (f"blank app /, {how}", [None] * level, blank, "/"),
        ]
        for (name, tabs, url, path), meter in zip(runs, meters or (None, None), strict=True):
            if meter:
                meter.start()
            stats = asyncio.run(run_homes(tabs, url, args.duration, path, navigate))
            loads = stats.samples.get("home: open (on_load)", [])
            app_ms, pg_ms = meter.per_op_ms(len(loads)) if meter else (float("nan"), float("nan"))
            errors = stats.errors.get("home: open (on_load)", 0)
            print(
                f"| {name} | {level} | {len(loads) / args.duration:.0f} | {pct(loads, 0.5):.1f} "
                f"| {pct(loads, 0.95):.1f} | {pct(loads, 0.99):.1f} | {errors} "
                f"| {app_ms:.1f} / {pg_ms:.1f} | {_load_average()} |",
                flush=True,
            )
    return 0


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU of `root` and every process below it (from /proc), in seconds.

    On a shared box wall-clock latencies move with everyone else's load; the CPU a request costs
    does not, so the sweeps also print CPU milliseconds per operation (the capacity model's input)."""
    children: dict[int, list[int]] = defaultdict(list)
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        children[int(fields[1])].append(pid)  # field 4: parent pid
        times[pid] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # fields 14, 15: utime, stime
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += times.get(pid, 0.0)
        todo.extend(children.get(pid, []))
    return total


@dataclass
class CpuMeter:
    """CPU used by the app (server and its workers) and by PostgreSQL between two readings."""

    app_pid: int
    pg_pid: int
    app: float = 0.0
    pg: float = 0.0

    def start(self) -> None:
        self.app, self.pg = tree_cpu_seconds(self.app_pid), tree_cpu_seconds(self.pg_pid)

    def per_op_ms(self, ops: int) -> tuple[float, float]:
        if not ops:
            return float("nan"), float("nan")
        app = tree_cpu_seconds(self.app_pid) - self.app
        pg = tree_cpu_seconds(self.pg_pid) - self.pg
        return 1000 * app / ops, 1000 * pg / ops


def cpu_meter(procs: list[subprocess.Popen[bytes]], work: Path) -> CpuMeter | None:
    """For a stack this script started (server = procs[1], PostgreSQL's postmaster from its pid file)."""
    pid_file = work / "pg" / "postmaster.pid"
    if len(procs) < 2 or not pid_file.exists():
        return None
    return CpuMeter(app_pid=procs[1].pid, pg_pid=int(pid_file.read_text().split()[0]))


def upload_report(concurrency: int, stats: Stats, duration: float, cpu: tuple[float, float]) -> str:
    takes = stats.samples.get("api: upload take (scored)", [])
    home = stats.samples.get("others: open home (on_load)", [])
    return (
        f"| {concurrency} | {len(takes) / duration:.1f} | {pct(takes, 0.5):.0f} | {pct(takes, 0.95):.0f} "
        f"| {pct(takes, 0.99):.0f} | {stats.errors.get('api: upload take (scored)', 0)} "
        f"| {pct(home, 0.5):.0f} / {pct(home, 0.99):.0f} | {cpu[0]:.1f} / {cpu[1]:.1f} |"
    )


def report(level: int, stats: Stats, duration: float) -> str:
    lines = [
        f"\n### {level} concurrent learners ({duration:.0f} s)\n",
        "| step | n | p50 ms | p95 ms | p99 ms | errors |",
        "|---|---|---|---|---|---|",
    ]
    for step in sorted(set(stats.samples) | set(stats.errors)):
        v = stats.samples.get(step, [])
        lines.append(
            f"| {step} | {len(v)} | {pct(v, 0.5):.1f} | {pct(v, 0.95):.1f} | {pct(v, 0.99):.1f} "
            f"| {stats.errors.get(step, 0)} |"
        )
    home = stats.samples.get("web: open home (on_load)", [])
    blank = stats.samples.get("blank: open page (on_load)", [])
    if home and blank:
        lines.append(
            f"\nhome on_load vs blank app: p50 x{pct(home, 0.5) / pct(blank, 0.5):.1f}, "
            f"p99 x{pct(home, 0.99) / pct(blank, 0.99):.1f}"
        )
    takes = len(stats.samples.get("web: upload take (scored)", [])) + len(
        stats.samples.get("api: upload take (scored)", [])
    )
    lines.append(f"scored takes: {takes / duration:.1f}/s; page loads: {len(home) / duration:.1f}/s")
    return "\n".join(lines)


# --- the stack ------------------------------------------------------------------------------------


def _practise(user_id: int, takes: int, rng: random.Random) -> None:
    """Scored takes of 3-4 syllables over the last 30 days (fixed engine results: fast to seed)."""
    from datetime import timedelta

    from sayzhong.db import session_scope, utcnow
    from sayzhong.practice import service as practice
    from tests.support.practice_fakes import WAV_BYTES, FakeAssessor, result, syllable

    now = utcnow()
    with session_scope() as s:
        for _ in range(takes):
            tones = [rng.choice((1, 2, 3, 4)) for _ in range(rng.randint(3, 4))]
            said = [t if rng.random() < 0.7 else t % 4 + 1 for t in tones]
            syllables = [syllable("妈", f"ma{t}", t, d) for t, d in zip(tones, said, strict=True)]
            practice.score_attempt(
                session=s,
                user_id=user_id,
                item_id="greetings.hello",
                audio=WAV_BYTES,
                content_type="audio/wav",
                assessor=FakeAssessor(result(syllables)),
                now=now - timedelta(minutes=rng.randint(0, 30 * 24 * 60)),
            )


def seed(n: int, *, terminal_every: int = 10, history: int = 0) -> list[Learner]:
    """`n` onboarded learners with a session and an API token; `history` scored takes each."""
    from datetime import timedelta

    from sayzhong.accounts import sign_in, users
    from sayzhong.api import tokens
    from sayzhong.db import session_scope, utcnow
    from sayzhong.legal import service as legal
    from sayzhong.practice import service as practice

    out = []
    run = uuid.uuid4().hex[:6]
    for i in range(n):
        email = f"load-{run}-{i}@example.org"
        with session_scope() as s:
            user_id = users.sign_up(session=s, email=email, password=PASSWORD, display_name=f"L{i}").id
            # As the sign-up form does: without it every page load is sent to the terms page first.
            legal.record_sign_up_acceptance(session=s, user_id=user_id)
            practice.save_onboarding_answers(session=s, user_id=user_id, goal="travel", level="new")
            practice.finish_onboarding(session=s, user_id=user_id)
            _info, api_token = tokens.create_token(
                session=s, user_id=user_id, name="load", scopes=["practice:read", "practice:write"]
            )
            terminal = i % terminal_every == terminal_every - 1
            if terminal:  # terminal-client learners: the client is a Plus feature (issue 12)
                from sayzhong.billing.models import BillingGrant

                s.add(BillingGrant(user_id=user_id, ends_at=utcnow() + timedelta(days=1), reason="load test"))
        if history:
            _practise(user_id, history, random.Random(i))
        with session_scope() as s:
            session_token = sign_in.authenticate(
                session=s, email=email, password=PASSWORD, ip="127.0.0.1", user_agent="load"
            ).unwrap()[1]
        out.append(Learner(email, session_token, api_token, terminal=terminal))
    return out


BLANK_APP = """
import reflex as rx

class State(rx.State):
    n: int = 0

    @rx.event
    def load(self):
        self.n += 1

@rx.page(route="/", on_load=State.load)
def index() -> rx.Component:
    return rx.text(State.n)

app = rx.App()
"""


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 600) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited early ({url})")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise SystemExit(f"{url} not ready")


def start_stack(
    args: argparse.Namespace, work: Path, procs: list[subprocess.Popen[bytes]]
) -> tuple[str, str]:
    pg_url = subprocess.run(
        [str(ROOT / "scripts/pg.sh"), "start", str(work / "pg"), str(args.pg_port)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    procs.append(
        subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(args.redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
    )
    base = f"http://localhost:{args.port}"
    env = {
        **os.environ,
        "ENV": "test",
        "DATABASE_URL": pg_url,
        "REDIS_URL": f"redis://127.0.0.1:{args.redis_port}/0",
        "DATA_DIR": str(work / "data"),
        "PORT": str(args.port),
        "HOST": "127.0.0.1",
        "APP_URL": base,
        "GRANIAN_WORKERS": str(args.workers),
        "SCORING_PROCESSES": str(args.scoring_processes),
        "SCORING_THREADS": str(args.scoring_threads),
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update({k: env[k] for k in ("ENV", "DATABASE_URL", "DATA_DIR", "APP_URL")})
    subprocess.run(
        [str(ROOT / ".venv/bin/alembic"), "upgrade", "head"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    log = (work / "app.log").open("wb")
    procs.append(
        subprocess.Popen(
            [str(ROOT / "scripts/serve.sh")],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    )
    if args.uploads:  # the upload sweep compares concurrencies of one stack: no blank app needed
        wait_ready(f"{base}/readyz", procs[1])
        return base, ""
    blank_dir = work / "blank"
    (blank_dir / "blank").mkdir(parents=True)
    (blank_dir / "blank" / "__init__.py").write_text("")
    (blank_dir / "blank" / "blank.py").write_text(textwrap.dedent(BLANK_APP))
    (blank_dir / "rxconfig.py").write_text(
        f'import reflex as rx\nconfig = rx.Config(app_name="blank", redis_url="redis://127.0.0.1:{args.redis_port}/1",'
        ' state_manager_mode="redis", telemetry_enabled=False)\n'
    )
    blank = f"http://localhost:{args.blank_port}"
    benv = {
        **env,
        "APP_URL": blank,
        "PORT": str(args.blank_port),
        "PATH": f"{ROOT / '.venv/bin'}:{os.environ['PATH']}",
        "PROMETHEUS_MULTIPROC_DIR": "",
        "REFLEX_USE_NPM": "1",
        "NPM_CONFIG_REGISTRY": os.environ.get("NPM_CONFIG_REGISTRY", "https://registry.npmjs.org/"),
        "REFLEX_TELEMETRY_ENABLED": "false",
        "REFLEX_CHECK_LATEST_VERSION": "false",
        # The same state handling as SayZhong's workers get from scripts/serve.sh.
        "REFLEX_OPLOCK_ENABLED": os.environ.get("REFLEX_OPLOCK_ENABLED", "true"),
    }
    procs.append(
        subprocess.Popen(
            [
                "reflex",
                "run",
                "--env",
                "prod",
                "--single-port",
                "--frontend-port",
                str(args.blank_port),
                "--backend-host",
                "127.0.0.1",
            ],
            cwd=blank_dir,
            env=benv,
            stdout=(work / "blank.log").open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    )
    wait_ready(f"{base}/readyz", procs[1])
    wait_ready(f"{blank}/ping", procs[2])
    return base, blank


def stop(procs: list[subprocess.Popen[bytes]], work: Path) -> None:
    import signal

    for proc in reversed(procs):
        try:
            os.killpg(proc.pid, signal.SIGINT)
            proc.wait(timeout=30)
        except ProcessLookupError:
            continue
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
    subprocess.run([str(ROOT / "scripts/pg.sh"), "stop", str(work / "pg")], check=False)


def upload_sweep(args: argparse.Namespace, base: str, meter: CpuMeter | None) -> int:
    concurrencies = [int(x) for x in args.uploads.split(",")]
    # Each token's budget (24 takes at once, then 0.4/s) is a person's pace; at ≈ 90 takes/s a sweep
    # spends ≈ 8,000 takes, so the pool must be large enough that no token runs dry (HTTP 429).
    learners = seed(args.upload_learners + 5, terminal_every=1)
    pool, watchers = learners[:-5], learners[-5:]
    print(
        f"# SayZhong upload sweep: {args.workers} workers, SCORING_THREADS={args.scoring_threads}, "
        f"SCORING_PROCESSES={args.scoring_processes}, PostgreSQL + Redis, {os.cpu_count()} CPUs"
    )
    if args.warmup:
        asyncio.run(run_uploads(2, pool, watchers, base, args.warmup))
    print(
        "\n| concurrency | takes/s | p50 ms | p95 ms | p99 ms | errors | others' home p50 / p99 ms "
        "| CPU ms per take: app / PostgreSQL | load avg |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for concurrency in concurrencies:
        if meter:
            meter.start()
        stats = asyncio.run(run_uploads(concurrency, pool, watchers, base, args.duration))
        takes = len(stats.samples.get("api: upload take (scored)", []))
        cpu = meter.per_op_ms(takes) if meter else (float("nan"), float("nan"))
        print(upload_report(concurrency, stats, args.duration, cpu) + f" {_load_average()} |", flush=True)
        for name, count in sorted(stats.errors.items()):
            if ": HTTP " in name:
                print(f"  ({count} × {name.rsplit(': ', 1)[1]})", flush=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--learners", default="50,500", help="comma-separated load levels (1x, 10x)")
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument(
        "--think", type=float, default=15, help="seconds per learner cycle (1 take per cycle)"
    )
    parser.add_argument(
        "--ramp",
        type=float,
        help="seconds of arrivals (sign-ins) before the steady state is measured (default: 2 x think)",
    )
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument(
        "--scoring-processes", type=int, default=0, help="SCORING_PROCESSES per worker (0: in threads)"
    )
    parser.add_argument(
        "--warmup", type=float, default=60, help="untimed seconds first (models load in every worker)"
    )
    parser.add_argument(
        "--uploads", help="the upload sweep instead: comma-separated concurrencies, e.g. 1,4,16"
    )
    parser.add_argument("--homes", help="the home-page sweep instead: comma-separated tab counts")
    parser.add_argument(
        "--browse",
        action="store_true",
        help="learners signed in already move between pages, no takes (issue 16's page-load levels)",
    )
    parser.add_argument(
        "--upload-learners",
        type=int,
        default=400,
        help="learners (API tokens) the upload sweep uses in turn",
    )
    parser.add_argument(
        "--scoring-threads", type=int, default=2, help="SCORING_THREADS per worker (takes scored at once)"
    )
    parser.add_argument("--url", help="a running SayZhong (skip starting the stack)")
    parser.add_argument("--blank-url", help="a running blank Reflex app")
    parser.add_argument("--port", type=int, default=56431)
    parser.add_argument("--blank-port", type=int, default=56432)
    parser.add_argument("--pg-port", type=int, default=56433)
    parser.add_argument("--redis-port", type=int, default=56434)
    args = parser.parse_args()
    levels = [int(x) for x in args.learners.split(",")]
    work = Path(tempfile.mkdtemp(prefix="sayzhong-load-"))
    work.chmod(0o755)  # PostgreSQL runs as its own user and must reach its folder
    procs: list[subprocess.Popen[bytes]] = []
    try:
        if args.url:
            base, blank = args.url, args.blank_url
        else:
            base, blank = start_stack(args, work, procs)
        if args.uploads:
            return upload_sweep(args, base, cpu_meter(procs, work))
        if args.homes:
            meter = cpu_meter(procs, work)
            meters = (meter, CpuMeter(app_pid=procs[2].pid, pg_pid=meter.pg_pid)) if meter else None
            return home_sweep(args, base, blank, meters)
        if args.browse:  # every learner in a browser tab, with a little history for home to draw
            learners = seed(max(levels), terminal_every=max(levels) + 1, history=5)
        else:
            learners = seed(max(levels))
        ramp = 2 * args.think if args.ramp is None else args.ramp
        print(
            f"# SayZhong load test{' (browsing: pages only, signed in already)' if args.browse else ''}: "
            f"{args.workers} workers, PostgreSQL + Redis, "
            f"think time {args.think:.0f} s, ramp {ramp:.0f} s, "
            f"{os.cpu_count()} CPUs"
        )
        if args.warmup:
            asyncio.run(
                run_level(learners[: min(levels)], base, blank, args.warmup, args.think, browse=args.browse)
            )
        for level in levels:
            stats = asyncio.run(
                run_level(learners[:level], base, blank, args.duration, args.think, ramp, args.browse)
            )
            print(report(level, stats, args.duration), flush=True)
    finally:
        if not args.url:
            stop(procs, work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
