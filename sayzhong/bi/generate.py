"""Synthetic learners for demos, tests and the BI benchmark: `python -m sayzhong bi generate`.

Writes a year of plausible SayZhong history into the app's own tables — the rows the real services
would have written — so the reporting layer, the dashboards and every learner-facing service can be
exercised at scale without real people:

- learners (`user_account`, `learner_profile`, `legal_acceptance`, `consent_record`) signing up
  with growth, weekly seasonality and campaign bumps, from 22 countries / time zones, on desktop,
  phone or tablet, attributed to a channel, campaign or referring learner (stored in the
  properties of the `signed_up` event, which is where the app keeps sign-up context today);
- anonymous visitors (most never sign up) and the funnel events of the consent-gated analytics
  sink (`analytics_event`: `page_viewed`, `signed_up`, `onboarding_started`, `mic_check_passed`,
  `onboarding_finished`, `first_attempt_scored`) — only for visitors and learners whose latest
  consent accepts analytics, exactly as the gate records them;
- scored takes (`practice_attempt` with an Azure-shaped result JSON, `practice_syllable_result`)
  with per-syllable tone verdicts: learners improve over their first takes, tone 3 and some tone
  pairs are hardest, some phrases are harder than others; activity decays with churn, and some
  learners come back; Free learners stay within the Free plan's units and daily take limit;
- FSRS review cards (`practice_review_card`) replayed through the app's own scheduler;
- billing as Stripe's webhooks leave it (`billing_customer`, `billing_subscription`,
  `billing_trial_claim`, `billing_webhook_event` holding the invoice and subscription events):
  trials, trial → paid, monthly and annual plans, plan changes, cancellations, payment failures
  with dunning, refunds, reactivations, and a few staff grants (`billing_grant`);
- support: agents, tickets with messages and satisfaction ratings (texts from the labelled
  routing examples), scoring-verdict feedback and NPS answers.

Takes carry no audio: their recording is in the "purged" state the retention job leaves
(`audio_path` NULL, content type and size kept), which every page already handles.

Everything is drawn from one `numpy` generator seeded by `--seed`, against a fixed end date, so the
same seed and end date give identical rows. Rows are built column-wise with numpy and written in
chunks (SQLite: `executemany` through SQLAlchemy; PostgreSQL: `COPY … FROM STDIN` through psycopg),
with ids assigned in time order and PostgreSQL sequences moved past them.

The generator refuses a database that already holds learners or takes (real users!) unless
`--force` is given; see docs/synthetic-data.md.
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Engine, Table, func, text
from sqlalchemy import select as sa_select
from sqlmodel import SQLModel

from sayzhong.errors import SayZhongError

US = 1_000_000
DAY_US = 86_400 * US
SYNTHETIC_DOMAIN = "synthetic.example.com"
"""E-mail domain of generated accounts (example.com is reserved: no mail ever reaches anyone)."""

# --- the world the learners come from -------------------------------------------------------------

COUNTRIES: tuple[tuple[str, str, float], ...] = (
    ("US", "America/New_York", 0.13),
    ("US", "America/Chicago", 0.05),
    ("US", "America/Los_Angeles", 0.08),
    ("CA", "America/Toronto", 0.05),
    ("MX", "America/Mexico_City", 0.02),
    ("BR", "America/Sao_Paulo", 0.03),
    ("GB", "Europe/London", 0.09),
    ("DE", "Europe/Berlin", 0.08),
    ("FR", "Europe/Paris", 0.06),
    ("NL", "Europe/Amsterdam", 0.03),
    ("ES", "Europe/Madrid", 0.03),
    ("IT", "Europe/Rome", 0.03),
    ("SE", "Europe/Stockholm", 0.02),
    ("IN", "Asia/Kolkata", 0.04),
    ("SG", "Asia/Singapore", 0.04),
    ("MY", "Asia/Kuala_Lumpur", 0.02),
    ("PH", "Asia/Manila", 0.02),
    ("TW", "Asia/Taipei", 0.02),
    ("KR", "Asia/Seoul", 0.02),
    ("JP", "Asia/Tokyo", 0.03),
    ("AU", "Australia/Sydney", 0.05),
    ("NZ", "Pacific/Auckland", 0.01),
)

# channel, medium, campaigns, share, retention effect, paying effect
CHANNELS: tuple[tuple[str, str, tuple[str, ...], float, float, float], ...] = (
    ("organic_search", "organic", ("",), 0.30, 0.10, 0.0),
    ("direct", "none", ("",), 0.15, 0.05, 0.1),
    ("paid_search", "cpc", ("brand_search", "learn_chinese_tones", "mandarin_pronunciation"), 0.12, 0.0, 0.1),
    (
        "paid_social",
        "paid_social",
        ("tiktok_tone_challenge", "instagram_launch", "facebook_heritage"),
        0.13,
        -0.35,
        -0.3,
    ),
    ("content", "blog", ("blog_third_tone", "youtube_tone_pairs"), 0.08, 0.15, 0.0),
    ("email", "email", ("newsletter_weekly", "winback_q3"), 0.04, 0.2, 0.2),
    ("partner", "partner", ("university_partner", "language_school_partner"), 0.04, 0.3, 0.3),
    ("referral", "referral", ("learner_referral",), 0.14, 0.3, 0.2),
)
REFERRAL = len(CHANNELS) - 1
LANDING_PATHS = ("/", "/", "/", "/pricing", "/learn", "/help")

# device, os/browser pairs with shares
DEVICES: tuple[tuple[str, float, tuple[tuple[str, str, float], ...]], ...] = (
    (
        "desktop",
        0.46,
        (
            ("windows", "chrome", 0.45),
            ("macos", "chrome", 0.2),
            ("macos", "safari", 0.17),
            ("windows", "edge", 0.08),
            ("linux", "firefox", 0.1),
        ),
    ),
    ("mobile", 0.47, (("ios", "safari", 0.55), ("android", "chrome", 0.45))),
    ("tablet", 0.07, (("ipados", "safari", 0.7), ("android", "chrome", 0.3))),
)
LEVELS = (("new", 0.55, 0.0), ("some", 0.30, 0.35), ("intermediate", 0.15, 0.8))
GOALS = (("travel", 0.3), ("work", 0.2), ("heritage", 0.15), ("fun", 0.2), ("study", 0.15))

# When learners practise, by local hour: a morning, a lunch and a long evening peak.
HOUR_WEIGHTS = np.array(
    [
        0.3,
        0.15,
        0.08,
        0.05,
        0.05,
        0.15,
        0.6,
        1.3,
        1.5,
        1.0,
        0.8,
        0.9,
        1.3,
        1.2,
        0.8,
        0.8,
        0.9,
        1.1,
        1.5,
        2.0,
        2.3,
        2.2,
        1.6,
        0.8,
    ]
)
WEEKDAY_SIGNUPS = np.array([1.12, 1.06, 1.0, 0.97, 0.9, 0.86, 1.09])  # Monday … Sunday
WEEKDAY_PRACTICE = np.array([1.05, 1.04, 1.03, 1.0, 0.93, 0.9, 1.0])

# Tone difficulty (logit penalty) by surface tone; tone 3 is the hardest, tone 1 the easiest.
TONE_PENALTY = {1: -0.35, 2: 0.25, 3: 0.75, 4: -0.1}
# Extra difficulty of a tone after another (prev, tone): 2-3 / 3-2 confusions and 3rd-tone runs.
PAIR_PENALTY = {(3, 3): 0.5, (2, 3): 0.35, (3, 2): 0.3, (4, 3): 0.2, (2, 2): 0.15, (1, 3): 0.15, (4, 4): 0.1}
# Which tone is heard when a tone is missed.
CONFUSION = {
    1: ((4, 2, 3), (0.4, 0.4, 0.2)),
    2: ((3, 1, 4), (0.6, 0.25, 0.15)),
    3: ((2, 4, 1), (0.65, 0.15, 0.2)),
    4: ((1, 2, 3), (0.5, 0.2, 0.3)),
}
SAID_STATUSES = ("ok", "partial", "extra_speech", "different_text", "no_speech")
SAID_SHARES = (0.93, 0.025, 0.01, 0.02, 0.015)
MODES = ("practice", "dialogue", "placement", "calibration", "review")

CANCEL_REASONS = (
    "Too expensive for me right now",
    "I don't practise enough to need Plus",
    "Going back to my classes",
    "Trip is over",
    "Switching to another app",
    "",
)
STAFF_REPLIES = {
    "audio": "Thanks for writing. Please allow the microphone in the browser's site settings and reload; "
    "if it still fails, send us the browser and device.",
    "scoring": "Thanks for the report — we looked at your take and passed it to the tone-engine team. "
    "The verdict on that syllable was borderline.",
    "content": "Thanks, you're right — we've corrected the phrase. It will show in the next content update.",
    "billing": "I've checked your subscription and sorted it out; you'll see the change on the billing page.",
    "account": "Your account is fine again: please sign in with the reset link we just sent.",
    "privacy": "We've received your request and will complete it within the legal deadline; "
    "you'll get an e-mail when it's done.",
    "bug": "Thanks for the details — we reproduced it and a fix is on its way.",
    "other": "Thank you for the feedback, we've passed it to the team!",
}


class GenerateRefusedError(SayZhongError):
    """The target database is not one the generator may write into."""

    code = "bi_generate_refused"
    http_status = 409
    default_message = "The synthetic data generator refused to run."


@dataclass(frozen=True, slots=True)
class GenerateOptions:
    learners: int
    months: int = 12
    seed: int = 1
    end: date | None = None
    """First day *not* generated (UTC); default today. Same seed + same end = same rows."""
    force: bool = False
    visitors_per_learner: float = 4.0
    """Anonymous visitors who never sign up, per learner (visit → sign-up ≈ 1 / (1 + this))."""


@dataclass(frozen=True, slots=True)
class GenerateSummary:
    counts: dict[str, int]
    seconds: float
    start: datetime
    end: datetime

    @property
    def rows(self) -> int:
        return sum(self.counts.values())


Progress = Callable[[str], None]


# --- small helpers -------------------------------------------------------------------------------


def _choice(rng: np.random.Generator, n: int, weights: Sequence[float] | np.ndarray) -> np.ndarray:
    p = np.asarray(weights, dtype=float)
    return rng.choice(len(p), size=n, p=p / p.sum())


def _ids(rng: np.random.Generator, prefix: str, n: int, nbytes: int = 12) -> list[str]:
    raw = rng.bytes(nbytes * n)
    return [prefix + raw[i * nbytes : (i + 1) * nbytes].hex() for i in range(n)]


def _visitor_ids(rng: np.random.Generator, n: int) -> list[str]:
    raw = rng.bytes(16 * n)
    return [base64.urlsafe_b64encode(raw[i * 16 : (i + 1) * 16]).rstrip(b"=").decode() for i in range(n)]


def _group_starts(keys: np.ndarray) -> np.ndarray:
    """Index of the first row of each run of equal keys (keys sorted)."""
    if keys.size == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])


def _cumcount(keys: np.ndarray) -> np.ndarray:
    """0, 1, 2 … within each run of equal (sorted) keys."""
    starts = _group_starts(keys)
    lengths = np.diff(np.r_[starts, keys.size])
    return np.arange(keys.size) - np.repeat(starts, lengths)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


# --- curriculum tables ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Content:
    item_ids: list[str]
    hanzi: list[str]
    kinds: np.ndarray  # 0 phrase, 1 dialogue line, 2 drill
    syl_start: np.ndarray
    syl_count: np.ndarray
    syl_tone: np.ndarray
    syl_prev: np.ndarray  # expected tone of the previous syllable, 0 at the start
    syl_grapheme: list[str]
    syl_pinyin: list[str]
    difficulty: np.ndarray
    path: np.ndarray  # phrases and dialogue lines in teaching order (item indexes)
    path_unit: np.ndarray
    unit_first: np.ndarray  # first path position of each unit
    drills: np.ndarray
    placement: np.ndarray
    unit_ids: list[str]
    drill_for: dict[tuple[int, int, str], str] = field(default_factory=dict)


def _content(rng: np.random.Generator) -> _Content:
    from sayzhong.curriculum import service as curriculum
    from sayzhong.practice.onboarding import placement_prompts
    from sayzhong.pronunciation.text import expected_syllables

    items = list(curriculum.all_items())
    index = {item.id: n for n, item in enumerate(items)}
    kinds = np.array([{"phrase": 0, "dialogue_line": 1, "drill": 2}[i.kind] for i in items], dtype=np.int8)
    starts: list[int] = []
    counts: list[int] = []
    tones: list[int] = []
    prevs: list[int] = []
    graphemes: list[str] = []
    pinyins: list[str] = []
    for item in items:
        syls = expected_syllables(item.hanzi, reading=item.pinyin)
        if item.surface_tones and len(item.surface_tones) == len(syls):
            surface = list(item.surface_tones)
        else:
            surface = [s.surface_tone for s in syls]
        starts.append(len(tones))
        counts.append(len(syls))
        prev = 0
        for syl, tone in zip(syls, surface, strict=True):
            tones.append(tone)
            prevs.append(prev)
            graphemes.append(syl.grapheme[:16])
            pinyins.append(syl.pinyin[:16])
            prev = tone
    count_arr = np.array(counts, dtype=np.int64)
    difficulty = rng.normal(0.0, 0.35, len(items)) + 0.06 * (count_arr - 3)
    units = curriculum.list_units()
    path: list[int] = []
    path_unit: list[int] = []
    unit_first: list[int] = []
    for u, unit in enumerate(units):
        unit_first.append(len(path))
        for phrase in unit.phrases:
            path.append(index[phrase.id])
            path_unit.append(u)
        for dialogue in curriculum.list_dialogues(unit.id):
            for item in items:
                if item.kind == "dialogue_line" and item.id.startswith(dialogue.id + "."):
                    path.append(index[item.id])
                    path_unit.append(u)
    return _Content(
        item_ids=[i.id for i in items],
        hanzi=[i.hanzi for i in items],
        kinds=kinds,
        syl_start=np.array(starts, dtype=np.int64),
        syl_count=count_arr,
        syl_tone=np.array(tones, dtype=np.int8),
        syl_prev=np.array(prevs, dtype=np.int8),
        syl_grapheme=graphemes,
        syl_pinyin=pinyins,
        difficulty=difficulty,
        path=np.array(path, dtype=np.int64),
        path_unit=np.array(path_unit, dtype=np.int64),
        unit_first=np.array(unit_first, dtype=np.int64),
        drills=np.flatnonzero(kinds == 2),
        placement=np.array([index[p.id] for p in placement_prompts()], dtype=np.int64),
        unit_ids=[u.id for u in units],
    )


def _drill_id(content: _Content, prev_tone: int, tone: int, pinyin: str) -> str | None:
    """The drill the review service schedules for a missed tone (its own rule, cached)."""
    key = (prev_tone, tone, pinyin)
    if key not in content.drill_for:
        from sayzhong.practice import review
        from sayzhong.practice.results import ParsedSyllable

        def syl(position: int, t: int, p: str) -> ParsedSyllable:
            return ParsedSyllable(position, "", p, t, None, 0.0, 0.0, "wrong_tone", (), (), (), ())

        prev = syl(0, prev_tone, "") if prev_tone else None
        content.drill_for[key] = review._drill_for(syl(1 if prev else 0, tone, pinyin), prev) or ""
    return content.drill_for[key] or None


# --- writing -------------------------------------------------------------------------------------


BULK_TABLES = frozenset(
    {"practice_attempt", "practice_syllable_result", "practice_review_card", "analytics_event"}
)
"""The big tables: their secondary indexes are dropped during the load and rebuilt at the end (on
PostgreSQL the primary keys and unique constraints stay)."""


class _Writer:
    """Column-wise rows into the app's tables: executemany on SQLite, COPY on PostgreSQL."""

    def __init__(self, engine: Engine, progress: Progress) -> None:
        from sayzhong.models import load_all_models

        load_all_models()
        self.engine = engine
        self.pg = engine.dialect.name == "postgresql"
        self.tables: dict[str, Table] = dict(SQLModel.metadata.tables)
        self.counts: dict[str, int] = {}
        self.progress = progress
        self._next: dict[str, int] = {}
        self._dropped: dict[str, list[str]] = {}

    def next_id(self, table: str, n: int) -> np.ndarray:
        """`n` fresh ids for `table`, after any row already there."""
        if table not in self._next:
            with self.engine.connect() as conn:
                top = conn.execute(sa_select(func.max(self.tables[table].c.id))).scalar()
            self._next[table] = int(top or 0) + 1
        first = self._next[table]
        self._next[table] = first + n
        return np.arange(first, first + n, dtype=np.int64)

    def stamps(self, us: np.ndarray, mask: np.ndarray | None = None) -> list[Any]:
        """Timestamps as the text each database stores for a UTC `DateTime(timezone=True)`."""
        if us.size == 0:
            return []
        s = np.char.replace(
            np.datetime_as_string(np.asarray(us, dtype="datetime64[us]"), unit="us"), "T", " "
        )
        if self.pg:
            s = np.char.add(s, "+00")
        out: list[Any] = s.tolist()
        if mask is not None:
            for i in np.flatnonzero(~mask):
                out[i] = None
        return out

    def write(self, table_name: str, columns: dict[str, Sequence[Any]]) -> None:
        table = self.tables[table_name]
        names = list(columns)
        unknown = set(names) - set(table.c.keys())
        missing = [c.name for c in table.columns if c.name not in columns and not c.nullable]
        if unknown or missing:
            raise RuntimeError(f"{table_name}: unknown columns {sorted(unknown)}, missing {missing}")
        lengths = {len(v) for v in columns.values()}
        if len(lengths) > 1:
            raise RuntimeError(f"{table_name}: columns of different lengths {lengths}")
        n = lengths.pop() if lengths else 0
        if n == 0:
            return
        rows = list(zip(*columns.values(), strict=True))
        quoted = ", ".join(f'"{c}"' for c in names)
        if table_name in BULK_TABLES and table_name not in self._dropped:
            self._drop_indexes(table_name)
        if self.pg:
            raw = self.engine.raw_connection()
            try:
                cursor = raw.cursor()
                with cursor.copy(f'COPY "{table_name}" ({quoted}) FROM STDIN') as copy:
                    for row in rows:
                        copy.write_row(row)
                raw.commit()
            finally:
                raw.close()
        else:
            # Table and column names come from the SQLModel metadata; every value is a bound parameter.
            sql = f'INSERT INTO "{table_name}" ({quoted}) VALUES ({", ".join("?" for _ in names)})'  # noqa: S608  # nosec B608
            with self.engine.begin() as conn:
                # A generated database is rebuilt, not recovered: skip the fsyncs of a bulk load.
                conn.exec_driver_sql("PRAGMA synchronous = OFF")
                conn.exec_driver_sql("PRAGMA cache_size = -32000")
                for at in range(0, n, 50_000):
                    conn.exec_driver_sql(sql, rows[at : at + 50_000])
        self.counts[table_name] = self.counts.get(table_name, 0) + n

    def _drop_indexes(self, table_name: str) -> None:
        """Building an index once after a bulk load is much faster than keeping it up to date row by
        row; `finish` puts the same indexes back (the statements the database itself reports)."""
        with self.engine.begin() as conn:
            if self.pg:
                found = conn.execute(
                    text(
                        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                        "AND tablename = :t AND indexname NOT IN "
                        "(SELECT conname FROM pg_constraint WHERE conrelid = CAST(:t AS regclass))"
                    ),
                    {"t": table_name},
                ).all()
            else:
                found = conn.execute(
                    text(
                        "SELECT name, sql FROM sqlite_master "
                        "WHERE type = 'index' AND tbl_name = :t AND sql IS NOT NULL"
                    ),
                    {"t": table_name},
                ).all()
            for name, sql in found:
                conn.exec_driver_sql(f'DROP INDEX "{name}"')
                self._dropped.setdefault(table_name, []).append(sql)
        self._dropped.setdefault(table_name, [])

    def restore_indexes(self) -> None:
        with self.engine.begin() as conn:
            for table_name, statements in self._dropped.items():
                self.progress(f"  indexing {table_name}")
                for sql in statements:
                    conn.exec_driver_sql(sql)
                if self.pg:
                    conn.exec_driver_sql(f'ANALYZE "{table_name}"')
        self._dropped.clear()

    def finish(self) -> None:
        """SQLite: rebuild dropped indexes. PostgreSQL: move each id sequence past the explicit ids."""
        self.restore_indexes()
        if not self.pg:
            return
        with self.engine.begin() as conn:
            for name in self.counts:
                if "id" not in self.tables[name].c:
                    continue
                table = self.tables[name]
                top = sa_select(func.coalesce(func.max(table.c.id), 1)).scalar_subquery()
                conn.execute(sa_select(func.setval(func.pg_get_serial_sequence(f'"{name}"', "id"), top)))


# --- safety --------------------------------------------------------------------------------------


def check_target(engine: Engine, *, force: bool) -> None:
    """Refuse a database without SayZhong's tables, or one that already holds learners or takes."""
    from sqlalchemy import inspect

    names = set(inspect(engine).get_table_names())
    needed = {"user_account", "practice_attempt", "billing_subscription", "analytics_event", "support_ticket"}
    if not needed <= names:
        raise GenerateRefusedError(
            "This database has no SayZhong tables yet. Run the migrations first (alembic upgrade head)."
        )
    with engine.connect() as conn:
        learners = (
            conn.execute(text("SELECT COUNT(*) FROM user_account WHERE role = 'learner'")).scalar() or 0
        )
        takes = conn.execute(text("SELECT COUNT(*) FROM practice_attempt")).scalar() or 0
    if (learners or takes) and not force:
        raise GenerateRefusedError(
            f"This database already has {learners} learner account(s) and {takes} take(s). The generator "
            "is for demo and benchmark databases only, so it will not add synthetic people next to real "
            "ones. Point --database-url at an empty database, or pass --force if this one is a demo copy."
        )


# --- the simulation ------------------------------------------------------------------------------


@dataclass
class _Learners:
    n: int
    signup: np.ndarray  # µs
    signup_day: np.ndarray  # local day index from the window's first day
    tz: np.ndarray
    channel: np.ndarray
    campaign: list[str]
    referrer: np.ndarray  # learner index or -1
    landing: np.ndarray
    device: np.ndarray
    platform: list[tuple[str, str]]
    level: np.ndarray
    goal: np.ndarray
    engagement: np.ndarray
    skill: np.ndarray
    consent: np.ndarray  # 0 no answer, 1 accepted analytics, 2 declined
    ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


class _Generator:
    def __init__(self, engine: Engine, options: GenerateOptions, progress: Progress) -> None:
        self.opt = options
        self.rng = np.random.default_rng(options.seed)
        self.w = _Writer(engine, progress)
        self.say = progress
        end_day = options.end or datetime.now(UTC).date()
        self.end = datetime(end_day.year, end_day.month, end_day.day, tzinfo=UTC)
        self.days = max(30, round(options.months * 365 / 12))
        self.start = self.end - timedelta(days=self.days)
        self.start_us = int(self.start.timestamp()) * US
        self.end_us = int(self.end.timestamp()) * US
        self.content = _content(self.rng)
        # UTC offset of every time zone on every local day of the window (+ a year of margin).
        self.offsets = np.zeros((len(COUNTRIES), self.days + 400), dtype=np.int64)
        for z, (_c, name, _w) in enumerate(COUNTRIES):
            zone = ZoneInfo(name)
            for d in range(self.offsets.shape[1]):
                moment = datetime(self.start.year, self.start.month, self.start.day, 12) + timedelta(days=d)
                off = moment.replace(tzinfo=zone).utcoffset()
                self.offsets[z, d] = int(off.total_seconds() if off else 0) * US

    # -- helpers on local days
    def local_to_utc(self, tz: np.ndarray, day: np.ndarray, seconds: np.ndarray) -> np.ndarray:
        day = np.clip(day, 0, self.offsets.shape[1] - 1)
        return self.start_us + day * DAY_US + (seconds * US).astype(np.int64) - self.offsets[tz, day]

    def local_day(self, tz: np.ndarray, us: np.ndarray) -> np.ndarray:
        guess = (us - self.start_us) // DAY_US
        guess = np.clip(guess, 0, self.offsets.shape[1] - 1)
        return (us + self.offsets[tz, guess] - self.start_us) // DAY_US

    def run(self) -> GenerateSummary:
        began = time.perf_counter()
        self.say(
            f"generating {self.opt.learners:,} learners over {self.days} days "
            f"({self.start.date()} → {self.end.date()}), seed {self.opt.seed}"
        )
        try:
            staff = self._staff()
            people = self._learners()
            self._accounts(people)
            takes = self._activity(people)
            billing = self._billing(people, takes, staff)
            takes = self._limit_free(people, takes, billing)
            self._attempts(people, takes)
            self._tone_tallies(people)
            self._profiles(people, takes)
            self._daily_usage(people, takes)
            self._reviews(people, takes)
            self._events(people, takes)
            self._support(people, takes, billing, staff)
        finally:
            self.w.restore_indexes()  # even after a failure: the app needs its indexes
        self.w.finish()
        seconds = time.perf_counter() - began
        return GenerateSummary(dict(self.w.counts), seconds, self.start, self.end)

    # -- the running per-learner tone tallies the home page reads, counted from the written takes
    def _tone_tallies(self, p: _Learners) -> None:
        from sayzhong.practice.stats import rebuild_tallies

        if not p.ids.size:
            return
        query = rebuild_tallies(first_user_id=int(p.ids.min()), last_user_id=int(p.ids.max()))
        with self.w.engine.begin() as conn:
            self.w.counts["practice_tone_tally"] = conn.execute(query).rowcount or 0

    # -- staff who answer tickets and grant Plus
    def _staff(self) -> dict[str, np.ndarray]:
        roles = ["admin"] + ["support"] * 5 + ["marketing"]
        ids = self.w.next_id("user_account", len(roles))
        created = np.full(len(roles), self.start_us - 30 * DAY_US)
        stamps = self.w.stamps(created)
        self.w.write(
            "user_account",
            {
                "id": ids.tolist(),
                "email": [f"staff{int(i)}@{SYNTHETIC_DOMAIN}" for i in ids],
                "password_hash": [None] * len(roles),
                "display_name": [f"Synthetic {r} {k}" for k, r in enumerate(roles)],
                "timezone": ["Europe/Berlin"] * len(roles),
                "daily_goal_minutes": [10] * len(roles),
                "role": roles,
                "email_verified": [True] * len(roles),
                "created_at": stamps,
                "updated_at": stamps,
                "two_factor_enabled": [False] * len(roles),
            },
        )
        support = ids[1:6]
        self.w.write(
            "support_agent",
            {
                "user_id": support.tolist(),
                "capacity": [15] * len(support),
                "away": [False] * len(support),
            },
        )
        return {"admin": ids[:1], "support": support}

    # -- who signs up, when, from where
    def _learners(self) -> _Learners:
        rng, n, days = self.rng, self.opt.learners, self.days
        d = np.arange(days)
        weekday = (self.start.weekday() + d) % 7
        bumps = 1.0 + sum(
            0.7 * np.exp(-(((d - c) / 3.0) ** 2)) for c in (days * 0.35, days * 0.62, days * 0.88)
        )
        weights = np.exp(np.log(4.0) * d / days) * WEEKDAY_SIGNUPS[weekday] * bumps
        day = np.sort(_choice(rng, n, weights))
        tz = _choice(rng, n, [c[2] for c in COUNTRIES])
        hour = _choice(rng, n, HOUR_WEIGHTS) * 3600 + rng.integers(0, 3600, n)
        signup = self.local_to_utc(tz, day, hour.astype(np.float64))
        signup = np.clip(signup, self.start_us + US, self.end_us - 3600 * US)
        order = np.argsort(signup, kind="stable")
        signup, tz = signup[order], tz[order]
        day = self.local_day(tz, signup)
        frac = (signup - self.start_us) / (self.end_us - self.start_us)

        channel = _choice(rng, n, [c[3] for c in CHANNELS[:-1]])
        # Referrals grow with the learner base; paid social bursts during the launch campaign.
        channel[rng.random(n) < 0.05 + 0.14 * frac] = REFERRAL
        social = (np.abs(frac - 0.35) < 0.04) & (rng.random(n) < 0.3)
        channel[social] = 3
        referrer = np.where(channel == REFERRAL, (rng.random(n) * np.arange(n)).astype(np.int64), -1)
        referrer[(channel == REFERRAL) & (np.arange(n) == 0)] = -1
        channel[(channel == REFERRAL) & (referrer < 0)] = 0
        campaign = [
            CHANNELS[c][2][int(k) % len(CHANNELS[c][2])]
            for c, k in zip(channel.tolist(), rng.integers(0, 6, n).tolist(), strict=True)
        ]
        device = _choice(rng, n, [dv[1] for dv in DEVICES])
        platform_pick = rng.random(n)
        platform: list[tuple[str, str]] = []
        for dv, u in zip(device.tolist(), platform_pick.tolist(), strict=True):
            options = DEVICES[dv][2]
            cum = np.cumsum([o[2] for o in options])
            k = int(np.searchsorted(cum / cum[-1], u))
            platform.append((options[k][0], options[k][1]))
        level = _choice(rng, n, [lv[1] for lv in LEVELS])
        goal = _choice(rng, n, [g[1] for g in GOALS])
        retention_effect = np.array([c[4] for c in CHANNELS])[channel]
        engagement = rng.normal(0.0, 1.0, n) + retention_effect + np.where(device == 1, -0.1, 0.05)
        skill = rng.normal(0.55, 0.6, n) + np.array([lv[2] for lv in LEVELS])[level] + 0.15 * engagement
        consent = _choice(rng, n, [0.08, 0.8, 0.12])
        return _Learners(
            n=n,
            signup=signup,
            signup_day=day,
            tz=tz,
            channel=channel,
            campaign=campaign,
            referrer=referrer,
            landing=rng.integers(0, len(LANDING_PATHS), n),
            device=device,
            platform=platform,
            level=level,
            goal=goal,
            engagement=engagement,
            skill=skill,
            consent=consent,
        )

    def _accounts(self, p: _Learners) -> None:
        rng = self.rng
        p.ids = self.w.next_id("user_account", p.n)
        created = self.w.stamps(p.signup)
        verified = rng.random(p.n) < 0.88
        self.w.write(
            "user_account",
            {
                "id": p.ids.tolist(),
                "email": [f"learner{int(i)}@{SYNTHETIC_DOMAIN}" for i in p.ids],
                "password_hash": [None] * p.n,
                "display_name": [f"Learner {int(i)}" for i in p.ids],
                "timezone": [COUNTRIES[z][1] for z in p.tz.tolist()],
                "daily_goal_minutes": rng.choice([5, 10, 15, 20], p.n, p=[0.25, 0.45, 0.2, 0.1]).tolist(),
                "role": ["learner"] * p.n,
                "email_verified": verified.tolist(),
                "created_at": created,
                "updated_at": created,
                "two_factor_enabled": [False] * p.n,
            },
        )
        from sayzhong.legal import documents

        versions = {doc: documents.current(doc).version for doc in ("terms", "privacy")}
        ids = self.w.next_id("legal_acceptance", 2 * p.n)
        self.w.write(
            "legal_acceptance",
            {
                "id": ids.tolist(),
                "user_id": np.repeat(p.ids, 2).tolist(),
                "document": ["terms", "privacy"] * p.n,
                "version": [versions["terms"], versions["privacy"]] * p.n,
                "method": ["signup"] * (2 * p.n),
                "accepted_at": [s for s in created for _ in (0, 1)],
            },
        )

    # -- days practised and takes per day
    def _activity(self, p: _Learners) -> dict[str, np.ndarray]:
        rng, n = self.rng, p.n
        started = rng.random(n) < 0.96
        answered = started & (rng.random(n) < 0.95)
        mic = started & (rng.random(n) < 0.82)
        placement = answered & (rng.random(n) < 0.55)
        finished = answered & (rng.random(n) < 0.95)
        practises = np.where(finished, rng.random(n) < 0.9, rng.random(n) < 0.3) & answered
        t_started = p.signup + rng.integers(20, 120, n) * US
        t_mic = t_started + rng.integers(60, 240, n) * US
        t_placed = np.where(mic, t_mic, t_started) + rng.integers(150, 400, n) * US
        t_finished = (
            np.maximum(np.where(mic, t_mic, t_started), np.where(placement, t_placed, 0))
            + rng.integers(10, 60, n) * US
        )
        self.onboarding = {
            "started": started,
            "answered": answered,
            "mic": mic,
            "placement": placement,
            "finished": finished,
            "t_started": t_started,
            "t_mic": t_mic,
            "t_placed": t_placed,
            "t_finished": t_finished,
        }
        remaining = self.days - p.signup_day  # local days from sign-up to the end, day 0 included
        churn_first = rng.random(n) < _sigmoid(-0.55 - 0.6 * p.engagement)
        mean_life = np.exp(3.1 + 0.7 * p.engagement)
        life = np.where(churn_first, 1, 1 + rng.geometric(1.0 / np.maximum(mean_life, 1.5)))
        q = np.clip(rng.beta(2.0, 3.5, n) * np.exp(0.25 * p.engagement), 0.04, 0.95)
        comeback = rng.random(n) < 0.2
        back_at = life + 14 + rng.geometric(1 / 45.0, n)
        back_len = rng.geometric(1 / 12.0, n)
        per_day_mean = np.exp(rng.normal(np.log(5.2), 0.45, n) + 0.15 * p.engagement)

        learner_parts, day_parts, count_parts = [], [], []
        width = int(remaining.max()) if n else 0
        for lo in range(0, n, 4000):
            hi = min(n, lo + 4000)
            k = np.arange(width)[None, :]
            sl = slice(lo, hi)
            weekday = (self.start.weekday() + p.signup_day[sl, None] + k) % 7
            prob = q[sl, None] * WEEKDAY_PRACTICE[weekday]
            alive = k < life[sl, None]
            back = comeback[sl, None] & (k >= back_at[sl, None]) & (k < (back_at + back_len)[sl, None])
            grid = (rng.random((hi - lo, width)) < prob) & (alive | back)
            grid[:, 0] = True
            grid &= (k < remaining[sl, None]) & practises[sl, None]
            li, di = np.nonzero(grid)
            learner_parts.append(li + lo)
            day_parts.append(di)
        learner = np.concatenate(learner_parts) if learner_parts else np.zeros(0, dtype=np.int64)
        day_k = np.concatenate(day_parts) if day_parts else np.zeros(0, dtype=np.int64)
        lam = per_day_mean[learner] * rng.gamma(2.0, 0.5, learner.size)
        count = np.maximum(1, rng.poisson(lam))
        count_parts.append(count)
        # One row per take: the day's sitting starts at a local hour (day 0: after onboarding).
        rep = np.repeat(np.arange(learner.size), count)
        li = learner[rep]
        day_abs = p.signup_day[li] + day_k[rep]
        r = _cumcount(rep)
        hour = _choice(self.rng, learner.size, HOUR_WEIGHTS) * 3600.0 + rng.random(learner.size) * 3600.0
        sitting = self.local_to_utc(p.tz[learner], p.signup_day[learner] + day_k, hour)
        first_day = day_k == 0
        sitting[first_day] = (
            self.onboarding["t_finished"][learner[first_day]] + rng.integers(5, 60, first_day.sum()) * US
        )
        gaps = (8.0 + rng.exponential(22.0, rep.size)) * US
        second = rng.random(learner.size) < 0.15  # some days have a second sitting hours later
        half = np.maximum(1, count // 2)
        gaps[(r == half[rep]) & second[rep]] += (
            rng.uniform(2, 6, ((r == half[rep]) & second[rep]).sum()) * 3600 * US
        )
        gaps[r == 0] = 0
        cum = np.cumsum(gaps)
        start_of = np.repeat(cum[np.r_[0, np.cumsum(count)[:-1]]] if count.size else cum, count)
        at = sitting[rep] + (cum - start_of).astype(np.int64) + rng.integers(0, US, rep.size)
        keep = at < self.end_us
        takes = {"learner": li[keep], "at": at[keep], "day": day_abs[keep]}
        # Placement takes on day 0, before onboarding finishes (mode "placement").
        placed = np.flatnonzero(self.onboarding["placement"])
        n_prompts = self.content.placement.size
        pl_learner = np.repeat(placed, n_prompts)
        before: np.ndarray = (np.tile(np.arange(n_prompts)[::-1], placed.size) * 30 + 10) * US
        pl_at = np.repeat(self.onboarding["t_placed"][placed], n_prompts) - before
        takes["placement"] = np.r_[
            np.zeros(takes["learner"].size, dtype=bool), np.ones(pl_learner.size, dtype=bool)
        ]
        takes["learner"] = np.r_[takes["learner"], pl_learner]
        takes["at"] = np.r_[takes["at"], pl_at]
        takes["day"] = np.r_[takes["day"], self.local_day(p.tz[pl_learner], pl_at)]
        order = np.lexsort((takes["at"], takes["learner"]))
        return {key: value[order] for key, value in takes.items()}

    # -- subscriptions, invoices and grants
    def _billing(
        self, p: _Learners, takes: dict[str, np.ndarray], staff: dict[str, np.ndarray]
    ) -> dict[str, Any]:
        from sayzhong.billing import catalog
        from sayzhong.billing.service import email_hash

        rng = self.rng
        learner, at = takes["learner"], takes["at"]
        starts = _group_starts(learner)
        bounds = np.r_[starts, learner.size]
        who = learner[starts] if starts.size else np.zeros(0, dtype=np.int64)
        active_days = np.zeros(p.n, dtype=np.int64)
        day_keys = learner * 100_000 + takes["day"]
        uniq = np.unique(day_keys)
        np.add.at(active_days, uniq // 100_000, 1)
        pay_effect = np.array([c[5] for c in CHANNELS])[p.channel]
        p_trial = np.clip(
            0.02 + 0.025 * np.minimum(active_days, 8) + 0.03 * pay_effect + 0.02 * p.engagement, 0, 0.35
        )
        trial = (rng.random(p.n) < p_trial) & (active_days >= 2)
        entitled: dict[int, list[tuple[int, int]]] = {}
        customers: dict[str, list[Any]] = {k: [] for k in ("user", "cus", "at")}
        subs: list[dict[str, Any]] = []
        events: list[tuple[int, str, dict[str, Any]]] = []
        claims: list[tuple[str, int]] = []
        plans = {catalog.PLUS_MONTHLY.id: catalog.PLUS_MONTHLY, catalog.PLUS_ANNUAL.id: catalog.PLUS_ANNUAL}

        def ts(us: int) -> int:
            return us // US

        def month_later(us: int, months: int) -> int:
            moment = datetime.fromtimestamp(us / US, UTC)
            y, m = divmod(moment.month - 1 + months, 12)
            first = moment.replace(year=moment.year + y, month=m + 1, day=1)
            last_day = ((first + timedelta(days=32)).replace(day=1) - timedelta(days=1)).day
            return int(first.replace(day=min(moment.day, last_day)).timestamp() * US)

        def learner_takes(i: int) -> np.ndarray:
            k = int(np.searchsorted(who, i))
            if k >= who.size or who[k] != i:
                return np.zeros(0, dtype=np.int64)
            return at[bounds[k] : bounds[k + 1]]

        def sub_obj(s: dict[str, Any], status: str, when: int) -> dict[str, Any]:
            plan = plans[s["plan"]]
            return {
                "id": s["id"],
                "object": "subscription",
                "customer": s["cus"],
                "status": status,
                "created": ts(s["created"]),
                "trial_end": ts(s["trial_end"]) if s["trial_end"] else None,
                "current_period_start": ts(s["period_start"]),
                "current_period_end": ts(s["period_end"]),
                "cancel_at_period_end": s["cancel_at_period_end"],
                "canceled_at": ts(s["canceled_at"]) if s.get("canceled_at") else None,
                "latest_invoice": s.get("latest_invoice"),
                "plan": {
                    "id": plan.id,
                    "interval": plan.interval,
                    "amount": plan.amount,
                    "currency": plan.currency,
                },
                "items": {
                    "object": "list",
                    "data": [{"price": {"id": plan.id}, "plan": {"id": plan.id}, "quantity": 1}],
                },
                "metadata": {"user_id": str(int(p.ids[s["learner"]]))},
                "livemode": False,
                "_at": when,
            }

        def invoice(
            s: dict[str, Any],
            when: int,
            amount: int,
            reason: str,
            paid: bool,
            *,
            attempt: int = 1,
            discount: int = 0,
        ) -> dict[str, Any]:
            plan = plans[s["plan"]]
            inv_id = _ids(rng, "in_", 1)[0]
            s["latest_invoice"] = inv_id
            return {
                "id": inv_id,
                "object": "invoice",
                "customer": s["cus"],
                "subscription": s["id"],
                "billing_reason": reason,
                "status": "paid" if paid else "open",
                "paid": paid,
                "currency": plan.currency,
                "subtotal": amount + discount,
                "total": amount,
                "amount_due": amount,
                "amount_paid": amount if paid else 0,
                "amount_remaining": 0 if paid else amount,
                "attempt_count": attempt,
                "created": ts(when),
                "period_start": ts(s["period_start"]),
                "period_end": ts(s["period_end"]),
                "discount": {"coupon": {"id": "LAUNCH20", "percent_off": 20}} if discount else None,
                "lines": {
                    "object": "list",
                    "data": [
                        {
                            "amount": amount + discount,
                            "currency": plan.currency,
                            "proration": reason == "subscription_update",
                            "plan": {"id": plan.id, "interval": plan.interval, "amount": plan.amount},
                            "price": {"id": plan.id},
                            "period": {"start": ts(s["period_start"]), "end": ts(s["period_end"])},
                        }
                    ],
                },
            }

        def emit(when: int, kind: str, obj: dict[str, Any]) -> None:
            obj = {k: v for k, v in obj.items() if k != "_at"}
            events.append((min(when, self.end_us - US), kind, obj))

        def run_subscription(i: int, begin: int, with_trial: bool, allow_reactivation: bool) -> None:
            own = learner_takes(i)
            annual = rng.random() < 0.28
            s: dict[str, Any] = {
                "id": _ids(rng, "sub_", 1)[0],
                "cus": cus_of[i],
                "learner": i,
                "plan": (catalog.PLUS_ANNUAL if annual else catalog.PLUS_MONTHLY).id,
                "created": begin,
                "trial_end": begin + catalog.TRIAL_DAYS * DAY_US if with_trial else None,
                "cancel_at_period_end": False,
                "cancel_reason": None,
                "status": "trialing" if with_trial else "active",
            }
            s["period_start"] = begin
            s["period_end"] = s["trial_end"] if with_trial else month_later(begin, 12 if annual else 1)
            launch = begin < self.start_us + 60 * DAY_US and rng.random() < 0.3
            emit(begin, "customer.subscription.created", sub_obj(s, s["status"], begin))
            if with_trial:
                emit(begin + US, "invoice.paid", invoice(s, begin + US, 0, "subscription_create", True))
            else:
                amount = plans[s["plan"]].amount
                emit(begin + US, "invoice.paid", invoice(s, begin + US, amount, "subscription_create", True))
            ent_start, ent_end = begin, None
            now = begin
            ended = False
            first_paid = with_trial
            while not ended:
                period_end = s["period_end"]
                if s["trial_end"] and period_end == s["trial_end"] and period_end - 3 * DAY_US < self.end_us:
                    emit(
                        period_end - 3 * DAY_US,
                        "customer.subscription.trial_will_end",
                        sub_obj(s, "trialing", now),
                    )
                # Inactive subscribers cancel more; trials convert well (a card is required).
                recent = own[(own > period_end - 30 * DAY_US) & (own <= period_end)].size > 0
                if s["status"] == "trialing":
                    p_cancel = (
                        0.48 - 0.08 * float(np.clip(p.engagement[i], -1, 1)) - (0.08 if recent else -0.1)
                    )
                elif s["plan"] == catalog.PLUS_ANNUAL.id:
                    p_cancel = 0.3 if recent else 0.6
                else:
                    p_cancel = 0.05 if recent else 0.22
                if rng.random() < p_cancel:
                    when = now + int(rng.uniform(0.2, 0.95) * (period_end - now))
                    if when >= self.end_us:
                        break
                    s["cancel_at_period_end"] = True
                    s["cancel_reason"] = str(rng.choice(CANCEL_REASONS))
                    emit(when, "customer.subscription.updated", sub_obj(s, s["status"], when))
                    if period_end >= self.end_us:
                        break
                    s["status"], s["canceled_at"] = "canceled", period_end
                    emit(period_end, "customer.subscription.deleted", sub_obj(s, "canceled", period_end))
                    ent_end, ended = period_end, True
                    break
                if period_end >= self.end_us:
                    break
                # Renewal (or the end of the trial): maybe a plan change, then the invoice.
                if (
                    s["plan"] == catalog.PLUS_MONTHLY.id
                    and not s["trial_end"] == period_end
                    and rng.random() < 0.03
                ):
                    s["plan"] = catalog.PLUS_ANNUAL.id
                    emit(
                        period_end - DAY_US,
                        "customer.subscription.updated",
                        sub_obj(s, s["status"], period_end),
                    )
                elif s["plan"] == catalog.PLUS_ANNUAL.id and rng.random() < 0.1:
                    s["plan"] = catalog.PLUS_MONTHLY.id
                    emit(
                        period_end - DAY_US,
                        "customer.subscription.updated",
                        sub_obj(s, s["status"], period_end),
                    )
                plan = plans[s["plan"]]
                s["period_start"] = period_end
                s["period_end"] = month_later(period_end, 12 if plan.interval == "year" else 1)
                discount = plan.amount // 5 if (first_paid and launch) else 0
                amount = plan.amount - discount
                reason = "subscription_cycle"
                first_paid = False
                if rng.random() < 0.05:  # the card is declined: dunning
                    s["status"] = "past_due"
                    emit(
                        period_end + US,
                        "invoice.payment_failed",
                        invoice(s, period_end, amount, reason, False),
                    )
                    emit(
                        period_end + 2 * US,
                        "customer.subscription.updated",
                        sub_obj(s, "past_due", period_end),
                    )
                    if rng.random() < 0.65:
                        paid_at = period_end + int(rng.uniform(1, 6) * DAY_US)
                        if paid_at >= self.end_us:
                            break
                        s["status"] = "active"
                        emit(
                            paid_at,
                            "invoice.paid",
                            invoice(s, paid_at, amount, reason, True, attempt=2, discount=discount),
                        )
                        emit(paid_at + US, "customer.subscription.updated", sub_obj(s, "active", paid_at))
                    else:
                        gone = period_end + 14 * DAY_US
                        if gone >= self.end_us:
                            break
                        s["status"], s["canceled_at"] = "canceled", gone
                        s["cancel_reason"] = "payment_failed"
                        emit(gone, "customer.subscription.deleted", sub_obj(s, "canceled", gone))
                        ent_end, ended = gone, True
                        break
                else:
                    s["status"] = "active"
                    inv = invoice(s, period_end, amount, reason, True, discount=discount)
                    emit(period_end + US, "invoice.paid", inv)
                    emit(
                        period_end + 2 * US, "customer.subscription.updated", sub_obj(s, "active", period_end)
                    )
                    if rng.random() < 0.02:  # refunded, and mostly ended at once
                        refund_at = period_end + int(rng.uniform(0.5, 10) * DAY_US)
                        if refund_at < self.end_us:
                            charge = {
                                "id": _ids(rng, "ch_", 1)[0],
                                "object": "charge",
                                "customer": s["cus"],
                                "invoice": inv["id"],
                                "amount": amount,
                                "amount_refunded": amount,
                                "currency": plan.currency,
                                "refunded": True,
                            }
                            emit(refund_at, "charge.refunded", charge)
                            if rng.random() < 0.7:
                                s["status"], s["canceled_at"] = "canceled", refund_at
                                s["cancel_reason"] = "refunded"
                                emit(
                                    refund_at + US,
                                    "customer.subscription.deleted",
                                    sub_obj(s, "canceled", refund_at),
                                )
                                ent_end, ended = refund_at, True
                                break
                now = period_end
            entitled.setdefault(i, []).append(
                (ent_start, ent_end if ent_end is not None else self.end_us + DAY_US)
            )
            subs.append(s)
            if ended and allow_reactivation and ent_end is not None:
                later = own[own > ent_end + 20 * DAY_US]
                if later.size and rng.random() < 0.3:
                    run_subscription(i, int(later[0]) + 60 * US, with_trial=False, allow_reactivation=False)

        cus_of: dict[int, str] = {}
        for i in np.flatnonzero(trial).tolist():
            own = learner_takes(i)
            if own.size < 2:
                continue
            pick = int(own[min(own.size - 1, int(rng.integers(1, max(2, min(own.size, 40)))))]) + 60 * US
            if pick >= self.end_us - DAY_US:
                continue
            cus_of[i] = _ids(rng, "cus_", 1, 7)[0]
            customers["user"].append(int(p.ids[i]))
            customers["cus"].append(cus_of[i])
            customers["at"].append(pick - 30 * US)
            claims.append((email_hash(f"learner{int(p.ids[i])}@{SYNTHETIC_DOMAIN}"), pick))
            run_subscription(i, pick, with_trial=True, allow_reactivation=True)

        # A few staff grants (goodwill after an incident, partner teachers).
        granted = np.flatnonzero((rng.random(p.n) < 0.003) & (active_days >= 1))
        grants: dict[str, list[Any]] = {k: [] for k in ("user", "start", "end", "reason")}
        for i in granted.tolist():
            own = learner_takes(i)
            if not own.size:
                continue
            begin = int(own[own.size // 2])
            grants["user"].append(int(p.ids[i]))
            grants["start"].append(begin)
            grants["end"].append(begin + 30 * DAY_US)
            grants["reason"].append(
                str(
                    rng.choice(["Goodwill after the scoring outage", "Partner school teacher", "Beta tester"])
                )
            )
            entitled.setdefault(i, []).append((begin, begin + 30 * DAY_US))

        # Write: customers, trial claims, subscriptions (state as of the end), webhook events, grants.
        w = self.w
        cus_ids = w.next_id("billing_customer", len(customers["user"]))
        w.write(
            "billing_customer",
            {
                "id": cus_ids.tolist(),
                "user_id": customers["user"],
                "stripe_customer_id": customers["cus"],
                "created_at": w.stamps(np.array(customers["at"], dtype=np.int64)),
            },
        )
        w.write(
            "billing_trial_claim",
            {
                "id": w.next_id("billing_trial_claim", len(claims)).tolist(),
                "email_hash": [c[0] for c in claims],
                "claimed_at": w.stamps(np.array([c[1] for c in claims], dtype=np.int64)),
            },
        )
        last_event: dict[str, int] = {}
        for when, _kind, obj in events:
            sid = obj.get("subscription") if obj.get("object") == "invoice" else obj.get("id")
            if isinstance(sid, str) and sid.startswith("sub_"):
                last_event[sid] = max(last_event.get(sid, 0), when)
        subs.sort(key=lambda s: s["created"])

        def opt_stamp(us: int | None) -> Any:
            return w.stamps(np.array([us], dtype=np.int64))[0] if us else None

        w.write(
            "billing_subscription",
            {
                "id": w.next_id("billing_subscription", len(subs)).tolist(),
                "user_id": [int(p.ids[s["learner"]]) for s in subs],
                "stripe_subscription_id": [s["id"] for s in subs],
                "plan_id": [s["plan"] for s in subs],
                "status": [s["status"] for s in subs],
                "trial_end": [opt_stamp(s["trial_end"]) for s in subs],
                "current_period_end": [opt_stamp(s["period_end"]) for s in subs],
                "cancel_at_period_end": [s["cancel_at_period_end"] for s in subs],
                "cancel_reason": [s["cancel_reason"] or None for s in subs],
                "latest_invoice_id": [s.get("latest_invoice") for s in subs],
                "synced_at": [opt_stamp(last_event.get(s["id"], s["created"])) for s in subs],
                "created_at": [opt_stamp(s["created"]) for s in subs],
            },
        )
        events.sort(key=lambda e: e[0])
        received = np.array([e[0] for e in events], dtype=np.int64) + US
        ignored_types = {"charge.refunded"}  # stored, never acted on (not in webhooks.HANDLED_TYPES)
        ev_ids = _ids(rng, "evt_", len(events))
        payloads = [
            {
                "id": eid,
                "object": "event",
                "api_version": "2024-06-20",
                "created": when // US,
                "type": kind,
                "livemode": False,
                "data": {"object": obj},
            }
            for eid, (when, kind, obj) in zip(ev_ids, events, strict=True)
        ]
        ignored = np.array([e[1] in ignored_types for e in events], dtype=bool)
        w.write(
            "billing_webhook_event",
            {
                "id": w.next_id("billing_webhook_event", len(events)).tolist(),
                "event_id": ev_ids,
                "type": [e[1] for e in events],
                "payload": [json.dumps(x, separators=(",", ":")) for x in payloads],
                "status": ["ignored" if x else "handled" for x in ignored.tolist()],
                "attempts": np.where(ignored, 0, 1).tolist(),
                "next_attempt_at": w.stamps(received),
                "received_at": w.stamps(received),
                "handled_at": w.stamps(received + US, ~ignored),
            },
        )
        admin = int(staff["admin"][0])
        w.write(
            "billing_grant",
            {
                "id": w.next_id("billing_grant", len(grants["user"])).tolist(),
                "user_id": grants["user"],
                "plan": ["plus"] * len(grants["user"]),
                "starts_at": w.stamps(np.array(grants["start"], dtype=np.int64)),
                "ends_at": w.stamps(np.array(grants["end"], dtype=np.int64)),
                "reason": grants["reason"],
                "granted_by": [admin] * len(grants["user"]),
                "created_at": w.stamps(np.array(grants["start"], dtype=np.int64)),
            },
        )
        self.say(f"  billing: {len(subs):,} subscriptions, {len(events):,} webhook events")
        return {"entitled": entitled, "subs": subs}

    # -- Free learners: their daily limit and the Free units
    def _limit_free(
        self, p: _Learners, takes: dict[str, np.ndarray], billing: dict[str, Any]
    ) -> dict[str, np.ndarray]:
        from sayzhong.settings import get_settings

        settings = get_settings()
        learner, at = takes["learner"], takes["at"]
        plus = np.zeros(learner.size, dtype=bool)
        for i, spans in billing["entitled"].items():
            lo, hi = np.searchsorted(learner, [i, i + 1])
            for begin, end in spans:
                plus[lo:hi] |= (at[lo:hi] >= begin) & (at[lo:hi] < end)
        # The limit counts a Free learner's scored takes per local calendar day (a late sitting can
        # cross midnight); placement takes are never counted. Rows are sorted by learner, then time.
        free_counted = np.flatnonzero(~plus & ~takes["placement"])
        day = self.local_day(p.tz[learner[free_counted]], at[free_counted])
        rank = _cumcount(learner[free_counted] * 100_000 + day)
        keep = np.ones(learner.size, dtype=bool)
        keep[free_counted[rank >= settings.free_daily_scored_takes]] = False
        out = {k: v[keep] for k, v in takes.items()}
        out["plus"] = plus[keep]
        self.free_units = settings.free_unit_count
        return out

    # -- which item each take is, and its tone verdicts
    def _attempts(self, p: _Learners, takes: dict[str, np.ndarray]) -> None:
        rng, c = self.rng, self.content
        learner = takes["learner"]
        m = learner.size
        j = _cumcount(learner)
        level_unit = np.array([0, 1, 2])[p.level]
        start_pos = c.unit_first[np.minimum(level_unit, len(c.unit_first) - 1)]
        reps = rng.integers(2, 5, p.n)
        pos = start_pos[learner] + j // reps[learner]
        free_end = int(c.unit_first[self.free_units]) if self.free_units < len(c.unit_first) else c.path.size
        cap = np.where(takes["plus"], c.path.size - 1, free_end - 1)
        over = pos > cap
        pos = np.minimum(pos, cap)
        u = rng.random(m)
        review_pick = (u < 0.14) | (over & (u < 0.6))
        drill_pick = ~review_pick & (u > 0.9)
        earlier = (rng.random(m) * (pos + 1)).astype(np.int64)
        item = c.path[np.where(review_pick, earlier, pos)]
        item = np.where(drill_pick, c.drills[rng.integers(0, c.drills.size, m)], item)
        mode = np.where(review_pick, 4, np.where(c.kinds[item] == 1, 1, 0)).astype(np.int8)
        placement = takes["placement"]
        if placement.any():
            slot = _cumcount(learner[placement])  # 0, 1, 2 … per learner
            item[placement] = c.placement[np.minimum(slot, c.placement.size - 1)]
            mode[placement] = 2
        # Global time order → ids; per-attempt draws stay tied to the (learner-ordered) generator.
        said = _choice(rng, m, SAID_SHARES)
        said[placement & (said >= 3)] = 0
        profile_used = self.onboarding["mic"][learner] & (takes["at"] > self.onboarding["t_mic"][learner])
        base = (
            p.skill[learner] - c.difficulty[item] + 1.3 * (1 - np.exp(-j / 30.0)) + 0.35 * np.log1p(j / 150.0)
        )
        base += np.where(profile_used, 0.15, 0.0) + rng.normal(0.0, 0.35, m)
        fluency_base = np.clip(
            rng.normal(62, 10, m) + 20 * (1 - np.exp(-j / 60.0)) + 4 * p.skill[learner], 5, 100
        )
        segment = np.clip(rng.normal(80, 9, m) + 3 * p.skill[learner], 5, 100)
        order = np.argsort(takes["at"], kind="stable")
        ids = self.w.next_id("practice_attempt", m)
        attempt_id = np.empty(m, dtype=np.int64)
        attempt_id[order] = ids
        self.takes_item, self.takes_mode, self.takes_said = item, mode, said
        self.attempt_id = attempt_id
        n_syl = c.syl_count[item]
        # Per-take outcome summaries the profile, review and support steps need.
        self.take_pron = np.zeros(m)
        self.take_tone = np.full(m, np.nan)
        self.take_all_right = np.zeros(m, dtype=bool)
        self.take_wrong = np.zeros(m, dtype=np.int64)
        self.take_decided = np.zeros(m, dtype=bool)
        self.take_first_wrong = np.full(m, -1, dtype=np.int64)  # global syllable index
        drill_cards: list[tuple[int, int, str]] = []
        item_index = {name: n for n, name in enumerate(c.item_ids)}
        feedback: dict[str, list[Any]] = {
            k: [] for k in ("take", "attempt", "learner", "pos", "syl", "detected", "verdict", "answer", "at")
        }
        chunk = 150_000
        total = 0
        began = time.perf_counter()
        for lo in range(0, m, chunk):
            sel = order[lo : lo + chunk]
            counts = n_syl[sel]
            rep = np.repeat(np.arange(sel.size), counts)
            t_idx = sel[rep]
            g = c.syl_start[item[t_idx]] + _cumcount(rep)  # global syllable index in the content table
            tone = c.syl_tone[g].astype(np.int64)
            prev = c.syl_prev[g].astype(np.int64)
            judged = tone != 5
            pen = np.array([0.0, *[TONE_PENALTY[t] for t in (1, 2, 3, 4)], 0.0])[tone]
            pair_pen = np.zeros(tone.size)
            for (a, b), v in PAIR_PENALTY.items():
                pair_pen[(prev == a) & (tone == b)] = v
            p_right = _sigmoid(base[t_idx] + 0.4 - pen - pair_pen + rng.normal(0, 0.3, tone.size))
            right = rng.random(tone.size) < p_right
            unclear = rng.random(tone.size) < np.where(right, 0.04, 0.12)
            s_status = said[t_idx]
            not_said = ((s_status == 1) & (rng.random(tone.size) < 0.35)) | (s_status >= 3)
            verdict = np.where(~judged, 3, np.where(unclear, 2, np.where(right, 0, 1)))
            verdict = np.where(not_said, 4, verdict)  # 0 correct 1 wrong 2 unclear 3 neutral 4 not said
            wrong_to = np.zeros(tone.size, dtype=np.int64)
            for t, (alts, probs) in CONFUSION.items():
                sel_t = (tone == t) & (verdict == 1)
                wrong_to[sel_t] = np.array(alts)[_choice(rng, int(sel_t.sum()), probs)]
            detected = np.where(verdict == 0, tone, np.where(verdict == 1, wrong_to, 0))
            detected = np.where(
                (verdict == 2) & (rng.random(tone.size) < 0.5), np.where(tone == 3, 2, tone), detected
            )
            beta = rng.beta(2.0, 2.0, tone.size)
            score = np.select(
                [verdict == 0, verdict == 1, verdict == 2],
                [72 + 28 * beta, 8 + 42 * beta, 40 + 25 * beta],
                0.0,
            )
            conf = np.select(
                [verdict == 0, verdict == 1, verdict == 2],
                [0.7 + 0.29 * beta, 0.6 + 0.35 * beta, 0.3 + 0.25 * beta],
                0.0,
            )
            score, conf = np.round(score, 1), np.round(conf, 3)
            # Per-take aggregates (tone = mean over judged syllables).
            jw = judged.astype(float)
            tone_sum = np.bincount(rep, weights=score * jw, minlength=sel.size)
            tone_n = np.bincount(rep, weights=jw, minlength=sel.size)
            tone_mean = np.where(tone_n > 0, tone_sum / np.maximum(tone_n, 1), np.nan)
            wrong = np.bincount(rep, weights=(verdict == 1), minlength=sel.size).astype(np.int64)
            decided = np.bincount(rep, weights=(verdict <= 1), minlength=sel.size) > 0
            notsaid_n = np.bincount(rep, weights=(verdict == 4), minlength=sel.size)
            counted = said[sel] < 3
            acc = np.where(
                np.isnan(tone_mean), segment[sel], 0.6 * np.nan_to_num(tone_mean) + 0.4 * segment[sel]
            )
            comp = np.clip(100 - 100 * notsaid_n / counts, 0, 100)
            flu = fluency_base[sel]
            pron = np.round(np.where(counted, 0.6 * acc + 0.2 * flu + 0.2 * comp, 0.0), 1)
            acc, flu, comp = (np.round(np.where(counted, x, 0.0), 1) for x in (acc, flu, comp))
            self.take_pron[sel] = pron
            self.take_tone[sel] = np.round(tone_mean, 1)
            self.take_wrong[sel] = np.where(counted, wrong, 0)
            self.take_decided[sel] = counted & decided
            judged_ok = (
                np.bincount(rep, weights=judged & (verdict != 2) & (verdict != 0), minlength=sel.size) == 0
            )
            has_judged = np.bincount(rep, weights=judged & (verdict != 2), minlength=sel.size) > 0
            self.take_all_right[sel] = counted & judged_ok & has_judged
            first_wrong_local = np.full(sel.size, -1, dtype=np.int64)
            wrong_rows = np.flatnonzero(verdict == 1)
            if wrong_rows.size:
                firsts = wrong_rows[_group_starts(rep[wrong_rows])]
                first_wrong_local[rep[firsts]] = g[firsts]
            self.take_first_wrong[sel] = first_wrong_local
            self._write_attempt_chunk(
                p,
                takes,
                sel,
                rep,
                g,
                tone,
                prev,
                verdict,
                detected,
                score,
                conf,
                acc,
                flu,
                comp,
                pron,
                tone_mean,
                profile_used,
            )
            # Drill cards for missed tones (at most two per take, like the review service).
            if wrong_rows.size:
                keep_rows = wrong_rows[counted[rep[wrong_rows]] & (_cumcount(rep[wrong_rows]) < 2)]
                for r in keep_rows.tolist():
                    drill = _drill_id(c, int(prev[r]), int(tone[r]), c.syl_pinyin[int(g[r])])
                    if drill:
                        drill_cards.append((int(sel[rep[r]]), item_index[drill], ""))
                # Some learners dispute a verdict ("was this right?").
                pick = wrong_rows[rng.random(wrong_rows.size) < 0.004]
                pick = pick[counted[rep[pick]]]
                pick = pick[_group_starts(rep[pick])] if pick.size else pick
                for r in pick.tolist():
                    t = int(sel[rep[r]])
                    feedback["take"].append(t)
                    feedback["attempt"].append(int(attempt_id[t]))
                    feedback["learner"].append(int(learner[t]))
                    feedback["pos"].append(int(g[r] - c.syl_start[item[t]]))
                    feedback["syl"].append(int(g[r]))
                    feedback["detected"].append(int(detected[r]))
                    feedback["verdict"].append("wrong_tone")
                    feedback["answer"].append(
                        str(rng.choice(["no_correct", "yes", "no_other"], p=[0.6, 0.3, 0.1]))
                    )
                    feedback["at"].append(int(takes["at"][t]) + 20 * US)
            total += sel.size
            rate = total / max(time.perf_counter() - began, 1e-9)
            self.say(f"  takes: {total:,} / {m:,} ({rate:,.0f} takes/s)")
        self.drill_cards = drill_cards
        self._write_feedback(p, feedback)

    def _write_attempt_chunk(
        self,
        p: _Learners,
        takes: dict[str, np.ndarray],
        sel: np.ndarray,
        rep: np.ndarray,
        g: np.ndarray,
        tone: np.ndarray,
        prev: np.ndarray,
        verdict: np.ndarray,
        detected: np.ndarray,
        score: np.ndarray,
        conf: np.ndarray,
        acc: np.ndarray,
        flu: np.ndarray,
        comp: np.ndarray,
        pron: np.ndarray,
        tone_mean: np.ndarray,
        profile_used: np.ndarray,
    ) -> None:
        c, w, rng = self.content, self.w, self.rng
        item = self.takes_item[sel]
        said = self.takes_said[sel]
        at = takes["at"][sel]
        duration = np.round(0.6 + 0.32 * c.syl_count[item] + rng.exponential(0.4, sel.size), 3)
        verdict_names = VERDICT_NAMES
        rep_starts = np.r_[0, np.cumsum(c.syl_count[item])[:-1]]
        results = _result_json(
            c,
            item=item,
            rep_starts=rep_starts,
            g=g,
            tone=tone,
            detected=detected,
            verdict=verdict,
            score=score,
            conf=conf,
            said=said,
            duration=duration,
            profile=profile_used[sel],
            acc=acc,
            flu=flu,
            comp=comp,
            pron=pron,
            tone_mean=tone_mean,
        )
        attempt_ids = self.attempt_id[sel]
        users = p.ids[takes["learner"][sel]]
        stamps = w.stamps(at)
        tone_col = [None if math.isnan(x) else round(x, 1) for x in tone_mean.tolist()]
        w.write(
            "practice_attempt",
            {
                "id": attempt_ids.tolist(),
                "user_id": users.tolist(),
                "item_id": [c.item_ids[i] for i in item.tolist()],
                "mode": [MODES[x] for x in self.takes_mode[sel].tolist()],
                "text": [c.hanzi[i][:500] for i in item.tolist()],
                "engine": ["offline"] * sel.size,
                "accuracy_score": acc.tolist(),
                "fluency_score": flu.tolist(),
                "completeness_score": comp.tolist(),
                "pron_score": pron.tolist(),
                "tone_score": tone_col,
                "speaker_profile_used": profile_used[sel].tolist(),
                "result_json": results,
                "audio_path": [None] * sel.size,
                "audio_content_type": ["audio/webm"] * sel.size,
                "audio_bytes": (duration * 4_000).astype(np.int64).tolist(),
                "duration_s": duration.tolist(),
                "created_at": stamps,
            },
        )
        # Syllable rows only for takes of the phrase (a take of something else counts for nothing).
        keep = said[rep] < 3
        rows = np.flatnonzero(keep)
        if not rows.size:
            return
        pos = _cumcount(rep)
        prev_verdict = np.r_[-1, verdict[:-1]]
        prev_verdict[pos == 0] = -1
        syl_ids = w.next_id("practice_syllable_result", rows.size)
        kr = rep[rows]
        w.write(
            "practice_syllable_result",
            {
                "id": syl_ids.tolist(),
                "attempt_id": attempt_ids[kr].tolist(),
                "user_id": users[kr].tolist(),
                "position": pos[rows].tolist(),
                "grapheme": [c.syl_grapheme[x] for x in g[rows].tolist()],
                "pinyin": [c.syl_pinyin[x] for x in g[rows].tolist()],
                "expected_tone": tone[rows].tolist(),
                "detected_tone": [
                    None if (d == 0 or t == 5) else d
                    for d, t in zip(detected[rows].tolist(), tone[rows].tolist(), strict=True)
                ],
                "tone_score": score[rows].tolist(),
                "confidence": conf[rows].tolist(),
                "verdict": [verdict_names[v] for v in verdict[rows].tolist()],
                "correct": (verdict[rows] == 0).tolist(),
                "prev_expected_tone": [None if q == 0 else q for q in prev[rows].tolist()],
                "prev_verdict": [None if v < 0 else verdict_names[v] for v in prev_verdict[rows].tolist()],
                "created_at": [stamps[x] for x in kr.tolist()],
            },
        )

    def _write_feedback(self, p: _Learners, fb: dict[str, list[Any]]) -> None:
        c, w = self.content, self.w
        n = len(fb["attempt"])
        items = [int(self.takes_item[t]) for t in fb["take"]]
        w.write(
            "support_verdict_feedback",
            {
                "id": w.next_id("support_verdict_feedback", n).tolist(),
                "user_id": [int(p.ids[i]) for i in fb["learner"]],
                "attempt_id": fb["attempt"],
                "position": fb["pos"],
                "item_id": [c.item_ids[i] for i in items],
                "text": [c.hanzi[i] for i in items],
                "engine": ["offline"] * n,
                "grapheme": [c.syl_grapheme[s] for s in fb["syl"]],
                "expected_tone": [int(c.syl_tone[s]) for s in fb["syl"]],
                "detected_tone": [d or None for d in fb["detected"]],
                "prev_expected_tone": [int(c.syl_prev[s]) or None for s in fb["syl"]],
                "verdict": fb["verdict"],
                "answer": fb["answer"],
                "consent": [a == "no_correct" for a in fb["answer"]],
                "created_at": w.stamps(np.array(fb["at"], dtype=np.int64)),
            },
        )

    # -- learner_profile: onboarding, calibration, XP, streaks, today's counters
    def _profiles(self, p: _Learners, takes: dict[str, np.ndarray]) -> None:
        from sayzhong.practice.progress import (
            FIRST_TAKE_CREDIT_S,
            MAX_GAP_CREDIT_S,
            SITTING_GAP,
            XP_ALL_TONES,
            XP_BASE,
        )
        from sayzhong.pronunciation.profile import SpeakerProfile

        rng, w, ob, c = self.rng, self.w, self.onboarding, self.content
        learner, at = takes["learner"], takes["at"]
        counted = self.takes_said < 3
        # Scored takes that count for progress (all modes but calibration; placement included).
        xp = np.where(
            counted, XP_BASE + np.round(self.take_pron / 20) + XP_ALL_TONES * self.take_all_right, 0
        )
        tz = p.tz[learner]
        local = self.local_day(tz, at)
        has = np.zeros(p.n, dtype=bool)
        has[learner[counted]] = True
        first_at = np.full(p.n, -1, dtype=np.int64)
        last_at = np.full(p.n, -1, dtype=np.int64)
        cl, ca = learner[counted], at[counted]
        if cl.size:
            starts = _group_starts(cl)
            ends = np.r_[starts[1:], cl.size] - 1
            first_at[cl[starts]] = ca[starts]
            last_at[cl[ends]] = ca[ends]
        xp_total = np.bincount(learner, weights=xp, minlength=p.n).astype(np.int64)
        gap = np.r_[np.int64(-1), np.diff(at)]
        gap[_group_starts(learner)] = -1
        credit = np.where(
            (gap >= 0) & (gap <= SITTING_GAP.total_seconds() * US),
            np.minimum(gap / US, MAX_GAP_CREDIT_S),
            FIRST_TAKE_CREDIT_S,
        )
        credit = np.where(counted, credit, 0.0)
        # Streaks from the local days practised.
        streak: np.ndarray = np.zeros(p.n, dtype=np.int64)
        longest = np.zeros(p.n, dtype=np.int64)
        last_day = np.full(p.n, -1, dtype=np.int64)
        today_xp: np.ndarray = np.zeros(p.n, dtype=np.int64)
        today_n: np.ndarray = np.zeros(p.n, dtype=np.int64)
        today_s: np.ndarray = np.zeros(p.n)
        key = np.unique(cl * 100_000 + local[counted])
        if key.size:
            ul, ud = key // 100_000, key % 100_000
            new_run = np.r_[True, (ul[1:] != ul[:-1]) | (ud[1:] != ud[:-1] + 1)]
            run_id = np.cumsum(new_run) - 1
            run_len = np.bincount(run_id)
            lens = run_len[run_id]
            np.maximum.at(longest, ul, lens)
            ends = np.r_[ul[1:] != ul[:-1], True]
            streak[ul[ends]] = lens[ends]
            last_day[ul[ends]] = ud[ends]
            on_last = counted & (local == last_day[learner])
            today_xp = np.bincount(learner[on_last], weights=xp[on_last], minlength=p.n).astype(np.int64)
            today_n = np.bincount(learner[on_last], minlength=p.n).astype(np.int64)
            today_s = np.bincount(learner[on_last], weights=credit[on_last], minlength=p.n)
        last_item = np.full(p.n, -1, dtype=np.int64)
        practice_like = counted & np.isin(self.takes_mode, (0, 1, 4))
        pl = np.flatnonzero(practice_like)
        if pl.size:
            ends = np.r_[learner[pl][1:] != learner[pl][:-1], True]
            last_item[learner[pl][ends]] = self.takes_item[pl][ends]
        level_unit = np.array([0, 1, 2])[p.level]
        hz = np.where(rng.random(p.n) < 0.5, rng.normal(120, 18, p.n), rng.normal(210, 25, p.n)).clip(70, 320)
        profiles = [
            SpeakerProfile(
                median_st=round(12 * math.log2(h / 100.0), 2),
                range_st=round(float(r), 2),
                median_hz=round(float(h), 1),
                n_recordings=4,
                n_syllables=16,
            ).to_dict()
            if m
            else None
            for h, r, m in zip(hz.tolist(), rng.uniform(6, 14, p.n).tolist(), ob["mic"].tolist(), strict=True)
        ]
        has_profile = ob["started"] | has
        rows = np.flatnonzero(has_profile)
        start_date = self.start.date()

        def day_value(d: int) -> str | None:
            return (start_date + timedelta(days=d)).isoformat() if d >= 0 else None

        updated = np.maximum(np.maximum(ob["t_finished"], last_at), p.signup)
        w.write(
            "learner_profile",
            {
                "id": w.next_id("learner_profile", rows.size).tolist(),
                "user_id": p.ids[rows].tolist(),
                "goal": [
                    GOALS[x][0] if a else None
                    for x, a in zip(p.goal[rows].tolist(), ob["answered"][rows].tolist(), strict=True)
                ],
                "level": [
                    LEVELS[x][0] if a else None
                    for x, a in zip(p.level[rows].tolist(), ob["answered"][rows].tolist(), strict=True)
                ],
                "onboarding_started_at": w.stamps(ob["t_started"][rows], ob["started"][rows]),
                "onboarding_finished_at": w.stamps(ob["t_finished"][rows], ob["finished"][rows]),
                "mic_check_passed_at": w.stamps(ob["t_mic"][rows], ob["mic"][rows]),
                "speaker_profile_json": [
                    json.dumps(profiles[i]) if profiles[i] else None for i in rows.tolist()
                ],
                "speaker_profile_updated_at": w.stamps(ob["t_mic"][rows], ob["mic"][rows]),
                "placement_finished_at": w.stamps(ob["t_placed"][rows], ob["placement"][rows]),
                "recommended_unit_id": [
                    c.unit_ids[level_unit[i]] if ob["finished"][i] else None for i in rows.tolist()
                ],
                "last_item_id": [
                    c.item_ids[last_item[i]] if last_item[i] >= 0 else None for i in rows.tolist()
                ],
                "first_attempt_at": w.stamps(first_at[rows], first_at[rows] >= 0),
                "last_attempt_at": w.stamps(last_at[rows], last_at[rows] >= 0),
                "xp_total": xp_total[rows].tolist(),
                "streak_days": streak[rows].tolist(),
                "longest_streak_days": longest[rows].tolist(),
                "last_practice_date": [day_value(int(d)) for d in last_day[rows].tolist()],
                "today_date": [day_value(int(d)) for d in last_day[rows].tolist()],
                "today_xp": today_xp[rows].tolist(),
                "today_attempts": today_n[rows].tolist(),
                "today_active_seconds": np.round(today_s[rows], 1).tolist(),
                "created_at": w.stamps(np.where(ob["started"], ob["t_started"], first_at)[rows]),
                "updated_at": w.stamps(updated[rows]),
            },
        )
        self.first_at = first_at

    # -- the Free plan's daily take counter, as the entitlement check claims it
    def _daily_usage(self, p: _Learners, takes: dict[str, np.ndarray]) -> None:
        if "billing_daily_usage" not in self.w.tables:
            return  # a schema from before the counter existed
        free = ~takes["plus"] & ~takes["placement"]
        learner = takes["learner"][free]
        day = self.local_day(p.tz[learner], takes["at"][free])
        key, counts = np.unique(learner * 100_000 + day, return_counts=True)
        start_date = self.start.date()
        days = [(start_date + timedelta(days=int(d))).isoformat() for d in (key % 100_000).tolist()]
        self.w.write(
            "billing_daily_usage",
            {
                "id": self.w.next_id("billing_daily_usage", key.size).tolist(),
                "user_id": p.ids[key // 100_000].tolist(),
                "day": days,
                "scored": counts.tolist(),
            },
        )

    # -- FSRS review cards, replayed through the app's scheduler
    def _reviews(self, p: _Learners, takes: dict[str, np.ndarray]) -> None:
        learner, at = takes["learner"], takes["at"]
        pron, tone = self.take_pron, self.take_tone
        rated = self.take_decided & (self.takes_mode != 3)
        rating = np.where(
            (self.take_wrong > 0) | (pron < 50),
            1,
            np.where(pron < 70, 2, np.where((pron >= 90) & (np.isnan(tone) | (tone >= 90)), 4, 3)),
        )
        rows = np.flatnonzero(rated)
        u = learner[rows]
        it = self.takes_item[rows]
        t = at[rows]
        r = rating[rows]
        err = self.take_first_wrong[rows]
        if self.drill_cards:
            d = np.array([x[0] for x in self.drill_cards], dtype=np.int64)
            u = np.r_[u, learner[d]]
            it = np.r_[it, np.array([x[1] for x in self.drill_cards], dtype=np.int64)]
            t = np.r_[t, at[d]]
            r = np.r_[r, np.ones(d.size, dtype=np.int64)]
            err = np.r_[err, np.full(d.size, -2, dtype=np.int64)]
        order = np.lexsort((t, it, u))
        u, it, t, r, err = u[order], it[order], t[order], r[order], err[order]
        starts = _group_starts(u * 10_000 + it)
        ends = np.r_[starts[1:], u.size]
        c, w = self.content, self.w
        # The card's FSRS state comes from replaying its last three reviews through the app's
        # scheduler; gaps are bucketed so each (ratings, gaps) pattern is replayed only once.
        n_cards = starts.size
        last_rows = ends - 1
        key = np.zeros(n_cards, dtype=np.int64)
        for back in range(3):
            row = ends - 1 - back
            present = row >= starts
            rating_code = np.where(present, r[np.maximum(row, 0)], 0)
            key = key * 5 + rating_code
            if back < 2:
                gap = np.where(row - 1 >= starts, t[row] - t[np.maximum(row - 1, 0)], 0)
                key = key * 16 + np.searchsorted(_GAP_EDGES_US, gap, side="right")
        patterns, inverse = np.unique(key, return_inverse=True)
        replayed = [_replay(int(x)) for x in patterns.tolist()]
        state = [replayed[k][0] for k in inverse.tolist()]
        due = t[last_rows] + np.array([x[4] for x in replayed], dtype=np.int64)[inverse]
        flagged = np.where(err != -1, np.arange(err.size), -1)
        last_err = np.maximum.reduceat(flagged, starts) if n_cards else flagged[:0]
        err_at = np.where(last_err >= 0, t[np.maximum(last_err, 0)], -1)
        reasons: list[str | None] = []
        for k, item_index in zip(last_err.tolist(), it[starts].tolist(), strict=True):
            if k < 0:
                reasons.append(None)
            elif err[k] >= 0:
                g = int(err[k])
                reasons.append(f"{c.syl_grapheme[g]} ({c.syl_pinyin[g]}): expected tone {int(c.syl_tone[g])}")
            else:
                reasons.append(f"tone {self._drill_tone(item_index)}")
        inv = inverse.tolist()
        w.write(
            "practice_review_card",
            {
                "id": w.next_id("practice_review_card", n_cards).tolist(),
                "user_id": p.ids[u[starts]].tolist(),
                "item_id": [c.item_ids[i] for i in it[starts].tolist()],
                "state": state,
                "step": [replayed[k][1] for k in inv],
                "stability": [replayed[k][2] for k in inv],
                "difficulty": [replayed[k][3] for k in inv],
                "due": w.stamps(due),
                "last_review": w.stamps(t[last_rows]),
                "reps": (ends - starts).tolist(),
                "lapses": [replayed[k][5] for k in inv],
                "last_rating": r[last_rows].tolist(),
                "last_tone_error_at": w.stamps(err_at, err_at >= 0),
                "last_tone_error": reasons,
                "created_at": w.stamps(t[starts]),
                "updated_at": w.stamps(t[last_rows]),
            },
        )

    def _drill_tone(self, item: int) -> int:
        c = self.content
        return int(c.syl_tone[c.syl_start[item] + c.syl_count[item] - 1])

    # -- consent records and analytics events (visitors, funnel, page views)
    def _events(self, p: _Learners, takes: dict[str, np.ndarray]) -> None:
        rng, w, ob, c = self.rng, self.w, self.onboarding, self.content
        ev_at: list[np.ndarray] = []
        ev_name: list[list[str]] = []
        ev_who: list[list[str]] = []
        ev_props: list[list[dict[str, Any]]] = []

        def add(at: np.ndarray, name: str | list[str], who: list[str], props: list[dict[str, Any]]) -> None:
            ev_at.append(np.asarray(at, dtype=np.int64))
            ev_name.append([name] * len(who) if isinstance(name, str) else name)
            ev_who.append(who)
            ev_props.append(props)

        # Learners' browsers before sign-up: a consent answer, then a few page views.
        visitor = _visitor_ids(rng, p.n)
        answered = p.consent > 0
        accepted = p.consent == 1
        first_visit = p.signup - (rng.exponential(1.5, p.n) * DAY_US).astype(np.int64) - 120 * US
        first_visit = np.maximum(first_visit, self.start_us - 7 * DAY_US)
        consent_rows: dict[str, list[Any]] = {k: [] for k in ("visitor", "user", "analytics", "source", "at")}
        for i in np.flatnonzero(answered).tolist():
            consent_rows["visitor"] += [visitor[i], visitor[i]]
            consent_rows["user"] += [None, int(p.ids[i])]
            consent_rows["analytics"] += [bool(accepted[i])] * 2
            consent_rows["source"] += ["banner", "signup"]
            consent_rows["at"] += [int(first_visit[i]) + 5 * US, int(p.signup[i]) + US // 2]
        utm = [
            {
                "path": LANDING_PATHS[int(lp)],
                "channel": CHANNELS[ch][0],
                "utm_source": CHANNELS[ch][0],
                "utm_medium": CHANNELS[ch][1],
                **({"utm_campaign": cp} if cp else {}),
            }
            for lp, ch, cp in zip(p.landing.tolist(), p.channel.tolist(), p.campaign, strict=True)
        ]
        views = np.flatnonzero(accepted)
        add(first_visit[views] + 6 * US, "page_viewed", [visitor[i] for i in views], [utm[i] for i in views])
        add(
            p.signup[views] - 90 * US,
            "page_viewed",
            [visitor[i] for i in views],
            [{"path": "/signup"}] * views.size,
        )

        # The learner's own funnel (only with analytics consent, as the gate records it).
        uid = [str(int(x)) for x in p.ids]
        signed = views
        add(
            p.signup[signed] + US,
            "signed_up",
            [uid[i] for i in signed],
            [
                {
                    "channel": CHANNELS[int(p.channel[i])][0],
                    "campaign": p.campaign[i] or None,
                    "referrer_id": str(int(p.ids[p.referrer[i]])) if p.referrer[i] >= 0 else None,
                    "landing_page": LANDING_PATHS[int(p.landing[i])],
                    "device": DEVICES[int(p.device[i])][0],
                    "os": p.platform[i][0],
                    "browser": p.platform[i][1],
                    "country": COUNTRIES[int(p.tz[i])][0],
                    "visitor_id": visitor[i],
                }
                for i in signed.tolist()
            ],
        )
        for flag, when, name in (
            ("started", "t_started", "onboarding_started"),
            ("mic", "t_mic", "mic_check_passed"),
            ("finished", "t_finished", "onboarding_finished"),
        ):
            rows = np.flatnonzero(accepted & ob[flag])
            if name == "onboarding_finished":
                props = [
                    {
                        "goal": GOALS[int(p.goal[i])][0],
                        "level": LEVELS[int(p.level[i])][0],
                        "mic_check_passed": bool(ob["mic"][i]),
                        "placement_done": bool(ob["placement"][i]),
                    }
                    for i in rows.tolist()
                ]
            elif name == "mic_check_passed":
                props = [{"recordings": 4}] * rows.size
            else:
                props = [{}] * rows.size
            add(ob[when][rows], name, [uid[i] for i in rows], props)
        learner, at = takes["learner"], takes["at"]
        counted = (self.takes_said < 3) & (self.takes_mode != 3)
        firsts = np.flatnonzero(counted)
        if firsts.size:
            firsts = firsts[_group_starts(learner[firsts])]
            firsts = firsts[accepted[learner[firsts]]]
        add(
            at[firsts],
            "first_attempt_scored",
            [uid[int(learner[k])] for k in firsts],
            [
                {
                    "item_id": c.item_ids[int(self.takes_item[k])],
                    "mode": MODES[int(self.takes_mode[k])],
                    "engine": "offline",
                    "pron": float(self.take_pron[k]),
                }
                for k in firsts.tolist()
            ],
        )
        # A home and a practice page view at the start of each day's practice.
        day_key = learner * 100_000 + takes["day"]
        day_first = _group_starts(day_key)
        day_first = day_first[accepted[learner[day_first]] & ~takes["placement"][day_first]]
        paths = np.array(["/home", "/learn", "/review", "/practice"])[rng.integers(0, 4, day_first.size)]
        who = [uid[int(x)] for x in learner[day_first]]
        add(at[day_first] - 40 * US, "page_viewed", who, [{"path": "/home"}] * day_first.size)
        add(at[day_first] - 10 * US, "page_viewed", who, [{"path": str(x)} for x in paths.tolist()])

        # Visitors who never sign up: most bounce after one or two pages.
        n_anon = round(p.n * self.opt.visitors_per_learner)
        d = np.arange(self.days)
        weights = np.exp(np.log(4.0) * d / self.days) * WEEKDAY_SIGNUPS[(self.start.weekday() + d) % 7]
        anon_at = self.start_us + _choice(rng, n_anon, weights) * DAY_US + rng.integers(0, DAY_US, n_anon)
        anon_id = _visitor_ids(rng, n_anon)
        anon_consent = _choice(rng, n_anon, [0.2, 0.68, 0.12])
        anon_channel = _choice(rng, n_anon, [ch[3] for ch in CHANNELS[:-1]])
        for k in np.flatnonzero(anon_consent > 0).tolist():
            consent_rows["visitor"].append(anon_id[k])
            consent_rows["user"].append(None)
            consent_rows["analytics"].append(bool(anon_consent[k] == 1))
            consent_rows["source"].append("banner")
            consent_rows["at"].append(int(anon_at[k]) + 5 * US)
        seen = np.flatnonzero(anon_consent == 1)
        landing = rng.integers(0, len(LANDING_PATHS), seen.size)
        add(
            anon_at[seen] + 6 * US,
            "page_viewed",
            [anon_id[k] for k in seen],
            [
                {
                    "path": LANDING_PATHS[int(lp)],
                    "channel": CHANNELS[int(anon_channel[k])][0],
                    "utm_source": CHANNELS[int(anon_channel[k])][0],
                    "utm_medium": CHANNELS[int(anon_channel[k])][1],
                }
                for k, lp in zip(seen.tolist(), landing.tolist(), strict=True)
            ],
        )
        more = seen[rng.random(seen.size) < 0.45]
        add(
            anon_at[more] + rng.integers(20, 300, more.size) * US,
            "page_viewed",
            [anon_id[k] for k in more],
            [
                {"path": str(x)}
                for x in np.array(["/pricing", "/signup", "/learn", "/help"])[
                    rng.integers(0, 4, more.size)
                ].tolist()
            ],
        )

        from sayzhong.legal import documents

        cookie_version = documents.current("cookies").version
        c_at = np.array(consent_rows["at"], dtype=np.int64)
        c_order = np.argsort(c_at, kind="stable")
        nc = c_at.size
        w.write(
            "consent_record",
            {
                "id": w.next_id("consent_record", nc).tolist(),
                "visitor_id": [consent_rows["visitor"][k] for k in c_order.tolist()],
                "user_id": [consent_rows["user"][k] for k in c_order.tolist()],
                "analytics": [consent_rows["analytics"][k] for k in c_order.tolist()],
                "marketing": [consent_rows["analytics"][k] and (k % 3 == 0) for k in c_order.tolist()],
                "gpc": [False] * nc,
                "source": [consent_rows["source"][k] for k in c_order.tolist()],
                "banner_version": [1] * nc,
                "policy_version": [cookie_version] * nc,
                "created_at": w.stamps(c_at[c_order]),
            },
        )
        at_all = np.concatenate(ev_at) if ev_at else np.zeros(0, dtype=np.int64)
        names = [x for part in ev_name for x in part]
        whos = [x for part in ev_who for x in part]
        props = [x for part in ev_props for x in part]
        keep = np.flatnonzero(at_all < self.end_us)
        order = keep[np.argsort(at_all[keep], kind="stable")]
        ids = w.next_id("analytics_event", order.size)
        for lo in range(0, order.size, 200_000):
            part = order[lo : lo + 200_000]
            w.write(
                "analytics_event",
                {
                    "id": ids[lo : lo + part.size].tolist(),
                    "event": [names[k] for k in part.tolist()],
                    "distinct_id": [whos[k] for k in part.tolist()],
                    "properties": [json.dumps(props[k], separators=(",", ":")) for k in part.tolist()],
                    "created_at": w.stamps(at_all[part]),
                },
            )
        self.say(f"  events: {order.size:,} analytics events, {nc:,} consent records")

    # -- support tickets, messages and NPS answers
    def _support(
        self,
        p: _Learners,
        takes: dict[str, np.ndarray],
        billing: dict[str, Any],
        staff: dict[str, np.ndarray],
    ) -> None:
        rng, w = self.rng, self.w
        from sayzhong.support.routing import EXAMPLES_FILE

        examples = [
            json.loads(line)
            for line in Path(EXAMPLES_FILE).read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
        by_queue: dict[str, list[dict[str, Any]]] = {}
        for ex in examples:
            by_queue.setdefault(ex["queue"], []).append(ex)
        learner, at = takes["learner"], takes["at"]
        starts = _group_starts(learner)
        bounds = np.r_[starts, learner.size]
        who = learner[starts] if starts.size else np.zeros(0, dtype=np.int64)
        payer = np.zeros(p.n, dtype=bool)
        for i in billing["entitled"]:
            payer[i] = True
        p_ticket = 0.025 + 0.06 * payer
        filing = np.flatnonzero(rng.random(p.n) < p_ticket)
        queues = list(by_queue)
        tickets: dict[str, list[Any]] = {
            k: []
            for k in (
                "user",
                "subject",
                "body",
                "category",
                "queue",
                "priority",
                "conf",
                "status",
                "assignee",
                "created",
                "first",
                "resolved",
                "csat",
                "csat_at",
                "ctx",
            )
        }
        agents = staff["support"].tolist()
        for i in filing.tolist():
            k = int(np.searchsorted(who, i))
            if k >= who.size or who[k] != i:
                moment = int(p.signup[i]) + int(rng.integers(600, 3 * 86_400)) * US
            else:
                own = at[bounds[k] : bounds[k + 1]]
                moment = int(own[int(rng.integers(0, own.size))]) + int(rng.integers(60, 3600)) * US
            if moment >= self.end_us:
                continue
            weights = np.array([3.0 if (q == "billing" and payer[i]) else 1.0 for q in queues])
            queue = queues[int(_choice(rng, 1, weights)[0])]
            ex = by_queue[queue][int(rng.integers(0, len(by_queue[queue])))]
            age_days = (self.end_us - moment) / DAY_US
            first = moment + int(rng.lognormal(np.log(5 * 3600), 0.8)) * US
            resolved = first + int(rng.lognormal(np.log(20 * 3600), 1.0)) * US
            if age_days < 4 and rng.random() < 0.6:
                status = str(rng.choice(["new", "open", "waiting"]))
                resolved = -1
                if status == "new":
                    first = -1
            else:
                status = "closed" if rng.random() < 0.3 else "resolved"
            first = first if first < self.end_us else -1
            resolved = resolved if 0 <= resolved < self.end_us else -1
            if resolved < 0 and status in ("resolved", "closed"):
                status = "open"
            rated = resolved >= 0 and rng.random() < 0.55
            tickets["user"].append(int(p.ids[i]))
            tickets["subject"].append(ex["subject"][:200])
            tickets["body"].append(ex["body"])
            tickets["category"].append(queue if rng.random() < 0.7 else "other")
            tickets["queue"].append(queue)
            tickets["priority"].append(ex["priority"])
            tickets["conf"].append(round(float(rng.uniform(0.45, 0.98)), 3))
            tickets["status"].append(status)
            tickets["assignee"].append(agents[int(rng.integers(0, len(agents)))] if first >= 0 else None)
            tickets["created"].append(moment)
            tickets["first"].append(first)
            tickets["resolved"].append(resolved)
            tickets["csat"].append(
                int(rng.choice([1, 2, 3, 4, 5], p=[0.05, 0.05, 0.12, 0.33, 0.45])) if rated else None
            )
            tickets["csat_at"].append(resolved + 3600 * US if rated else -1)
            tickets["ctx"].append(
                json.dumps(
                    {
                        "plan": "plus" if payer[i] else "free",
                        "device": DEVICES[int(p.device[i])][0],
                        "timezone": COUNTRIES[int(p.tz[i])][1],
                    }
                )
            )
        order = np.argsort(np.array(tickets["created"], dtype=np.int64), kind="stable")
        tickets = {k: [v[x] for x in order.tolist()] for k, v in tickets.items()}
        n = len(tickets["user"])
        ids = w.next_id("support_ticket", n)
        created_at = np.array(tickets["created"], dtype=np.int64)
        first_at = np.array(tickets["first"], dtype=np.int64)
        resolved_at = np.array(tickets["resolved"], dtype=np.int64)
        csat_when = np.array(tickets["csat_at"], dtype=np.int64)
        updated = (
            np.maximum(np.maximum(created_at, first_at), np.maximum(resolved_at, csat_when))
            if n
            else created_at
        )
        w.write(
            "support_ticket",
            {
                "id": ids.tolist(),
                "user_id": tickets["user"],
                "subject": tickets["subject"],
                "body": tickets["body"],
                "category": tickets["category"],
                "queue": tickets["queue"],
                "priority": tickets["priority"],
                "routing_confidence": tickets["conf"],
                "routed_by": ["classifier"] * n,
                "status": tickets["status"],
                "assignee_id": tickets["assignee"],
                "context": tickets["ctx"],
                "created_at": w.stamps(created_at),
                "updated_at": w.stamps(updated),
                "first_response_at": w.stamps(first_at, first_at >= 0),
                "resolved_at": w.stamps(resolved_at, resolved_at >= 0),
                "sla_paused_seconds": [0] * n,
                "sla_warned": [""] * n,
                "csat_score": tickets["csat"],
                "csat_comment": [""] * n,
                "csat_at": w.stamps(csat_when, csat_when >= 0),
            },
        )
        m_ticket, m_author, m_kind, m_body, m_at = [], [], [], [], []
        for k in range(n):
            m_ticket.append(int(ids[k]))
            m_author.append(tickets["user"][k])
            m_kind.append("learner")
            m_body.append(tickets["body"][k])
            m_at.append(int(created_at[k]))
            if first_at[k] >= 0:
                m_ticket.append(int(ids[k]))
                m_author.append(tickets["assignee"][k])
                m_kind.append("staff")
                m_body.append(STAFF_REPLIES.get(tickets["queue"][k], STAFF_REPLIES["other"]))
                m_at.append(int(first_at[k]))
        m_order = np.argsort(np.array(m_at, dtype=np.int64), kind="stable")
        w.write(
            "support_message",
            {
                "id": w.next_id("support_message", len(m_at)).tolist(),
                "ticket_id": [m_ticket[x] for x in m_order.tolist()],
                "author_id": [m_author[x] for x in m_order.tolist()],
                "kind": [m_kind[x] for x in m_order.tolist()],
                "body": [m_body[x] for x in m_order.tolist()],
                "created_at": w.stamps(np.array(m_at, dtype=np.int64)[m_order]),
            },
        )
        # NPS: asked once after two weeks of use, answered by some.
        active_long = np.flatnonzero(self.first_at >= 0)
        asked = active_long[rng.random(active_long.size) < 0.25]
        when = self.first_at[asked] + 14 * DAY_US
        asked, when = asked[when < self.end_us], when[when < self.end_us]
        answered = rng.random(asked.size) < 0.6
        scores = np.clip(
            np.round(rng.normal(7.6, 2.0, asked.size) + 0.6 * p.engagement[asked]), 0, 10
        ).astype(int)
        nps_order = np.argsort(when, kind="stable")
        w.write(
            "support_nps_response",
            {
                "id": w.next_id("support_nps_response", asked.size).tolist(),
                "user_id": p.ids[asked][nps_order].tolist(),
                "score": [
                    int(s) if a else None
                    for s, a in zip(scores[nps_order].tolist(), answered[nps_order].tolist(), strict=True)
                ],
                "comment": [""] * asked.size,
                "created_at": w.stamps(when[nps_order]),
            },
        )
        self.say(f"  support: {n:,} tickets, {asked.size:,} NPS prompts")


VERDICT_NAMES = ("correct", "wrong_tone", "unclear", "neutral", "not_said")
ENGINE_VERDICTS = ("correct", "wrong", "uncertain", "not_judged", "not_said")


def _json_text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _result_json(
    c: _Content,
    *,
    item: np.ndarray,
    rep_starts: np.ndarray,
    g: np.ndarray,
    tone: np.ndarray,
    detected: np.ndarray,
    verdict: np.ndarray,
    score: np.ndarray,
    conf: np.ndarray,
    said: np.ndarray,
    duration: np.ndarray,
    profile: np.ndarray,
    acc: np.ndarray,
    flu: np.ndarray,
    comp: np.ndarray,
    pron: np.ndarray,
    tone_mean: np.ndarray,
) -> list[str]:
    """The engine's result JSON of each take (the shape `practice.results.parse_result` reads),
    written from string pieces: json.dumps on millions of nested dicts would dominate the run."""
    prefix = _syllable_prefixes(c)
    middle = _syllable_middles()
    key = (tone.astype(np.int64) * 100 + detected.astype(np.int64) * 10 + verdict.astype(np.int64)).tolist()
    pieces = [
        f'{prefix[gi]}{middle[ki]}"ToneScore":{s},"ToneConfidence":{cf}}}]}}'
        for gi, ki, s, cf in zip(g.tolist(), key, score.tolist(), conf.tolist(), strict=True)
    ]
    counts = c.syl_count[item].tolist()
    firsts = rep_starts.tolist()
    texts = _display_texts(c)
    out: list[str] = []
    for k, (it, first, n, st, du, pr, a, f, cm, pn, tm) in enumerate(
        zip(
            item.tolist(),
            firsts,
            counts,
            said.tolist(),
            duration.tolist(),
            profile.tolist(),
            acc.tolist(),
            flu.tolist(),
            comp.tolist(),
            pron.tolist(),
            tone_mean.tolist(),
            strict=True,
        )
    ):
        del k
        tone_text = "null" if math.isnan(tm) else repr(round(tm, 1))
        out.append(
            f'{{"RecognitionStatus":"Success","Duration":{int(du * 10_000_000)},"DisplayText":{texts[it]},'
            f'"Engine":"offline","Normalisation":"{"profile" if pr else "utterance"}",'
            f'"SpeakerProfileUsed":{"true" if pr else "false"},"SchemaVersion":2,"Synthetic":true,'
            f'"Utterance":{{"Status":"{SAID_STATUSES[st]}","Message":null}},"Warnings":[],'
            f'"NBest":[{{"PronunciationAssessment":{{"AccuracyScore":{a},"FluencyScore":{f},'
            f'"CompletenessScore":{cm},"PronScore":{pn},"ToneScore":{tone_text}}},'
            f'"Words":[{",".join(pieces[first : first + n])}]}}]}}'
        )
    return out


_PIECES: dict[int, list[str]] = {}


def _syllable_prefixes(c: _Content) -> list[str]:
    key = id(c)
    if key not in _PIECES:
        _PIECES[key] = [
            f'{{"Word":{_json_text(gr)},"Syllables":[{{"Syllable":{_json_text(py)},"Grapheme":{_json_text(gr)},'
            f'"ExpectedTone":{int(t)},'
            for gr, py, t in zip(c.syl_grapheme, c.syl_pinyin, c.syl_tone.tolist(), strict=True)
        ]
    return _PIECES[key]


def _display_texts(c: _Content) -> list[str]:
    key = -id(c)
    if key not in _PIECES:
        _PIECES[key] = [_json_text(h) for h in c.hanzi]
    return _PIECES[key]


def _syllable_middles() -> list[str]:
    """Detected tone, verdict and contours for every (expected tone, detected tone, verdict) code."""
    out = [""] * 600
    for t in range(6):
        for d in range(6):
            for v in range(5):
                detected = "null" if (d == 0 or t == 5) else str(d)
                contour = _json_text({"Target": _TARGETS.get(t, []), "Learner": _TARGETS.get(d, [])})
                out[t * 100 + d * 10 + v] = (
                    f'"DetectedTone":{detected},"ToneVerdict":"{ENGINE_VERDICTS[v]}","Contour":{contour},'
                )
    return out


# Gaps between reviews, bucketed (minutes): same sitting, learning steps, hours, days, weeks.
_GAP_MINUTES = (0, 1, 5, 10, 30, 60, 180, 720, 1440, 2880, 5760, 11520, 23040, 46080, 92160)
_GAP_EDGES_US = np.array(_GAP_MINUTES[1:], dtype=np.int64) * 60 * US


def _replay(key: int) -> tuple[int, int | None, float | None, float | None, int, int]:
    """FSRS state after a card's last (up to three) reviews, decoded from a pattern key:
    (state, step, stability, difficulty, due after the last review in µs, lapses)."""
    from fsrs import Card, Rating, State

    from sayzhong.practice.review import _SCHEDULER  # the app's own scheduler settings

    ratings: list[int] = []
    gaps: list[int] = []
    for back in range(3):  # key = (((r_last*16 + g_last)*5 + r_prev)*16 + g_prev)*5 + r_oldest
        if back > 0:
            gaps.append(key % 16)
            key //= 16
        ratings.append(key % 5)
        key //= 5
    # ratings and gaps now read oldest first
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    card = Card(card_id=1, due=moment)  # an explicit id: Card() sleeps to make a unique one
    lapses, seen = 0, False
    for n, rate in enumerate(ratings):
        if rate == 0:
            continue
        if seen:
            moment += timedelta(minutes=_GAP_MINUTES[gaps[n - 1]])
        seen = True
        was_review = card.state == State.Review
        card, _log = _SCHEDULER.review_card(card, Rating(rate), review_datetime=moment)
        lapses += int(was_review and rate == 1)
    due_after = int((card.due - moment).total_seconds() * US)
    return int(card.state), card.step, card.stability, card.difficulty, due_after, lapses


# Chao-scale contours drawn for each tone (relative time in ms over a 250 ms final).
_TARGETS: dict[int, list[list[float]]] = {
    1: [[0, 5.0], [250, 5.0]],
    2: [[0, 3.0], [250, 5.0]],
    3: [[0, 2.0], [125, 1.0], [250, 4.0]],
    4: [[0, 5.0], [250, 1.0]],
}


def generate(
    *, engine: Engine, options: GenerateOptions, progress: Progress | None = None
) -> GenerateSummary:
    """Fill `engine`'s database with synthetic history (see the module docstring)."""
    if options.learners < 1:
        raise GenerateRefusedError("Ask for at least one learner (--learners 1 or more).")
    if not 1 <= options.months <= 36:
        raise GenerateRefusedError("--months must be between 1 and 36.")
    check_target(engine, force=options.force)
    say = progress or (lambda _line: None)
    return _Generator(engine, options, say).run()


# --- command line ------------------------------------------------------------------------------------


def _bi_actions(sub: argparse._SubParsersAction) -> argparse._SubParsersAction:
    """The `bi` command's actions. `sub` is either the top-level commands (this module listed in
    sayzhong/cli.py) or already the `bi` actions (handed over by the BI command module)."""
    if sub.dest == "bi_command":
        return sub
    parser = sub.choices.get("bi") or sub.add_parser(
        "bi", help="business intelligence: reports and synthetic data"
    )
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return parser.add_subparsers(dest="bi_command", required=True, metavar="ACTION")


def _cli_generate(args: argparse.Namespace) -> int:
    from sayzhong.db import _create_engine
    from sayzhong.settings import get_settings

    url = args.database_url or get_settings().effective_database_url
    for plain in ("postgres://", "postgresql://"):  # the same spellings DATABASE_URL accepts
        if url.startswith(plain):
            url = "postgresql+psycopg://" + url[len(plain) :]
    try:
        end = date.fromisoformat(args.end) if args.end else None
    except ValueError:
        print(f"bi generate: --end must be a date like 2026-11-30, not {args.end!r}")
        return 2
    engine = _create_engine(url)
    try:
        summary = generate(
            engine=engine,
            options=GenerateOptions(
                learners=args.learners, months=args.months, seed=args.seed, end=end, force=args.force
            ),
            progress=print,
        )
    except SayZhongError as exc:
        print(f"bi generate: {exc.user_message}")
        return 1
    finally:
        engine.dispose()
    rate = summary.rows / max(summary.seconds, 1e-9)
    print(f"bi generate: {summary.rows:,} rows in {summary.seconds:.1f} s ({rate:,.0f} rows/s)")
    for name, count in sorted(summary.counts.items()):
        print(f"  {name:28} {count:>12,}")
    return 0


def register_cli(sub: argparse._SubParsersAction) -> None:
    """Add `bi generate`; registering twice (from sayzhong/cli.py and from the BI commands) is harmless."""
    actions = _bi_actions(sub)
    if "generate" in actions.choices:
        return
    cmd = actions.add_parser(
        "generate", help="fill an empty database with synthetic learners, takes, billing and tickets"
    )
    cmd.add_argument("--learners", type=int, required=True, help="how many learners (e.g. 100000)")
    cmd.add_argument("--months", type=int, default=12, help="months of history (default 12)")
    cmd.add_argument(
        "--seed", type=int, default=1, help="random seed: the same seed and end give the same rows"
    )
    cmd.add_argument("--end", default=None, help="first day not generated, YYYY-MM-DD (default today, UTC)")
    cmd.add_argument(
        "--database-url", default=None, help="target database (default: DATABASE_URL / the app's)"
    )
    cmd.add_argument(
        "--force", action="store_true", help="write even though the database already has learners"
    )
    cmd.set_defaults(handler=_cli_generate)
