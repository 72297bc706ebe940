"""Tone statistics from stored syllable results: per tone, per tone pair, and over time.

Per tone and pair, the figures come from running tallies (`ToneTally`) updated when a take is
stored, so reading them costs the same for a learner with ten takes or ten thousand.

Accuracy counts only syllables with a decision: "correct" or "wrong_tone". Syllables the engine
could not judge ("unclear") are counted separately, and neutral-tone syllables are left out. A
tone pair (first → second) counts when both syllables had a decision; it is correct when both
tones were right, so a pair accuracy says how well the learner moves between the two tones.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, Select, TextClause, bindparam, case, literal_column, text
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, func, select

from sayzhong.db import as_utc, utcnow
from sayzhong.practice.models import SyllableResult, ToneTally
from sayzhong.practice.progress import local_date, zone
from sayzhong.practice.results import DECIDED
from sayzhong.practice.schemas import DailyTonePoint, ToneAccuracy, TonePairAccuracy, ToneStats

TONES = (1, 2, 3, 4)
MIN_SAMPLES = 5
WEAK_BELOW = 0.9
MAX_WEAKEST = 3


def _ratio(correct: int, total: int) -> float | None:
    return round(correct / total, 3) if total else None


def rebuild_tallies(*, first_user_id: int = 0, last_user_id: int = 2**62) -> TextClause:
    """INSERT … SELECT counting stored syllable results into the tallies of learners in the id range
    who have none yet: for the synthetic data generator, which writes takes in bulk (the migration's
    backfill is the same query over everyone)."""
    return text(
        "INSERT INTO practice_tone_tally"
        " (user_id, expected_tone, prev_expected_tone, verdict, prev_verdict, count)"
        " SELECT user_id, expected_tone, COALESCE(prev_expected_tone, 0), verdict,"
        " COALESCE(prev_verdict, ''), COUNT(*) FROM practice_syllable_result"
        " WHERE expected_tone IN (1, 2, 3, 4) AND user_id BETWEEN :first AND :last"
        " GROUP BY user_id, expected_tone, COALESCE(prev_expected_tone, 0), verdict,"
        " COALESCE(prev_verdict, '')"
    ).bindparams(first=first_user_id, last=last_user_id)


def add_to_tallies(
    *, session: Session, user_id: int, syllables: Iterable[tuple[int, int | None, str, str | None]]
) -> None:
    """Count a stored take's syllables, given as (expected tone, previous expected tone, verdict,
    previous verdict), into the learner's running tallies — in the caller's transaction.

    An atomic upsert (`count = count + n`), so two takes stored at once by the same learner both count.
    """
    batch: Counter[tuple[int, int, str, str]] = Counter(
        (int(tone), int(prev_tone or 0), str(verdict), str(prev_verdict or ""))
        for tone, prev_tone, verdict, prev_verdict in syllables
        if tone in TONES
    )
    if not batch:
        return
    table = ToneTally.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    rows = [
        {
            "user_id": user_id,
            "expected_tone": tone,
            "prev_expected_tone": prev_tone,
            "verdict": verdict,
            "prev_verdict": prev_verdict,
            "count": n,
        }
        for (tone, prev_tone, verdict, prev_verdict), n in sorted(batch.items())
    ]
    statement = insert(table).values(rows)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["user_id", "expected_tone", "prev_expected_tone", "verdict", "prev_verdict"],
            set_={"count": table.c.count + statement.excluded.count},
        )
    )


def tally_total_column(user_id: int | ColumnElement[int]) -> ScalarSelect[Any]:
    """How many tone 1-4 syllables the learner has stored (the sum of their tallies), as a scalar
    subquery (`user_id`: a value, a bind parameter or `User.id` in a statement that reads the
    account). It grows with every stored syllable that `tone_stats` or `accuracy_over_time` counts,
    so the pair (learner, total) names one state of both: the home page keeps figures under it."""
    return (
        sa_select(func.coalesce(func.sum(col(ToneTally.count)), 0))
        .where(col(ToneTally.user_id) == user_id)
        .scalar_subquery()
    )


# Five columns: beyond sqlmodel.select's typed overloads, so plain SQLAlchemy. Built once (read on
# every home load): compiled and hashed once.
_TALLIES = sa_select(
    col(ToneTally.expected_tone),
    col(ToneTally.prev_expected_tone),
    col(ToneTally.verdict),
    col(ToneTally.prev_verdict),
    col(ToneTally.count),
).where(col(ToneTally.user_id) == bindparam("user_id"))


def tone_stats(*, session: Session, user_id: int, min_samples: int = MIN_SAMPLES) -> ToneStats:
    """Per tone and tone pair, from the learner's running tallies (one small query)."""
    tallies = session.execute(_TALLIES, {"user_id": user_id}).all()
    by_tone: dict[int, dict[str, int]] = {t: defaultdict(int) for t in TONES}
    pair_counts: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    for tone, prev_tone, verdict, prev_verdict, count in tallies:
        by_tone[int(tone)][str(verdict)] += int(count)
        if prev_tone in TONES and prev_verdict in DECIDED and verdict in DECIDED:
            entry = pair_counts[(int(prev_tone), int(tone))]
            entry[1] += int(count)
            if prev_verdict == "correct" and verdict == "correct":
                entry[0] += int(count)
    tones = tuple(
        ToneAccuracy(
            tone=t,
            correct=by_tone[t]["correct"],
            total=by_tone[t]["correct"] + by_tone[t]["wrong_tone"],
            unclear=by_tone[t]["unclear"],
            accuracy=_ratio(by_tone[t]["correct"], by_tone[t]["correct"] + by_tone[t]["wrong_tone"]),
        )
        for t in TONES
    )
    pairs = tuple(
        TonePairAccuracy(first=a, second=b, correct=c, total=n, accuracy=_ratio(c, n))
        for (a, b), (c, n) in sorted(pair_counts.items())
    )

    weakest_tones = tuple(
        sorted(
            (t for t in tones if t.total >= min_samples and (t.accuracy or 0.0) < WEAK_BELOW),
            key=lambda t: (t.accuracy or 0.0, -t.total, t.tone),
        )[:MAX_WEAKEST]
    )
    weakest_pairs = tuple(
        sorted(
            (p for p in pairs if p.total >= min_samples and (p.accuracy or 0.0) < WEAK_BELOW),
            key=lambda p: (p.accuracy or 0.0, -p.total, p.first, p.second),
        )[:MAX_WEAKEST]
    )
    total = sum(t.total + t.unclear for t in tones)
    return ToneStats(
        tones=tones,
        pairs=pairs,
        weakest_tones=weakest_tones,
        weakest_pairs=weakest_pairs,
        min_samples=min_samples,
        total_syllables=total,
    )


@lru_cache(maxsize=8)
def _daily_counts(days: int) -> Select[tuple[int, int, str, int]]:
    """Decided syllables per local day index, tone and verdict since midnight `m0`; a take at or
    after midnight `m<days>` has index `days`. Built once per window length and bound with values
    on each call, so a page load neither rebuilds nor recompiles this 31-way CASE. Kept short (an
    alias, literal day numbers, GROUP BY the column's position): psycopg caches the parsing of
    statements up to 4 kB only, and re-parsing a longer one cost ≈ 10 % of a home load's CPU."""
    s = aliased(SyllableResult, name="s")
    created = col(s.created_at)
    day_index = case(
        *((created < bindparam(f"m{i + 1}"), literal_column(str(i))) for i in range(days)),
        else_=literal_column(str(days)),
    )
    return (
        sa_select(day_index, col(s.expected_tone), col(s.verdict), func.count())
        .where(
            col(s.user_id) == bindparam("user_id"),
            col(s.expected_tone).in_(TONES),
            col(s.verdict).in_(DECIDED),
            created >= bindparam("m0"),
        )
        .group_by(literal_column("1"), col(s.expected_tone), col(s.verdict))
    )


def accuracy_over_time(
    *,
    session: Session,
    user_id: int,
    days: int = 30,
    user_timezone: str = "UTC",
    now: datetime | None = None,
) -> list[DailyTonePoint]:
    """Per local day and tone 1-4: accuracy of decided syllables, for days with practice."""
    days = max(1, min(days, 366))
    tz = zone(user_timezone)
    now = as_utc(now or utcnow())
    first_day = local_date(now, tz) - timedelta(days=days - 1)
    # The database counts per local day: the UTC instants of the local midnights (DST included) cut
    # the window, so a few rows per day come back instead of one per syllable.
    midnights = [
        datetime.combine(first_day + timedelta(days=i), time(0), tzinfo=tz).astimezone(UTC)
        for i in range(days + 1)
    ]
    rows = session.execute(
        _daily_counts(days), {"user_id": user_id, **{f"m{i}": m for i, m in enumerate(midnights)}}
    ).all()
    counted: list[tuple[date, int, str, int]] = [
        (first_day + timedelta(days=int(index)), int(tone), str(verdict), int(count))
        for index, tone, verdict, count in rows
        if index < days
    ]
    if any(index >= days for index, *_ in rows):
        # Takes dated after today (a clock ahead, a job's `now`): each on its own local day.
        created = col(SyllableResult.created_at)
        decided = (
            SyllableResult.user_id == user_id,
            col(SyllableResult.expected_tone).in_(TONES),
            col(SyllableResult.verdict).in_(DECIDED),
        )
        later = session.exec(
            select(created, SyllableResult.expected_tone, SyllableResult.verdict, func.count())
            .where(*decided, created >= midnights[-1])
            .group_by(created, col(SyllableResult.expected_tone), col(SyllableResult.verdict))
        ).all()
        counted += [
            (local_date(at, tz), int(tone), str(verdict), int(count)) for at, tone, verdict, count in later
        ]
    buckets: dict[tuple[date, int], list[int]] = defaultdict(lambda: [0, 0])
    for day, tone, verdict, count in counted:
        entry = buckets[(day, tone)]
        entry[1] += count
        if verdict == "correct":
            entry[0] += count
    return [
        DailyTonePoint(date=day, tone=tone, accuracy=round(c / n, 3), count=n)
        for (day, tone), (c, n) in sorted(buckets.items())
    ]
