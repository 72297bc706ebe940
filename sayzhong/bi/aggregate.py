"""The reporting layer: compute the daily BI aggregates from the app's own tables.

`aggregate_days` recomputes any range of reporting days; each day's rows are deleted and inserted
again (the caller commits after every yielded day, so a day is replaced in one transaction and a
re-run gives the same rows — idempotent). Weekly cohort rows are recomputed for every activity week
the range touches. Only SQLAlchemy core expressions are used (no dialect SQL), so the same queries
run on SQLite and PostgreSQL; calendar days are mapped to UTC instants in Python with `zoneinfo`
(DST-safe), and the database only compares timestamps.

Who counts: accounts with the `learner` role that exist when the day is computed — an erased
learner disappears from days recomputed after the erasure (aggregates computed before keep their
anonymous counts). A learner is *active* on a day when they scored at least one take that day.
"""

from __future__ import annotations

from collections import Counter, defaultdict, deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from time import perf_counter
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
from sqlalchemy import Date, delete, func, insert
from sqlalchemy import literal as sa_literal
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from sayzhong.accounts.models import User
from sayzhong.analytics.models import AnalyticsEvent
from sayzhong.bi.models import (
    BiAggregateRun,
    BiCohortWeek,
    BiDailyAcquisition,
    BiDailyActivity,
    BiDailyCohortContent,
    BiDailyCohortLifecycle,
    BiDailyCohortReview,
    BiDailyContent,
    BiDailyLifecycle,
    BiDailyMastery,
    BiDailyRevenue,
    BiDailySegmentRevenue,
    BiDailySupport,
    BiDailyTone,
    BiDailyToneStart,
    BiMonthlyContent,
    BiMonthlyMastery,
    BiMonthlyToneBucket,
    BiMonthlyTonePair,
    BiMonthlyToneStart,
    BiToneProgress,
    ContentFigures,
    RevenueFigures,
)
from sayzhong.billing import catalog
from sayzhong.billing.models import BillingCustomer, BillingSubscription, BillingWebhookEvent
from sayzhong.db import as_utc, utcnow
from sayzhong.errors import ValidationError
from sayzhong.practice.models import Attempt, LearnerProfile, SyllableResult
from sayzhong.support.models import SupportTicket, VerdictFeedback

PASS_SCORE = 60.0
"""A take passes when its overall (pronunciation) score reaches this mark."""
ALL = "all"
UNKNOWN = "unknown"
LIFECYCLE_STATES = ("new", "current", "reactivated", "resurrected", "at_risk_wau", "at_risk_mau", "dormant")
TAKE_BUCKETS = ((1, "1"), (5, "2-5"), (10, "6-10"), (20, "11-20"), (50, "21-50"))
PAID_STATUSES = frozenset({"active", "past_due"})
MAX_RANGE_DAYS = 3 * 366
MASTERY_ACCURACY = 0.8
MASTERY_WINDOW = 20
"""A tone is mastered once ≥ 80 % of the learner's last 20 judged syllables of it were correct."""
MASTERY_CORRECT = 16
TONES = (1, 2, 3, 4)
IDS_PER_QUERY = 500
"""Ids per `IN (…)` list when the job looks rows up by learner or visitor."""
DAILY_TABLES = (
    BiDailyActivity,
    BiDailyLifecycle,
    BiDailyTone,
    BiDailyContent,
    BiDailyRevenue,
    BiDailySegmentRevenue,
    BiDailyAcquisition,
    BiDailySupport,
    BiDailyToneStart,
    BiDailyMastery,
    BiDailyCohortLifecycle,
    BiDailyCohortContent,
    BiDailyCohortReview,
)


# --- calendar ----------------------------------------------------------------------------------


def reporting_zone(name: str | None = None) -> ZoneInfo:
    if name is None:
        from sayzhong.settings import get_settings

        name = get_settings().bi_timezone
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            f"Unknown reporting time zone {name!r}; use an IANA name such as Europe/Berlin.",
            code="bi_bad_timezone",
        ) from None


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of a reporting day as UTC instants (23 or 25 hours long on DST days)."""
    start = datetime.combine(day, time(), zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(), zone).astimezone(UTC)
    return start, end


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    return as_utc(moment).astimezone(zone).date()


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def take_bucket(index: int) -> str:
    for upper, label in TAKE_BUCKETS:
        if index <= upper:
            return label
    return "51+"


def monthly_amount(plan_id: str | None) -> int:
    """A plan's monthly recurring revenue in minor units (annual plans divided by 12, rounded)."""
    plan = catalog.plan(plan_id or "")
    if plan is None:
        return 0
    return plan.amount if plan.interval == "month" else round(plan.amount / 12)


def parse_range(start: date, end: date) -> list[date]:
    if end < start:
        raise ValidationError("The end date is before the start date.", code="bi_bad_range")
    days = (end - start).days + 1
    if days > MAX_RANGE_DAYS:
        raise ValidationError(f"Aggregate at most {MAX_RANGE_DAYS} days at once.", code="bi_range_too_long")
    return [start + timedelta(days=n) for n in range(days)]


# --- facts loaded once per run -----------------------------------------------------------------


@dataclass
class _Learners:
    segment: dict[int, str] = field(default_factory=dict)
    campaign: dict[int, str] = field(default_factory=dict)
    referred: dict[int, bool] = field(default_factory=dict)
    signup_day: dict[int, date] = field(default_factory=dict)
    signups_on: dict[date, list[int]] = field(default_factory=lambda: defaultdict(list))
    first_active: dict[int, date] = field(default_factory=dict)
    last_before: dict[int, date] = field(default_factory=dict)
    """Each learner's last active day before the loaded window."""
    active: dict[int, set[date]] = field(default_factory=lambda: defaultdict(set))
    """Active days inside the loaded window."""

    def segments(self, user_id: int) -> tuple[str, str]:
        return ALL, self.channel(user_id)

    def channel(self, user_id: int) -> str:
        """The learner's own segment ("channel:<x>"), for the tables that store channels only."""
        return self.segment.get(user_id, f"channel:{UNKNOWN}")

    def cohort(self, user_id: int) -> date:
        """Monday of the learner's sign-up week (the cohort filter's dimension)."""
        return week_start(self.signup_day[user_id])


def _label(value: Any) -> str:
    text = str(value or "").strip().lower()[:70]
    return text or UNKNOWN


def _load_learners(session: Session, zone: ZoneInfo, since: datetime, until: datetime) -> _Learners:
    facts = _Learners()
    for user_id, created_at in session.exec(
        select(User.id, User.created_at).where(User.role == "learner")
    ).all():
        assert user_id is not None
        facts.signup_day[user_id] = local_day(created_at, zone)
        facts.signups_on[facts.signup_day[user_id]].append(user_id)
    signups = session.exec(
        select(AnalyticsEvent.distinct_id, AnalyticsEvent.properties).where(
            AnalyticsEvent.event == "signed_up"
        )
    ).all()
    for distinct_id, props in signups:
        if not distinct_id.isdigit() or int(distinct_id) not in facts.signup_day:
            continue
        props = props if isinstance(props, dict) else {}
        user_id = int(distinct_id)
        facts.segment[user_id] = "channel:" + _label(props.get("channel") or props.get("utm_source"))
        facts.campaign[user_id] = _label(props.get("campaign") or props.get("utm_campaign"))
        facts.referred[user_id] = bool(props.get("referral_code") or props.get("referrer_id"))
    learner = User.role == "learner"
    # No join here: grouped by user over the (user_id, created_at) index; non-learners dropped after.
    first = session.exec(
        select(Attempt.user_id, func.min(Attempt.created_at)).group_by(col(Attempt.user_id))
    ).all()
    for user_id, first_at in first:
        if user_id in facts.signup_day:
            facts.first_active[user_id] = local_day(first_at, zone)
    last = session.exec(
        select(Attempt.user_id, func.max(Attempt.created_at))
        .where(col(Attempt.created_at) < since)
        .group_by(col(Attempt.user_id))
    ).all()
    for user_id, last_at in last:
        if user_id in facts.signup_day:
            facts.last_before[user_id] = local_day(last_at, zone)
    rows = session.exec(
        select(Attempt.user_id, Attempt.created_at)
        .join(User, col(User.id) == col(Attempt.user_id))
        .where(learner, col(Attempt.created_at) >= since, col(Attempt.created_at) < until)
        .execution_options(yield_per=5000)
    )
    for user_id, created_at in rows:
        facts.active[user_id].add(local_day(created_at, zone))
    return facts


# --- lifecycle ---------------------------------------------------------------------------------

_NEVER = -(10**7)


class _Lifecycle:
    """Duolingo's learner states, stepped one day at a time over every learner at once (numpy).

    With `gap` = days since the learner's last active day before today: active today → new (first
    take ever), current (gap ≤ 6), reactivated (7–29), resurrected (≥ 30); not active → at-risk WAU
    (gap ≤ 6), at-risk MAU (7–29), dormant (≥ 30). Learners before their first take have no state.
    """

    def __init__(self, facts: _Learners) -> None:
        ids = sorted(facts.first_active)
        self.segments = sorted({facts.segment.get(u, f"channel:{UNKNOWN}") for u in ids})
        seg_of = {name: i for i, name in enumerate(self.segments)}
        self.seg = np.array([seg_of[facts.segment.get(u, f"channel:{UNKNOWN}")] for u in ids], dtype=np.int64)
        self.cohorts = sorted({facts.cohort(u) for u in ids})
        week_of = {week: i for i, week in enumerate(self.cohorts)}
        # One cell per (channel, sign-up week): the per-cohort rows are counted with one bincount.
        self.cell = self.seg * max(1, len(self.cohorts)) + np.array(
            [week_of[facts.cohort(u)] for u in ids], dtype=np.int64
        )
        self.first = np.array([facts.first_active[u].toordinal() for u in ids], dtype=np.int64)
        self.last = np.array(
            [facts.last_before[u].toordinal() if u in facts.last_before else _NEVER for u in ids],
            dtype=np.int64,
        )
        self.state = np.zeros(len(ids), dtype=np.int8)
        index = {u: i for i, u in enumerate(ids)}
        by_day: dict[date, list[int]] = defaultdict(list)
        for user_id, days in facts.active.items():
            for d in days:
                by_day[d].append(index[user_id])
        self.by_day = {d: np.array(v, dtype=np.int64) for d, v in by_day.items()}

    def step(self, day: date) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Advance to `day`: (active today, yesterday's states, today's states) as arrays."""
        today = day.toordinal()
        active = np.zeros(len(self.first), dtype=bool)
        if day in self.by_day:
            active[self.by_day[day]] = True
        gap = today - self.last
        state = np.zeros(len(self.first), dtype=np.int8)
        new = active & (self.first == today)
        back = active & ~new
        idle = (self.first < today) & ~active
        week, month, older = gap <= 6, (gap >= 7) & (gap <= 29), gap >= 30
        state[back & week], state[back & month], state[back & older] = 2, 3, 4
        state[idle & week], state[idle & month], state[idle & older] = 5, 6, 7
        state[new] = 1
        previous, self.state = self.state, state
        self.last = np.where(active, today, self.last)
        return active, previous, state

    def count(self, mask: np.ndarray) -> dict[str, int]:
        per = np.bincount(self.seg[mask], minlength=len(self.segments))
        out = {name: int(n) for name, n in zip(self.segments, per, strict=True) if n}
        out[ALL] = int(per.sum())
        return out

    def count_cohorts(self, mask: np.ndarray) -> dict[tuple[date, str], int]:
        """(sign-up week, channel) → learners in `mask`, non-empty cells only."""
        weeks = max(1, len(self.cohorts))
        per = np.bincount(self.cell[mask], minlength=len(self.segments) * weeks)
        return {
            (self.cohorts[i % weeks], self.segments[i // weeks]): int(per[i]) for i in np.flatnonzero(per)
        }


def _activity_and_lifecycle(
    session: Session, day: date, zone: ZoneInfo, facts: _Learners, cycle: _Lifecycle
) -> None:
    start, end = day_bounds(day, zone)
    active, previous, state = cycle.step(day)
    today = day.toordinal()
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    eligible = cycle.first <= today
    for key, mask in (
        ("dau", active),
        ("wau", eligible & (today - cycle.last <= 6)),
        ("mau", eligible & (today - cycle.last <= 29)),
    ):
        for segment, n in cycle.count(mask).items():
            counts[segment][key] = n
    for user_id in facts.signups_on.get(day, []):
        for segment in facts.segments(user_id):
            counts[segment]["new_learners"] += 1
    takes = session.exec(
        select(Attempt.user_id, Attempt.mode, Attempt.pron_score)
        .join(User, col(User.id) == col(Attempt.user_id))
        .where(User.role == "learner", col(Attempt.created_at) >= start, col(Attempt.created_at) < end)
    ).all()
    review: dict[tuple[date, str], list[int]] = defaultdict(lambda: [0, 0])
    for user_id, mode, score in takes:
        for segment in facts.segments(user_id):
            c = counts[segment]
            c["takes"] += 1
            if mode == "review":
                c["review_takes"] += 1
                c["review_passed"] += score >= PASS_SCORE
        if mode == "review":
            cell = review[(facts.cohort(user_id), facts.channel(user_id))]
            cell[0] += 1
            cell[1] += score >= PASS_SCORE
    for column, key in (
        (LearnerProfile.onboarding_started_at, "onboarding_started"),
        (LearnerProfile.onboarding_finished_at, "onboarding_finished"),
    ):
        for user_id in session.exec(
            select(LearnerProfile.user_id)
            .join(User, col(User.id) == col(LearnerProfile.user_id))
            .where(User.role == "learner", col(column) >= start, col(column) < end)
        ).all():
            for segment in facts.segments(user_id):
                counts[segment][key] += 1
    counts.setdefault(ALL, defaultdict(int))
    session.exec(
        insert(BiDailyActivity),
        params=[{"day": day, "segment": segment, **values} for segment, values in sorted(counts.items())],
    )
    rows = []
    for code, name in enumerate(LIFECYCLE_STATES, start=1):
        now = cycle.count(state == code)
        before = cycle.count(previous == code)
        kept = cycle.count((previous == code) & active)
        for segment in sorted(set(now) | set(before)):
            if now.get(segment, 0) or before.get(segment, 0):
                rows.append(
                    {
                        "day": day,
                        "segment": segment,
                        "state": name,
                        "learners": now.get(segment, 0),
                        "prev_learners": before.get(segment, 0),
                        "prev_active_today": kept.get(segment, 0),
                    }
                )
    if rows:
        session.exec(insert(BiDailyLifecycle), params=rows)
    cohort_rows = []
    for code, name in enumerate(LIFECYCLE_STATES, start=1):
        now_c = cycle.count_cohorts(state == code)
        before_c = cycle.count_cohorts(previous == code)
        kept_c = cycle.count_cohorts((previous == code) & active)
        for week, segment in sorted(set(now_c) | set(before_c)):
            cohort_rows.append(
                {
                    "day": day,
                    "cohort_week": week,
                    "segment": segment,
                    "state": name,
                    "learners": now_c.get((week, segment), 0),
                    "prev_learners": before_c.get((week, segment), 0),
                    "prev_active_today": kept_c.get((week, segment), 0),
                }
            )
    if cohort_rows:
        session.exec(insert(BiDailyCohortLifecycle), params=cohort_rows)
    if review:
        session.exec(
            insert(BiDailyCohortReview),
            params=[
                {
                    "day": day,
                    "cohort_week": k[0],
                    "segment": k[1],
                    "review_takes": v[0],
                    "review_passed": v[1],
                }
                for k, v in sorted(review.items())
            ],
        )


# --- learning ----------------------------------------------------------------------------------


def _tone_and_content(
    session: Session, day: date, zone: ZoneInfo, facts: _Learners, taken: dict[int, int]
) -> None:
    """`taken` holds each learner's take count before this day and is advanced by it."""
    start, end = day_bounds(day, zone)
    attempts = session.execute(  # five columns: SQLAlchemy's select (SQLModel's types stop at four)
        sa_select(
            col(Attempt.id),
            col(Attempt.user_id),
            col(Attempt.item_id),
            col(Attempt.pron_score),
            col(Attempt.speaker_profile_used),
        )
        .join(User, col(User.id) == col(Attempt.user_id))
        .where(col(User.role) == "learner", col(Attempt.created_at) >= start, col(Attempt.created_at) < end)
        .order_by(col(Attempt.created_at), col(Attempt.id))
    ).all()
    index: dict[int, int] = {}
    per_learner_item: dict[tuple[str, int], list[float]] = defaultdict(list)
    for attempt_id, user_id, item_id, score, _profile in attempts:
        assert attempt_id is not None
        taken[user_id] = taken.get(user_id, 0) + 1
        index[attempt_id] = taken[user_id]
        per_learner_item[(item_id, user_id)].append(score)
    # Counted per (item, sign-up week, channel); the per-channel rows are their sums.
    by_cohort: dict[tuple[str, date, str], dict[str, float]] = defaultdict(
        lambda: dict.fromkeys(CONTENT_FIGURES, 0)
    )
    for (item_id, user_id), scores in per_learner_item.items():
        row = by_cohort[(item_id, facts.cohort(user_id), facts.channel(user_id))]
        row["takes"] += len(scores)
        row["failed_takes"] += sum(1 for s in scores if s < PASS_SCORE)
        row["learners"] += 1
        row["gave_up"] += scores[-1] < PASS_SCORE
        if len(scores) > 1:
            row["repeated"] += 1
            row["improvement_sum"] += scores[-1] - scores[0]
    content: dict[tuple[str, str], dict[str, float]] = defaultdict(_content_cell)
    for (item_id, _week, segment), figures in by_cohort.items():
        for name, value in figures.items():
            content[(item_id, segment)][name] += value
    for model, cells in ((BiDailyContent, content), (BiDailyCohortContent, by_cohort)):
        if cells:
            keys = (
                ("item_id", "segment") if model is BiDailyContent else ("item_id", "cohort_week", "segment")
            )
            session.exec(
                insert(model),
                params=[
                    {"day": day, **dict(zip(keys, k, strict=True)), **v} for k, v in sorted(cells.items())
                ],
            )
    profile_of = {a[0]: bool(a[4]) for a in attempts}
    tones: dict[tuple[date, str, int, int, bool, str], list[int]] = defaultdict(lambda: [0, 0])
    syllables = session.execute(
        sa_select(
            col(SyllableResult.attempt_id),
            col(SyllableResult.user_id),
            col(SyllableResult.expected_tone),
            col(SyllableResult.prev_expected_tone),
            col(SyllableResult.correct),
        )
        .join(Attempt, col(Attempt.id) == col(SyllableResult.attempt_id))
        .join(User, col(User.id) == col(Attempt.user_id))
        .where(
            col(User.role) == "learner",
            col(Attempt.created_at) >= start,
            col(Attempt.created_at) < end,
            col(SyllableResult.verdict).in_(("correct", "wrong_tone")),
        )
    ).all()
    for attempt_id, user_id, tone, prev_tone, correct in syllables:
        signup = facts.signup_day.get(user_id)
        if signup is None or attempt_id not in index:
            continue
        key = (
            week_start(signup),
            facts.channel(user_id),
            tone,
            prev_tone or 0,
            profile_of[attempt_id],
            take_bucket(index[attempt_id]),
        )
        tones[key][0] += 1
        tones[key][1] += bool(correct)
    if tones:
        session.exec(
            insert(BiDailyTone),
            params=[
                {
                    "day": day,
                    "cohort_week": k[0],
                    "segment": k[1],
                    "tone": k[2],
                    "prev_tone": k[3],
                    "speaker_profile": k[4],
                    "take_bucket": k[5],
                    "judged": v[0],
                    "correct": v[1],
                }
                for k, v in sorted(tones.items())
            ],
        )


def _content_cell() -> dict[str, float]:
    return dict.fromkeys(CONTENT_FIGURES, 0)


def _prior_takes(session: Session, users: Iterable[int], before: datetime) -> dict[int, int]:
    """Each of `users`' takes before `before` (the take number their next take continues from), counted
    per learner over the (user_id, created_at) index rather than over the whole table."""
    ids = sorted(users)
    out: dict[int, int] = {}
    for first in range(0, len(ids), IDS_PER_QUERY):
        rows = session.exec(
            select(Attempt.user_id, func.count())
            .where(
                col(Attempt.user_id).in_(ids[first : first + IDS_PER_QUERY]), col(Attempt.created_at) < before
            )
            .group_by(col(Attempt.user_id))
        ).all()
        out.update((user_id, int(n)) for user_id, n in rows)
    return out


# --- time to mastery ---------------------------------------------------------------------------


@dataclass
class _Mastery:
    """Per reporting day: who started a tone and who first mastered one (with their days and takes)."""

    started: dict[date, Counter[tuple[date, str, int]]] = field(default_factory=lambda: defaultdict(Counter))
    mastered: dict[date, Counter[tuple[date, str, int, int, int]]] = field(
        default_factory=lambda: defaultdict(Counter)
    )


@dataclass
class _ToneWalk:
    """One learner's walk through their judged syllables of one tone (`BiToneProgress.tones` entry)."""

    first_at: datetime
    takes: int = 0
    recent: deque[bool] = field(default_factory=lambda: deque(maxlen=MASTERY_WINDOW))
    mastered_at: datetime | None = None
    last_attempt: int = -1

    @classmethod
    def load(cls, saved: dict[str, Any]) -> _ToneWalk:
        mastered = saved.get("mastered_at")
        return cls(
            first_at=datetime.fromisoformat(saved["first_at"]),
            takes=int(saved.get("takes", 0)),
            recent=deque((c == "1" for c in str(saved.get("recent", ""))), maxlen=MASTERY_WINDOW),
            mastered_at=datetime.fromisoformat(mastered) if mastered else None,
        )

    def dump(self) -> dict[str, Any]:
        return {
            "first_at": self.first_at.isoformat(),
            "takes": self.takes,
            "recent": "".join("1" if c else "0" for c in self.recent),
            "mastered_at": self.mastered_at.isoformat() if self.mastered_at else None,
        }

    def add(self, attempt_id: int, correct: bool, at: datetime) -> bool:
        """Count one judged syllable; True when it is the one that masters the tone."""
        if self.mastered_at is not None:
            return False
        if attempt_id != self.last_attempt:
            self.takes, self.last_attempt = self.takes + 1, attempt_id
        self.recent.append(correct)
        if len(self.recent) == MASTERY_WINDOW and sum(self.recent) >= MASTERY_CORRECT:
            self.mastered_at = at
            return True
        return False


def _mastery(session: Session, zone: ZoneInfo, facts: _Learners, start: date, end: date) -> _Mastery:
    """Each learner's time to mastery of each tone, for the learners who took a take in the range.

    Only they can have started or mastered a tone on one of its days. A learner's judged syllables of a
    tone are walked in take order; the tone is mastered at the first take after which at least
    `MASTERY_CORRECT` of the last `MASTERY_WINDOW` of them were correct. Days count reporting days from
    the first take of the tone; takes count the takes with a judged syllable of it, both ends included.

    Bounded: the walk's state as of the start of the range's last but one day is saved per learner
    (`BiToneProgress`), and a later run whose range starts at or after that moment resumes from it,
    reading only the syllables judged since (the nightly run: three days of them, not every active
    learner's whole history). Tones mastered before the range are skipped. Otherwise (an older range,
    a first run) the learner's history is read from the beginning and the state saved anew.
    """
    out = _Mastery()
    users = sorted(u for u, days in facts.active.items() if any(start <= d <= end for d in days))
    begin, until = day_bounds(start, zone)[0], day_bounds(end, zone)[1]
    # Saved as of the start of the range's last but one day: the next nightly range (one day later) and
    # a re-run of the same two days both begin at or after it.
    snap = max(begin, day_bounds(end - timedelta(days=1), zone)[0])
    saved: dict[int, BiToneProgress] = {}
    for first in range(0, len(users), IDS_PER_QUERY):
        chunk = users[first : first + IDS_PER_QUERY]
        for row in session.exec(select(BiToneProgress).where(col(BiToneProgress.user_id).in_(chunk))).all():
            if as_utc(row.as_of) <= begin:
                saved[row.user_id] = row
    # Learners grouped by where their read starts: the saved moment, or the beginning (None).
    groups: dict[datetime | None, list[int]] = defaultdict(list)
    for user_id in users:
        groups[as_utc(saved[user_id].as_of) if user_id in saved else None].append(user_id)
    states: dict[int, dict[str, Any]] = {}
    for since, members in groups.items():
        for first in range(0, len(members), IDS_PER_QUERY):
            chunk = members[first : first + IDS_PER_QUERY]
            walks: dict[tuple[int, int], _ToneWalk] = {}
            for user_id in chunk:
                if user_id in saved:
                    for name, entry in saved[user_id].tones.items():
                        walks[(user_id, int(name))] = _ToneWalk.load(entry)
            snapshot: dict[tuple[int, int], dict[str, Any]] = {}
            rows = session.execute(
                sa_select(
                    col(SyllableResult.user_id),
                    col(SyllableResult.expected_tone),
                    col(SyllableResult.correct),
                    col(SyllableResult.attempt_id),
                    col(SyllableResult.created_at),
                )
                .where(
                    col(SyllableResult.user_id).in_(chunk),
                    col(SyllableResult.expected_tone).in_(TONES),
                    col(SyllableResult.verdict).in_(("correct", "wrong_tone")),
                    *([col(SyllableResult.created_at) >= since] if since is not None else []),
                    col(SyllableResult.created_at) < until,
                )
                .order_by(
                    col(SyllableResult.user_id),
                    col(SyllableResult.expected_tone),
                    col(SyllableResult.created_at),
                    col(SyllableResult.attempt_id),
                    col(SyllableResult.position),
                )
                .execution_options(yield_per=5000)
            )
            for user_id, tone, correct, attempt_id, created_at in rows:
                at, key = as_utc(created_at), (user_id, tone)
                walk = walks.get(key)
                if walk is None:
                    walk = walks[key] = _ToneWalk(first_at=at)
                    first_day = local_day(at, zone)
                    if start <= first_day <= end:
                        out.started[first_day][(facts.cohort(user_id), facts.channel(user_id), tone)] += 1
                if at >= snap and key not in snapshot:
                    snapshot[key] = walk.dump()  # the state as of `snap`
                if walk.add(attempt_id, bool(correct), at):
                    day = local_day(at, zone)
                    if start <= day <= end:
                        days = (day - local_day(walk.first_at, zone)).days
                        key5 = (facts.cohort(user_id), facts.channel(user_id), tone, days, walk.takes)
                        out.mastered[day][key5] += 1
            for (user_id, tone), walk in walks.items():
                if walk.first_at < snap:
                    states.setdefault(user_id, {})[str(tone)] = snapshot.get((user_id, tone)) or walk.dump()
    _save_progress(session, users, states, snap)
    return out


def _save_progress(
    session: Session, users: list[int], states: dict[int, dict[str, Any]], snap: datetime
) -> None:
    """Replace the walked learners' saved states with their states as of `snap`."""
    for first in range(0, len(users), IDS_PER_QUERY):
        chunk = users[first : first + IDS_PER_QUERY]
        session.exec(delete(BiToneProgress).where(col(BiToneProgress.user_id).in_(chunk)))
    rows = [{"user_id": u, "as_of": snap, "tones": tones} for u, tones in sorted(states.items())]
    rows += [{"user_id": u, "as_of": snap, "tones": {}} for u in users if u not in states]
    for first in range(0, len(rows), 5000):
        session.exec(insert(BiToneProgress), params=rows[first : first + 5000])


MASTERY_START_KEYS = ("cohort_week", "segment", "tone")
MASTERY_KEYS = (*MASTERY_START_KEYS, "days", "takes")


def _write_mastery(session: Session, day: date, mastery: _Mastery) -> None:
    for model, names, counts in (
        (BiDailyToneStart, MASTERY_START_KEYS, mastery.started.get(day)),
        (BiDailyMastery, MASTERY_KEYS, mastery.mastered.get(day)),
    ):
        if counts:
            session.exec(
                insert(model),
                params=[
                    {"day": day, **dict(zip(names, k, strict=True)), "learners": n}
                    for k, n in sorted(counts.items())
                ],
            )


# --- revenue -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SubState:
    at: datetime
    status: str
    plan_id: str


@dataclass
class _Billing:
    timelines: dict[tuple[str, str], list[SubState]] = field(default_factory=dict)
    """(customer key, subscription id) → states in time order."""
    customer_user: dict[str, int] = field(default_factory=dict)
    invoices_paid: list[tuple[datetime, str, int]] = field(default_factory=list)
    invoices_failed: list[tuple[datetime, str]] = field(default_factory=list)
    refunds: list[tuple[datetime, int]] = field(default_factory=list)
    invoice_customer: dict[str, str] = field(default_factory=dict)
    """Invoice id → customer key (for the revenue segments): the event's `customer`, else the customer of
    the invoice's subscription; "" when neither is known."""
    invoice_subscription: dict[str, str] = field(default_factory=dict)
    """Invoice id → its subscription id (the event's `subscription`, or a local subscription whose latest
    invoice it is)."""
    refund_customer: list[str] = field(default_factory=list)
    """The customer key of each entry of `refunds`, in the same order (the event's `customer`, else that
    of the refunded invoice)."""
    refund_invoice: list[str] = field(default_factory=list)
    currency: str = "eur"
    first_paid_at: dict[str, datetime] = field(default_factory=dict)
    """Customer → the first moment any of their subscriptions was paid (new vs reactivation)."""


def _event_time(payload: dict[str, Any], received: datetime) -> datetime:
    created = payload.get("created")
    if isinstance(created, int | float) and created > 0:
        return datetime.fromtimestamp(created, UTC)
    return as_utc(received)


def _plan_of(obj: dict[str, Any]) -> str:
    plan = obj.get("plan")
    if isinstance(plan, dict) and plan.get("id"):
        return str(plan["id"])
    items = (obj.get("items") or {}).get("data") or []
    if items and isinstance(items[0], dict):
        first = items[0]
        for key in ("plan", "price"):
            if isinstance(first.get(key), dict) and first[key].get("id"):
                return str(first[key]["id"])
    return ""


def load_billing(session: Session) -> _Billing:
    """Subscription timelines from the stored Stripe events (the local copy of each subscription
    fills in for subscriptions without events), plus paid/failed invoices and refunds."""
    billing = _Billing()
    user_of_sub: dict[str, int] = {}
    for customer_id, user_id in session.exec(
        select(BillingCustomer.stripe_customer_id, BillingCustomer.user_id)
    ).all():
        billing.customer_user[customer_id] = user_id
    subs = session.exec(select(BillingSubscription)).all()
    for sub in subs:
        user_of_sub[sub.stripe_subscription_id] = sub.user_id
    customer_of_user = {u: c for c, u in billing.customer_user.items()}
    seen_charges: dict[str, int] = {}
    paid_ids: set[str] = set()
    failed_ids: set[str] = set()
    events = session.exec(
        select(BillingWebhookEvent.type, BillingWebhookEvent.payload, BillingWebhookEvent.received_at)
    ).all()
    parsed = sorted(
        (
            (_event_time(p if isinstance(p, dict) else {}, r), t, p if isinstance(p, dict) else {})
            for t, p, r in events
        ),
        key=lambda e: e[0],
    )
    for at, kind, payload in parsed:
        obj = (payload.get("data") or {}).get("object") or {}
        if not isinstance(obj, dict):
            continue
        if kind.startswith("customer.subscription.") and obj.get("id"):
            sub_id = str(obj["id"])
            customer = str(obj.get("customer") or "")
            if not customer and sub_id in user_of_sub:
                customer = customer_of_user.get(user_of_sub[sub_id], f"user:{user_of_sub[sub_id]}")
            status = "canceled" if kind == "customer.subscription.deleted" else str(obj.get("status") or "")
            billing.timelines.setdefault((customer, sub_id), []).append(SubState(at, status, _plan_of(obj)))
        elif kind in ("invoice.paid", "invoice.payment_succeeded"):
            inv = str(obj.get("id") or "")
            amount = int(obj.get("amount_paid") or 0)
            if inv and inv not in paid_ids and amount > 0:
                paid_ids.add(inv)
                billing.invoice_customer[inv] = str(obj.get("customer") or "")
                billing.invoice_subscription.setdefault(inv, str(obj.get("subscription") or ""))
                billing.invoices_paid.append((at, inv, amount))
                billing.currency = str(obj.get("currency") or billing.currency)
        elif kind == "invoice.payment_failed":
            inv = str(obj.get("id") or "")
            if inv and inv not in failed_ids:
                failed_ids.add(inv)
                billing.invoice_customer.setdefault(inv, str(obj.get("customer") or ""))
                billing.invoice_subscription.setdefault(inv, str(obj.get("subscription") or ""))
                billing.invoices_failed.append((at, inv))
        elif kind == "charge.refunded":
            charge = str(obj.get("id") or "")
            total = int(obj.get("amount_refunded") or 0)
            new = total - seen_charges.get(charge, 0)
            if charge and new > 0:
                seen_charges[charge] = total
                billing.refunds.append((at, new))
                billing.refund_customer.append(str(obj.get("customer") or ""))
                billing.refund_invoice.append(str(obj.get("invoice") or ""))
    known = {sub_id for _customer, sub_id in billing.timelines}
    for sub in subs:
        if sub.stripe_subscription_id in known:
            continue
        customer = customer_of_user.get(sub.user_id, f"user:{sub.user_id}")
        states = [SubState(as_utc(sub.created_at), sub.status, sub.plan_id)]
        if sub.status in ("canceled", "incomplete_expired"):
            states = [
                SubState(as_utc(sub.created_at), "active", sub.plan_id),
                SubState(as_utc(sub.synced_at), "canceled", sub.plan_id),
            ]
        billing.timelines[(customer, sub.stripe_subscription_id)] = states
    _attribute_payments(billing, subs, customer_of_user)
    for (customer, _sub), states in billing.timelines.items():
        for state in states:
            if state.status in PAID_STATUSES:
                known_at = billing.first_paid_at.get(customer)
                billing.first_paid_at[customer] = state.at if known_at is None else min(known_at, state.at)
                break
    return billing


def _attribute_payments(
    billing: _Billing, subs: Sequence[BillingSubscription], customer_of_user: dict[int, str]
) -> None:
    """Invoices and refunds whose event named no customer get the customer of their subscription (the
    invoice's `subscription`, or the local subscription whose latest invoice it is), refunds that of
    their invoice — so the per-channel revenue adds up to the whole business's without an
    "unknown" share that belongs to known learners."""
    customer_of_sub: dict[str, str] = {}
    for sub in subs:
        customer_of_sub[sub.stripe_subscription_id] = customer_of_user.get(sub.user_id, f"user:{sub.user_id}")
        if sub.latest_invoice_id:
            billing.invoice_subscription.setdefault(sub.latest_invoice_id, sub.stripe_subscription_id)
            if not billing.invoice_subscription[sub.latest_invoice_id]:
                billing.invoice_subscription[sub.latest_invoice_id] = sub.stripe_subscription_id
    for customer, sub_id in billing.timelines:
        if customer:
            customer_of_sub[sub_id] = customer  # what the subscription's own events said wins
    for inv, customer in billing.invoice_customer.items():
        if not customer:
            billing.invoice_customer[inv] = customer_of_sub.get(billing.invoice_subscription.get(inv, ""), "")
    for n, customer in enumerate(billing.refund_customer):
        if not customer:
            billing.refund_customer[n] = billing.invoice_customer.get(billing.refund_invoice[n], "")


def _state_at(states: list[SubState], moment: datetime) -> SubState | None:
    current = None
    for state in states:
        if state.at >= moment:
            break
        current = state
    return current


def customer_mrr(billing: _Billing, moment: datetime) -> dict[str, tuple[int, bool]]:
    """Customer → (MRR, has a trialing subscription) at `moment`."""
    out: dict[str, tuple[int, bool]] = {}
    for (customer, _sub), states in billing.timelines.items():
        state = _state_at(states, moment)
        if state is None:
            continue
        mrr, trial = out.get(customer, (0, False))
        if state.status in PAID_STATUSES:
            mrr += monthly_amount(state.plan_id)
        out[customer] = (mrr, trial or state.status == "trialing")
    return out


def _ever_paid_before(billing: _Billing, customer: str, moment: datetime) -> bool:
    first = billing.first_paid_at.get(customer)
    return first is not None and first < moment


CONTENT_FIGURES = tuple(ContentFigures.model_fields)
REVENUE_FIGURES = tuple(name for name in RevenueFigures.model_fields if name != "currency")


def _payer(billing: _Billing, facts: _Learners, customer: str) -> int | None:
    """The learner behind a customer key (None: unknown customer, staff or an erased account)."""
    user_id = billing.customer_user.get(customer)
    if user_id is None and customer.startswith("user:"):
        user_id = int(customer.removeprefix("user:"))
    return user_id if user_id in facts.signup_day else None


def _customer_segment(billing: _Billing, facts: _Learners, customer: str) -> str:
    """The sign-up channel of a customer's learner; "channel:unknown" without a learner account."""
    user_id = _payer(billing, facts, customer)
    return f"channel:{UNKNOWN}" if user_id is None else facts.channel(user_id)


def _revenue(
    session: Session, day: date, zone: ZoneInfo, billing: _Billing, facts: _Learners
) -> dict[str, int]:
    """Writes the day's revenue row and its per-segment rows (which add up to it); returns customer → 1
    for first payments (for acquisition)."""
    start, end = day_bounds(day, zone)
    before, after = customer_mrr(billing, start), customer_mrr(billing, end)
    rows: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(REVENUE_FIGURES, 0))

    def add(customer: str, key: str, amount: int) -> None:
        if amount:
            rows[ALL][key] += amount
            rows[_customer_segment(billing, facts, customer)][key] += amount

    rows[ALL]["mrr"] = 0  # the whole-business row is written every day, even without customers
    first_paid: dict[str, int] = {}
    for customer in set(before) | set(after):
        was, _ = before.get(customer, (0, False))
        now, trial = after.get(customer, (0, False))
        add(customer, "mrr", now)
        add(customer, "paying", now > 0)
        add(customer, "trialing", trial and now == 0)
        if was == 0 and now > 0:
            if _ever_paid_before(billing, customer, start):
                add(customer, "reactivation_mrr", now)
                add(customer, "reactivated_paying", 1)
            else:
                add(customer, "new_mrr", now)
                add(customer, "new_paying", 1)
                first_paid[customer] = 1
        elif was > 0 and now == 0:
            add(customer, "churned_mrr", was)
            add(customer, "churned_paying", 1)
        elif now > was:
            add(customer, "expansion_mrr", now - was)
        elif now < was:
            add(customer, "contraction_mrr", was - now)
    for (customer, _sub), states in billing.timelines.items():
        for prev, state in zip([None, *states[:-1]], states, strict=True):
            if not start <= state.at < end:
                continue
            if state.status == "trialing" and (prev is None or prev.status != "trialing"):
                add(customer, "trials_started", 1)
            if prev is not None and prev.status == "trialing" and state.status in PAID_STATUSES:
                add(customer, "trials_converted", 1)
    for at, inv, amount in billing.invoices_paid:
        if start <= at < end:
            add(billing.invoice_customer.get(inv, ""), "invoices_paid", 1)
            add(billing.invoice_customer.get(inv, ""), "invoiced_amount", amount)
    for at, inv in billing.invoices_failed:
        if start <= at < end:
            add(billing.invoice_customer.get(inv, ""), "payment_failures", 1)
    for (at, amount), customer in zip(billing.refunds, billing.refund_customer, strict=True):
        if start <= at < end:
            add(customer, "refunded_amount", amount)
    session.exec(insert(BiDailyRevenue), params=[{"day": day, "currency": billing.currency, **rows.pop(ALL)}])
    if rows:
        session.exec(
            insert(BiDailySegmentRevenue),
            params=[
                {"day": day, "segment": segment, "currency": billing.currency, **values}
                for segment, values in sorted(rows.items())
            ],
        )
    return first_paid


# --- acquisition and support -------------------------------------------------------------------


def _acquisition(
    session: Session,
    day: date,
    zone: ZoneInfo,
    facts: _Learners,
    billing: _Billing,
    first_paid: dict[str, int],
    first_visit: dict[str, tuple[date, str, str]],
) -> None:
    cells: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for user_id in facts.signups_on.get(day, []):
        key = (
            facts.segment.get(user_id, f"channel:{UNKNOWN}").removeprefix("channel:"),
            facts.campaign.get(user_id, UNKNOWN),
        )
        cells[key]["signups"] += 1
        cells[key]["referred_signups"] += facts.referred.get(user_id, False)
    for customer in first_paid:
        payer = _payer(billing, facts, customer)
        if payer is None:
            key = (UNKNOWN, UNKNOWN)
        else:
            key = (
                facts.segment.get(payer, f"channel:{UNKNOWN}").removeprefix("channel:"),
                facts.campaign.get(payer, UNKNOWN),
            )
        cells[key]["first_paid"] += 1
    for visit_day, channel, campaign in first_visit.values():
        if visit_day == day:
            cells[(channel, campaign)]["visits"] += 1
    if cells:
        session.exec(
            insert(BiDailyAcquisition),
            params=[{"day": day, "channel": k[0], "campaign": k[1], **v} for k, v in sorted(cells.items())],
        )


def _first_visits(
    session: Session, zone: ZoneInfo, since: datetime, until: datetime
) -> dict[str, tuple[date, str, str]]:
    """Anonymous visitor → (day of first page view, channel, campaign) from `page_viewed` events, for the
    visitors whose first page view falls in [since, until): the views of the range, minus the visitors
    seen before it (looked up by visitor, so the job never reads the whole event history)."""
    first: dict[str, tuple[date, str, str]] = {}
    rows = session.exec(
        select(AnalyticsEvent.distinct_id, AnalyticsEvent.properties, AnalyticsEvent.created_at)
        .where(
            AnalyticsEvent.event == "page_viewed",
            col(AnalyticsEvent.created_at) >= since,
            col(AnalyticsEvent.created_at) < until,
        )
        .order_by(col(AnalyticsEvent.created_at), col(AnalyticsEvent.id))
    ).all()
    for distinct_id, props, created_at in rows:
        if distinct_id.isdigit() or distinct_id in first:
            continue
        props = props if isinstance(props, dict) else {}
        first[distinct_id] = (
            local_day(created_at, zone),
            _label(props.get("channel") or props.get("utm_source")),
            _label(props.get("campaign") or props.get("utm_campaign")),
        )
    visitors = sorted(first)
    for start in range(0, len(visitors), IDS_PER_QUERY):
        chunk = visitors[start : start + IDS_PER_QUERY]
        for seen in session.exec(
            select(AnalyticsEvent.distinct_id)
            .where(
                col(AnalyticsEvent.distinct_id).in_(chunk),
                AnalyticsEvent.event == "page_viewed",
                col(AnalyticsEvent.created_at) < since,
            )
            .distinct()
        ).all():
            first.pop(seen, None)
    return first


def _support(session: Session, day: date, zone: ZoneInfo) -> None:
    start, end = day_bounds(day, zone)
    opened = session.exec(
        select(func.count())
        .select_from(SupportTicket)
        .where(col(SupportTicket.created_at) >= start, col(SupportTicket.created_at) < end)
    ).one()
    still_open = session.exec(
        select(func.count())
        .select_from(SupportTicket)
        .where(
            col(SupportTicket.created_at) < end,
            col(SupportTicket.merged_into_id).is_(None),
            (col(SupportTicket.resolved_at).is_(None)) | (col(SupportTicket.resolved_at) >= end),
        )
    ).one()
    answers = session.exec(
        select(VerdictFeedback.answer).where(
            col(VerdictFeedback.created_at) >= start, col(VerdictFeedback.created_at) < end
        )
    ).all()
    session.exec(
        insert(BiDailySupport),
        params=[
            {
                "day": day,
                "tickets_opened": int(opened),
                "open_tickets": int(still_open),
                "verdict_answers": len(answers),
                "verdict_disputed": sum(1 for a in answers if a != "yes"),
            }
        ],
    )


# --- cohorts -----------------------------------------------------------------------------------


def _cohort_week(session: Session, activity_week: date, facts: _Learners) -> None:
    session.exec(delete(BiCohortWeek).where(col(BiCohortWeek.activity_week) == activity_week))
    sizes: dict[tuple[date, str], int] = defaultdict(int)
    active: dict[tuple[date, str], int] = defaultdict(int)
    week = {activity_week + timedelta(days=n) for n in range(7)}
    for user_id, signup in facts.signup_day.items():
        cohort = week_start(signup)
        if cohort > activity_week:
            continue
        was_active = bool(facts.active.get(user_id, set()) & week)
        for segment in facts.segments(user_id):
            sizes[(cohort, segment)] += 1
            active[(cohort, segment)] += was_active
    if sizes:
        session.exec(
            insert(BiCohortWeek),
            params=[
                {
                    "cohort_week": c,
                    "activity_week": activity_week,
                    "segment": s,
                    "cohort_size": n,
                    "active_learners": active[(c, s)],
                }
                for (c, s), n in sorted(sizes.items())
            ],
        )


# --- monthly tone roll-up --------------------------------------------------------------------------


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(day: date) -> date:
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Rollup:
    """A monthly table summing a daily one: the daily rows' `keys` kept, their `values` summed."""

    daily: Any
    monthly: Any
    keys: tuple[str, ...]
    values: tuple[str, ...]


TONE_BY_BUCKET = Rollup(
    BiDailyTone, BiMonthlyToneBucket, ("cohort_week", "segment", "take_bucket", "tone"), ("judged", "correct")
)
TONE_BY_PAIR = Rollup(
    BiDailyTone,
    BiMonthlyTonePair,
    ("cohort_week", "segment", "prev_tone", "tone", "speaker_profile"),
    ("judged", "correct"),
)
CONTENT = Rollup(BiDailyContent, BiMonthlyContent, ("item_id", "segment"), tuple(ContentFigures.model_fields))
TONE_STARTS = Rollup(BiDailyToneStart, BiMonthlyToneStart, ("cohort_week", "segment", "tone"), ("learners",))
MASTERY = Rollup(
    BiDailyMastery, BiMonthlyMastery, ("cohort_week", "segment", "tone", "days", "takes"), ("learners",)
)
MONTHLY = (TONE_BY_BUCKET, TONE_BY_PAIR, CONTENT, TONE_STARTS, MASTERY)


def refresh_month(session: Session, month: date) -> None:
    """Replace a month's rows in every monthly table with the sums of its daily rows (INSERT … SELECT:
    the database sums a month of daily rows without sending them here)."""
    first, last = month_start(month), month_end(month)
    for r in MONTHLY:
        session.exec(delete(r.monthly).where(col(r.monthly.month) == first))
        keys = [getattr(r.daily, k) for k in r.keys]
        session.exec(
            insert(r.monthly).from_select(
                ["month", *r.keys, *r.values],
                sa_select(
                    sa_literal(first, type_=Date()).label("month"),
                    *keys,
                    *(func.sum(getattr(r.daily, v)) for v in r.values),
                )
                .where(col(r.daily.day) >= first, col(r.daily.day) <= last)
                .group_by(*keys),
            )
        )


# --- the job -----------------------------------------------------------------------------------


def clear_day(session: Session, day: date) -> None:
    for table in DAILY_TABLES:
        session.exec(delete(table).where(col(table.day) == day))


def aggregate_days(
    *,
    session: Session,
    start: date,
    end: date,
    timezone: str | None = None,
    timings: dict[str, float] | None = None,
) -> Iterator[date]:
    """Recompute every aggregate for `start`…`end` (reporting days, inclusive), yielding after each
    day (and after each touched activity week and month) so the caller can commit it as one transaction.
    `timings`, when given, receives the seconds spent per step (the benchmark prints them)."""
    days = parse_range(start, end)
    zone = reporting_zone(timezone)
    spent: dict[str, float] = timings if timings is not None else {}
    clock = [perf_counter()]

    def lap(step: str) -> None:
        now = perf_counter()
        spent[step] = spent.get(step, 0.0) + now - clock[0]
        clock[0] = now

    # From the day before (yesterday's states) or the first touched week's Monday (cohorts).
    load_from = min(start - timedelta(days=1), week_start(start))
    load_to = max(end, week_start(end) + timedelta(days=6))
    facts = _load_learners(session, zone, day_bounds(load_from, zone)[0], day_bounds(load_to, zone)[1])
    cycle = _Lifecycle(facts)
    warm_up = load_from
    while warm_up < start:
        cycle.step(warm_up)
        warm_up += timedelta(days=1)
    lap("learners")
    billing = load_billing(session)
    lap("billing")
    visits = _first_visits(session, zone, day_bounds(start, zone)[0], day_bounds(end, zone)[1])
    lap("visits")
    taken = _prior_takes(session, facts.active, day_bounds(start, zone)[0])
    lap("prior takes")
    mastery = _mastery(session, zone, facts, start, end)
    lap("mastery")
    for day in days:
        clear_day(session, day)
        lap("clear")
        _activity_and_lifecycle(session, day, zone, facts, cycle)
        lap("activity and lifecycle")
        _tone_and_content(session, day, zone, facts, taken)
        _write_mastery(session, day, mastery)
        lap("tones, content, mastery")
        first_paid = _revenue(session, day, zone, billing, facts)
        _acquisition(session, day, zone, facts, billing, first_paid, visits)
        _support(session, day, zone)
        session.exec(delete(BiAggregateRun).where(col(BiAggregateRun.day) == day))
        session.add(BiAggregateRun(day=day, computed_at=utcnow()))
        session.flush()
        lap("revenue, acquisition, support")
        yield day
        clock[0] = perf_counter()  # the caller's commit is not a step
    for activity_week in sorted({week_start(d) for d in days}):
        _cohort_week(session, activity_week, facts)
        session.flush()
        lap("cohort weeks")
        yield activity_week
        clock[0] = perf_counter()
    for month in sorted({month_start(d) for d in days}):
        refresh_month(session, month)
        session.flush()
        lap("monthly roll-ups")
        yield month
        clock[0] = perf_counter()


def aggregate(*, session: Session, start: date, end: date, timezone: str | None = None) -> list[date]:
    """Recompute a range inside the caller's transaction (tests, small ranges)."""
    return list(aggregate_days(session=session, start=start, end=end, timezone=timezone))


def default_range(today: date | None = None, *, days: int = 2) -> tuple[date, date]:
    """The nightly job: yesterday and the day before (late takes and webhooks land in both)."""
    if today is None:
        today = local_day(utcnow(), reporting_zone())
    return today - timedelta(days=days), today - timedelta(days=1)


def last_computed(session: Session) -> datetime | None:
    value = session.exec(select(func.max(BiAggregateRun.computed_at))).one()
    return as_utc(value) if value else None


def iter_days(start: date, end: date) -> Iterable[date]:
    return parse_range(start, end)
