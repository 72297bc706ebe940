"""Tone statistics from stored syllable results: per tone, per tone pair, and over time.

Accuracy counts only syllables with a decision: "correct" or "wrong_tone". Syllables the engine
could not judge ("unclear") are counted separately, and neutral-tone syllables are left out. A
tone pair (first → second) counts when both syllables had a decision; it is correct when both
tones were right, so a pair accuracy says how well the learner moves between the two tones.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, func, select

from sayzhong.db import as_utc, utcnow
from sayzhong.practice.models import SyllableResult
from sayzhong.practice.progress import local_date, zone
from sayzhong.practice.results import DECIDED
from sayzhong.practice.schemas import DailyTonePoint, ToneAccuracy, TonePairAccuracy, ToneStats

TONES = (1, 2, 3, 4)
MIN_SAMPLES = 5
WEAK_BELOW = 0.9
MAX_WEAKEST = 3


def _ratio(correct: int, total: int) -> float | None:
    return round(correct / total, 3) if total else None


def tone_stats(*, session: Session, user_id: int, min_samples: int = MIN_SAMPLES) -> ToneStats:
    by_tone: dict[int, dict[str, int]] = {t: defaultdict(int) for t in TONES}
    rows = session.exec(
        select(SyllableResult.expected_tone, SyllableResult.verdict, func.count())
        .where(SyllableResult.user_id == user_id, col(SyllableResult.expected_tone).in_(TONES))
        .group_by(col(SyllableResult.expected_tone), col(SyllableResult.verdict))
    ).all()
    for tone, verdict, count in rows:
        by_tone[int(tone)][str(verdict)] += int(count)
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

    # Five columns: beyond sqlmodel.select's typed overloads, so plain SQLAlchemy.
    pair_rows = session.execute(
        sa_select(
            col(SyllableResult.prev_expected_tone),
            col(SyllableResult.expected_tone),
            col(SyllableResult.prev_verdict),
            col(SyllableResult.verdict),
            func.count(),
        )
        .where(
            col(SyllableResult.user_id) == user_id,
            col(SyllableResult.prev_expected_tone).in_(TONES),
            col(SyllableResult.expected_tone).in_(TONES),
            col(SyllableResult.prev_verdict).in_(DECIDED),
            col(SyllableResult.verdict).in_(DECIDED),
        )
        .group_by(
            col(SyllableResult.prev_expected_tone),
            col(SyllableResult.expected_tone),
            col(SyllableResult.prev_verdict),
            col(SyllableResult.verdict),
        )
    ).all()
    pair_counts: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    for first, second, prev_verdict, verdict, count in pair_rows:
        entry = pair_counts[(int(first), int(second))]
        entry[1] += int(count)
        if prev_verdict == "correct" and verdict == "correct":
            entry[0] += int(count)
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
    rows = session.exec(
        select(SyllableResult.created_at, SyllableResult.expected_tone, SyllableResult.verdict).where(
            SyllableResult.user_id == user_id,
            col(SyllableResult.expected_tone).in_(TONES),
            col(SyllableResult.verdict).in_(DECIDED),
            col(SyllableResult.created_at) >= now - timedelta(days=days + 1),
        )
    ).all()
    buckets: dict[tuple[date, int], list[int]] = defaultdict(lambda: [0, 0])
    for created_at, tone, verdict in rows:
        day = local_date(created_at, tz)
        if day < first_day:
            continue
        entry = buckets[(day, int(tone))]
        entry[1] += 1
        if verdict == "correct":
            entry[0] += 1
    return [
        DailyTonePoint(date=day, tone=tone, accuracy=round(c / n, 3), count=n)
        for (day, tone), (c, n) in sorted(buckets.items())
    ]
