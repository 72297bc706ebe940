"""BI at scale (issue 15): aggregation time, dashboard page time, and dashboard totals against the raw tables.

    python bench/bi_bench.py [--learners 10000] [--seed 1] [--end 2026-11-30] [--reps 5]
                             [--database-url postgresql://… | --pg-port 56123] [--keep]
    python bench/bi_bench.py --reuse sqlite:////tmp/bi-bench-…/bench.db [--end 2026-11-30] [--reps 5]

`--reuse` times the pages and checks the totals of a database an earlier run kept (`--keep`, or a
PostgreSQL URL): the migrations are applied (a new roll-up fills from the daily rows) and steps 1–2
are skipped, so a change to the pages is measured in minutes instead of half an hour.

1. A fresh database: a SQLite file in a temporary folder (default), the empty PostgreSQL database named
   by `--database-url`, or a throw-away server started with `scripts/pg.sh` on `--pg-port` (stopped
   at the end; the SQLite folder is deleted unless `--keep`). The migrations are applied
   (`alembic upgrade head`), then the synthetic data set (`sayzhong.bi.generate`) is written for
   `--learners` with a fixed seed and end date.
2. Times the full aggregation over the generated range (first sign-up day … the day before `--end`,
   each day committed like `bi aggregate`) and the nightly run (the last two days).
   The job's seconds per step are printed under each (learners, billing, visits, prior takes,
   mastery, the per-day steps, cohort weeks).
3. Times every dashboard page's read — what the page state does: `data_range`, `section_view`,
   `last_computed_at`, `segments` — for the default filter (the last 28 days, all learners), the same
   range with a segment filter (the largest channel), the whole year, and on the two pages that offer
   it a cohort filter (the last 13 sign-up weeks) over 28 days and over the whole year; `--reps`
   repetitions, median and p95 per page; pages over 1 s are flagged.
4. Accuracy: dashboard totals (read through `sayzhong.bi.metrics`) next to direct counts written here
   in plain SQL over the raw tables (never through the aggregate code): takes, new learners, sign-ups,
   DAU on sample days, WAU/MAU on the last day, review retention, paying learners and MRR at the end
   (from `billing_subscription`, the state as of the end date), open tickets (by ticket status), judged
   syllables and tone accuracy per tone; and for the segment filter (the largest channel, read from
   the `signed_up` events here) new learners, takes, DAU and MAU; and for the cohort filter (learners
   who signed up in the last 13 weeks) DAU on the last day from the lifecycle states, content takes and
   review retention. Each pair's agreement is
   1 − |dashboard − direct| ÷ |direct|; the overall agreement is the lowest of them. Exit code 1
   when it is below 99.9 %.

The reporting time zone is UTC (the default `BI_TIMEZONE`), so the direct counts use UTC day bounds.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

THRESHOLD = 0.999
"""Required agreement between dashboard totals and direct counts."""
SLOW_PAGE_SECONDS = 1.0
DEFAULT_DAYS = 28
"""The pages' default range (state/bi.py DEFAULT_DAYS)."""
SECTIONS = ("overview", "acquisition", "retention", "learning", "revenue")
COHORT_SECTIONS = ("retention", "learning")
COHORT_WEEKS = 13
"""The cohort filter the bench times and checks: the last quarter's sign-up weeks."""


# --- database --------------------------------------------------------------------------------


def migrate(url: str, data_dir: Path) -> None:
    """`alembic upgrade head` on an empty database, as an operator would."""
    env = {**os.environ, "DATABASE_URL": url, "DATA_DIR": str(data_dir), "ENV": "test"}
    subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )


def start_postgres(folder: Path, port: int) -> str:
    out = subprocess.run(
        [str(ROOT / "scripts" / "pg.sh"), "start", str(folder), str(port)],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip().splitlines()[-1]


def stop_postgres(folder: Path) -> None:
    subprocess.run([str(ROOT / "scripts" / "pg.sh"), "stop", str(folder)], check=False)


def data_days(engine: Engine, end: date) -> tuple[date, date]:
    """First sign-up day … the day before the generator's end date (its data stops before `end`)."""
    with engine.connect() as conn:
        first = conn.execute(text("SELECT MIN(created_at) FROM user_account WHERE role = 'learner'")).scalar()
    if isinstance(first, str):
        first = datetime.fromisoformat(first)
    return first.date(), end - timedelta(days=1)


# --- aggregation -----------------------------------------------------------------------------


def run_aggregation(start: date, end: date, steps: dict[str, float] | None = None) -> float:
    """Seconds to recompute [start, end], committing each day like `python -m sayzhong bi aggregate`;
    `steps` receives the seconds per step of the job."""
    from sayzhong.bi import aggregate
    from sayzhong.db import session_scope

    began = time.perf_counter()
    with session_scope() as session:
        for _day in aggregate.aggregate_days(
            session=session, start=start, end=end, timezone="UTC", timings=steps
        ):
            session.commit()
    return time.perf_counter() - began


def print_steps(steps: dict[str, float]) -> None:
    print("  " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in steps.items()), flush=True)


# --- dashboard pages -------------------------------------------------------------------------

READER = SimpleNamespace(role="admin", two_factor_enabled=True)
"""The staff member the page reads are made for (admin, two-factor on)."""


def read_page(section: str, start: date, end: date, segment: str, cohort: Any = None) -> Any:
    """What the BI page state does on load (state/bi.py `_reload`), in one session."""
    from sayzhong.bi import metrics, views
    from sayzhong.db import session_scope

    with session_scope() as session:
        metrics.data_range(session=session)
        view = views.section_view(
            session=session,
            actor=READER,
            section=section,
            start=start,
            end=end,
            segment=segment,
            cohort=cohort or metrics.ALL_COHORTS,
        )
        metrics.last_computed_at(session=session)
        metrics.segments(session=session)
    return view


@dataclass(frozen=True, slots=True)
class PageTiming:
    section: str
    filter: str
    median: float
    p95: float

    @property
    def slow(self) -> bool:
        return self.p95 > SLOW_PAGE_SECONDS


Filter = tuple[str, date, date, str, Any]
"""label, first day, last day, segment, cohort filter (None: all cohorts)."""


def time_pages(filters: list[Filter], reps: int) -> list[PageTiming]:
    out = []
    for label, start, end, segment, cohort in filters:
        # The cohort filter is offered on retention and learning only.
        for section in SECTIONS if cohort is None else COHORT_SECTIONS:
            seconds = []
            for _ in range(reps):
                began = time.perf_counter()
                read_page(section, start, end, segment, cohort)
                seconds.append(time.perf_counter() - began)
            seconds.sort()
            p95 = seconds[min(len(seconds) - 1, round(0.95 * (len(seconds) - 1)))]
            out.append(PageTiming(section, label, statistics.median(seconds), p95))
    return out


def largest_segment() -> str:
    from sqlalchemy import func
    from sqlmodel import select

    from sayzhong.bi.aggregate import ALL
    from sayzhong.bi.models import BiDailyActivity
    from sayzhong.db import session_scope

    with session_scope() as session:
        row = session.exec(
            select(BiDailyActivity.segment, func.sum(BiDailyActivity.new_learners))
            .where(BiDailyActivity.segment != ALL)
            .group_by(BiDailyActivity.segment)
            .order_by(func.sum(BiDailyActivity.new_learners).desc())
        ).first()
    return row[0] if row else ALL


# --- accuracy --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Pair:
    name: str
    dashboard: float | None
    direct: float

    @property
    def agreement(self) -> float:
        if self.dashboard is None:
            return 0.0
        if self.direct == 0:
            return 1.0 if self.dashboard == 0 else 0.0
        return max(0.0, 1.0 - abs(self.dashboard - self.direct) / abs(self.direct))


def _bounds(start: date, end: date) -> dict[str, datetime]:
    """UTC instants of [start 00:00, end + 1 day 00:00) — the reporting days in UTC."""
    return {
        "lo": datetime.combine(start, dtime(), UTC),
        "hi": datetime.combine(end + timedelta(days=1), dtime(), UTC),
    }


def _direct(engine: Engine, sql: str, **params: Any) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(text(sql), params))


def _one(engine: Engine, sql: str, **params: Any) -> float:
    value = _direct(engine, sql, **params)[0][0]
    return float(value or 0)


LEARNER_TAKES = (
    "FROM practice_attempt a JOIN user_account u ON u.id = a.user_id "
    "WHERE u.role = 'learner' AND a.created_at >= :lo AND a.created_at < :hi"
)


def sample_days(start: date, end: date, n: int = 6) -> list[date]:
    span = (end - start).days
    return sorted({start + timedelta(days=round(span * k / (n - 1))) for k in range(n)})


def segment_learners(engine: Engine, segment: str) -> set[int]:
    """Learners whose `signed_up` event names the segment's channel (`channel`, else `utm_source`)."""
    wanted = segment.removeprefix("channel:")
    out: set[int] = set()
    seen: set[int] = set()
    for user_id, props in _direct(
        engine,
        "SELECT u.id, e.properties FROM user_account u JOIN analytics_event e "
        "ON e.distinct_id = CAST(u.id AS VARCHAR(20)) WHERE u.role = 'learner' AND e.event = 'signed_up'",
    ):
        values = json.loads(props) if isinstance(props, str) else (props or {})
        channel = str(values.get("channel") or values.get("utm_source") or "").strip().lower() or "unknown"
        seen.add(user_id)
        if channel == wanted:
            out.add(user_id)
    if wanted == "unknown":  # learners without a sign-up event (no analytics consent) count as unknown
        out |= {r[0] for r in _direct(engine, "SELECT id FROM user_account WHERE role = 'learner'")} - seen
    return out


def segment_pairs(engine: Engine, start: date, end: date, segment: str) -> list[Pair]:
    """The overview with a segment filter against direct counts for that segment's learners."""
    from sayzhong.bi import metrics
    from sayzhong.db import session_scope

    with session_scope() as session:
        over = metrics.overview(session=session, start=start, end=end, segment=segment)
    kpi = {k.key: k.value for k in over.kpis}
    members = segment_learners(engine, segment)
    whole = _bounds(start, end)
    created = _direct(
        engine,
        "SELECT id FROM user_account WHERE role = 'learner' AND created_at >= :lo AND created_at < :hi",
        **whole,
    )
    takes = _direct(engine, f"SELECT a.user_id, COUNT(*) {LEARNER_TAKES} GROUP BY a.user_id", **whole)
    last = _direct(engine, f"SELECT DISTINCT a.user_id {LEARNER_TAKES}", **_bounds(end, end))
    month = _direct(
        engine, f"SELECT DISTINCT a.user_id {LEARNER_TAKES}", **_bounds(end - timedelta(days=29), end)
    )
    daily = {row[0]: dict(zip(over.daily.columns, row, strict=True)) for row in over.daily.rows}
    return [
        Pair(f"new learners, {segment}", kpi["new"], sum(1 for (u,) in created if u in members)),
        Pair(
            f"scored takes, {segment}",
            sum(int(r["takes"]) for r in daily.values()),
            sum(n for u, n in takes if u in members),
        ),
        Pair(
            f"DAU {end.isoformat()}, {segment}",
            daily.get(end.isoformat(), {}).get("dau"),
            sum(1 for (u,) in last if u in members),
        ),
        Pair(f"MAU {end.isoformat()}, {segment}", kpi["mau"], sum(1 for (u,) in month if u in members)),
    ]


def cohort_pairs(engine: Engine, start: date, end: date, first_week: date) -> list[Pair]:
    """The cohort filter (sign-up weeks `first_week`… the last) against direct counts for those
    learners: lifecycle DAU on the last day, content takes and review retention over the range."""
    from sayzhong.bi import metrics
    from sayzhong.bi.aggregate import ALL
    from sayzhong.db import session_scope

    cohort = metrics.cohorts(first_week, end)
    with session_scope() as session:
        # The lifecycle sums behind the retention page (before "<5" suppression) and review retention.
        day = {
            state: int(n)
            for _day, state, n, *_rest in metrics.lifecycle_sums(
                session, metrics.period(end, end), ALL, cohort
            )
        }
        learn = metrics.learning(session=session, start=start, end=end, cohort=cohort)
    members = {
        r[0]
        for r in _direct(
            engine,
            "SELECT id FROM user_account WHERE role = 'learner' AND created_at >= :lo",
            lo=datetime.combine(first_week, dtime(), UTC),
        )
    }
    label = f"cohorts {first_week.isoformat()}…"
    active = sum(day.get(s, 0) for s in ("new", "current", "reactivated", "resurrected"))
    last = _direct(engine, f"SELECT DISTINCT a.user_id {LEARNER_TAKES}", **_bounds(end, end))
    takes = _direct(
        engine,
        "SELECT a.user_id, COUNT(*), SUM(CASE WHEN a.mode = 'review' THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN a.mode = 'review' AND a.pron_score >= 60 THEN 1 ELSE 0 END) {LEARNER_TAKES} "
        "GROUP BY a.user_id",
        **_bounds(start, end),
    )
    mine = [row for row in takes if row[0] in members]
    content_takes = _one(
        engine,
        "SELECT SUM(takes) FROM bi_daily_cohort_content WHERE cohort_week >= :w AND day >= :a AND day <= :b",
        w=first_week,
        a=start,
        b=end,
    )
    review = {k.key: k.value for k in learn.kpis}["review_retention"]
    review_direct = sum(int(r[3]) for r in mine) / max(1, sum(int(r[2]) for r in mine))
    return [
        Pair(f"DAU {end.isoformat()}, {label}", active, sum(1 for (u,) in last if u in members)),
        Pair(f"content takes, {label}", content_takes, sum(int(r[1]) for r in mine)),
        Pair(f"review retention, {label}", review, review_direct),
    ]


def accuracy_pairs(engine: Engine, start: date, end: date) -> list[Pair]:
    """Dashboard totals for [start, end] next to direct counts over the raw tables."""
    from sayzhong.bi import metrics
    from sayzhong.billing.catalog import PLANS
    from sayzhong.db import session_scope

    with session_scope() as session:
        over = metrics.overview(session=session, start=start, end=end)
        acq = metrics.acquisition(session=session, start=start, end=end)
        learn = metrics.learning(session=session, start=start, end=end)
    kpi = {k.key: k.value for k in over.kpis}
    daily = {row[0]: dict(zip(over.daily.columns, row, strict=True)) for row in over.daily.rows}
    pairs: list[Pair] = []
    whole = _bounds(start, end)

    takes = sum(int(r["takes"]) for r in daily.values())
    pairs.append(
        Pair("scored takes by learners", takes, _one(engine, f"SELECT COUNT(*) {LEARNER_TAKES}", **whole))
    )
    signups = _one(
        engine,
        "SELECT COUNT(*) FROM user_account WHERE role = 'learner' AND created_at >= :lo AND created_at < :hi",
        **whole,
    )
    pairs.append(Pair("new learners (overview)", kpi["new"], signups))
    pairs.append(
        Pair("sign-ups (acquisition)", next(k.value for k in acq.kpis if k.key == "signups"), signups)
    )

    for day in sample_days(start, end):
        direct = _one(engine, f"SELECT COUNT(DISTINCT a.user_id) {LEARNER_TAKES}", **_bounds(day, day))
        pairs.append(Pair(f"DAU {day.isoformat()}", daily.get(day.isoformat(), {}).get("dau"), direct))
    for key, days in (("wau", 7), ("mau", 30)):
        direct = _one(
            engine,
            f"SELECT COUNT(DISTINCT a.user_id) {LEARNER_TAKES}",
            **_bounds(end - timedelta(days=days - 1), end),
        )
        pairs.append(Pair(f"{key.upper()} {end.isoformat()}", kpi[key], direct))

    review = _direct(
        engine,
        "SELECT COUNT(*), SUM(CASE WHEN a.pron_score >= 60 THEN 1 ELSE 0 END) "
        f"{LEARNER_TAKES} AND a.mode = 'review'",
        **whole,
    )[0]
    review_kpi = next(k.value for k in learn.kpis if k.key == "review_retention")
    pairs.append(
        Pair("review retention", review_kpi, float(review[1] or 0) / float(review[0]) if review[0] else 0.0)
    )

    paid = "status IN ('active', 'past_due')"
    pairs.append(
        Pair(
            f"paying learners {end.isoformat()}",
            kpi["paying"],
            _one(engine, f"SELECT COUNT(DISTINCT user_id) FROM billing_subscription WHERE {paid}"),  # noqa: S608
        )
    )
    monthly = " ".join(
        f"WHEN '{p.id}' THEN {p.amount if p.interval == 'month' else round(p.amount / 12)}" for p in PLANS
    )
    mrr_sql = f"SELECT SUM(CASE plan_id {monthly} ELSE 0 END) FROM billing_subscription WHERE {paid}"  # noqa: S608
    pairs.append(
        Pair(
            f"MRR {end.isoformat()} (cents)",
            kpi["mrr"],
            _one(engine, mrr_sql),
        )
    )
    pairs.append(
        Pair(
            f"open tickets {end.isoformat()}",
            kpi["tickets"],
            _one(
                engine,
                "SELECT COUNT(*) FROM support_ticket WHERE status IN ('new', 'open', 'waiting') "
                "AND merged_into_id IS NULL AND created_at < :hi",
                hi=whole["hi"],
            ),
        )
    )

    judged: dict[int, list[float]] = {}
    for prev, tone, n, acc in learn.tone_pairs.rows:
        del prev
        cell = judged.setdefault(int(tone or 0), [0.0, 0.0])
        if n is not None and acc is not None:
            cell[0] += float(n)
            cell[1] += float(acc) * float(n)
    for tone, n, right in _direct(
        engine,
        "SELECT s.expected_tone, COUNT(*), SUM(CASE WHEN s.correct THEN 1 ELSE 0 END) "
        "FROM practice_syllable_result s JOIN practice_attempt a ON a.id = s.attempt_id "
        "JOIN user_account u ON u.id = a.user_id WHERE u.role = 'learner' "
        "AND s.verdict IN ('correct', 'wrong_tone') AND a.created_at >= :lo AND a.created_at < :hi "
        "GROUP BY s.expected_tone ORDER BY s.expected_tone",
        **whole,
    ):
        got_n, got_right = judged.get(int(tone), [0.0, 0.0])
        pairs.append(Pair(f"judged syllables, tone {tone}", round(got_n), float(n)))
        pairs.append(
            Pair(
                f"tone {tone} accuracy",
                got_right / got_n if got_n else None,
                float(right or 0) / float(n),
            )
        )
    return pairs


def overall_agreement(pairs: list[Pair]) -> float:
    """The lowest agreement of all pairs (every metric must agree)."""
    return min(p.agreement for p in pairs) if pairs else 0.0


def print_pairs(pairs: list[Pair]) -> None:
    print(f"\n{'metric':34} {'dashboard':>16} {'direct':>16} {'agreement':>10}")
    for p in pairs:
        dash = "—" if p.dashboard is None else _fmt(p.dashboard)
        flag = "" if p.agreement >= THRESHOLD else "  <-- below 99.9 %"
        print(f"{p.name:34} {dash:>16} {_fmt(p.direct):>16} {100 * p.agreement:>9.3f}%{flag}")
    exact = sum(1 for p in pairs if p.agreement == 1.0)
    print(
        f"overall agreement (lowest pair): {100 * overall_agreement(pairs):.3f} %; {exact}/{len(pairs)} exact"
    )


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.4f}"


# --- main ------------------------------------------------------------------------------------


def _timed(label: str, action: Callable[[], Any]) -> Any:
    began = time.perf_counter()
    result = action()
    print(f"{label}: {time.perf_counter() - began:.1f} s", flush=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--learners", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--end", default="2026-11-30")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--database-url", default=None, help="an empty PostgreSQL database")
    parser.add_argument(
        "--pg-port", type=int, default=None, help="start a throw-away PostgreSQL on this port"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary folder (SQLite file) afterwards"
    )
    parser.add_argument(
        "--reuse",
        default=None,
        help="an earlier run's database (generated, aggregated): pages and totals only",
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bi-bench-"))
    # pg.sh runs the server as the postgres user: its folder cannot sit inside mkdtemp's private one.
    pg_dir = Path(tempfile.gettempdir()) / f"bi-bench-pg-{args.pg_port}" if args.pg_port else None
    url = args.reuse or args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    try:
        if pg_dir is not None:
            url = start_postgres(pg_dir, args.pg_port)
        os.environ.update(
            {"ENV": "test", "DATA_DIR": str(tmp / "data"), "DATABASE_URL": url, "BI_TIMEZONE": "UTC"}
        )
        return run(args, url, tmp)
    finally:
        if pg_dir is not None:
            from sayzhong.db import dispose_engines

            dispose_engines()
            stop_postgres(pg_dir)
            shutil.rmtree(pg_dir, ignore_errors=True)
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"kept {tmp}")


def run(args: argparse.Namespace, url: str, tmp: Path) -> int:
    from sayzhong.bi.generate import GenerateOptions, generate
    from sayzhong.db import get_engine
    from sayzhong.models import load_all_models

    end = date.fromisoformat(args.end)
    _timed("migrations (alembic upgrade head)", lambda: migrate(url, tmp / "data"))
    load_all_models()
    engine = get_engine()
    if args.reuse:
        first, last = data_days(engine, end)
        print(f"\n{engine.dialect.name}: reusing {args.reuse} ({first} … {last})")
        return read_pages(args, engine, first, last)
    summary = generate(
        engine=engine,
        options=GenerateOptions(learners=args.learners, months=args.months, seed=args.seed, end=end),
        progress=lambda line: print(f"  generate: {line}", flush=True),
    )
    takes = summary.counts.get("practice_attempt", 0)
    print(
        f"\n{engine.dialect.name}: {args.learners:,} learners, {takes:,} takes, {summary.rows:,} rows "
        f"generated in {summary.seconds:.0f} s (seed {args.seed}, end {end.isoformat()})"
    )
    first, last = data_days(engine, end)
    days = (last - first).days + 1
    steps: dict[str, float] = {}
    full = run_aggregation(first, last, steps)
    print(f"full aggregation {first} … {last} ({days} days): {full:.1f} s ({full / days:.2f} s/day)")
    print_steps(steps)
    steps = {}
    nightly = run_aggregation(last - timedelta(days=1), last, steps)
    print(f"nightly aggregation (last 2 days): {nightly:.1f} s")
    print_steps(steps)

    return read_pages(args, engine, first, last)


def read_pages(args: argparse.Namespace, engine: Engine, first: date, last: date) -> int:
    segment = largest_segment()
    default_start = last - timedelta(days=DEFAULT_DAYS - 1)
    from sayzhong.bi import metrics

    first_week = last - timedelta(days=last.weekday() + 7 * (COHORT_WEEKS - 1))
    quarter = metrics.cohorts(first_week, last)
    filters: list[Filter] = [
        ("default (28 days, all)", default_start, last, "all", None),
        (f"28 days, {segment}", default_start, last, segment, None),
        ("whole range, all", first, last, "all", None),
        (f"28 days, {COHORT_WEEKS} cohort weeks", default_start, last, "all", quarter),
        (f"whole range, {COHORT_WEEKS} cohort weeks", first, last, "all", quarter),
    ]
    timings = time_pages(filters, args.reps)
    print(f"\npage reads, {args.reps} repetitions{'':14} median      p95")
    for t in timings:
        flag = "  <-- over 1 s" if t.slow else ""
        print(f"  {t.section:12} {t.filter:28} {t.median:7.3f} s {t.p95:7.3f} s{flag}")
    slow = [t for t in timings if t.slow]
    print(f"pages over {SLOW_PAGE_SECONDS:.0f} s: {len(slow)} of {len(timings)}")

    pairs = (
        accuracy_pairs(engine, first, last)
        + segment_pairs(engine, first, last, segment)
        + cohort_pairs(engine, first, last, first_week)
    )
    print_pairs(pairs)
    return 0 if overall_agreement(pairs) >= THRESHOLD else 1


if __name__ == "__main__":
    sys.exit(main())
