"""The metrics an experiment can be judged on, computed per unit from the product's own tables.

Every metric is counted from a unit's *first exposure* onwards, within a fixed window, so units
exposed early and late are measured alike. Conversions are 0/1 per unit; means are per-unit counts.
The CUPED covariate is the unit's practice before its first exposure (scored takes in the 14 days
before), which is 0 for visitors who had no account yet.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlmodel import Session, col, select

from sayzhong.accounts.models import User
from sayzhong.db import as_utc
from sayzhong.practice.models import Attempt, LearnerProfile

WINDOW = timedelta(days=7)
PRE_PERIOD = timedelta(days=14)
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class Metric:
    key: str
    label: str
    kind: str
    """"conversion" (share of units) or "mean" (average per unit)."""
    higher_is_better: bool
    description: str


METRICS: dict[str, Metric] = {
    m.key: m
    for m in (
        Metric(
            "signed_up", "Sign-up", "conversion", True, "created an account after first seeing the variant"
        ),
        Metric(
            "onboarding_finished",
            "Onboarding finished",
            "conversion",
            True,
            "finished onboarding within 7 days of first seeing the variant",
        ),
        Metric(
            "first_scored_take",
            "Scored take",
            "conversion",
            True,
            "had at least one take scored within 7 days of first seeing the variant",
        ),
        Metric(
            "returned_next_day",
            "Came back another day",
            "conversion",
            True,
            "practised again 1 to 7 days after first seeing the variant",
        ),
        Metric(
            "takes_7d", "Takes in 7 days", "mean", True, "scored takes in the 7 days after first seeing it"
        ),
        Metric(
            "support_ticket_7d",
            "Asked support for help",
            "conversion",
            False,
            "opened a support ticket within 7 days (a guardrail: lower is better)",
        ),
    )
}


@dataclass(frozen=True, slots=True)
class Unit:
    variant: str
    user_id: int | None
    first_exposed_at: datetime


@dataclass(slots=True)
class _Activity:
    signed_up_at: dict[int, datetime]
    onboarded_at: dict[int, datetime]
    takes: dict[int, list[datetime]]
    tickets: dict[int, list[datetime]]


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _load_activity(session: Session, units: Sequence[Unit]) -> _Activity:
    from sayzhong.support.models import SupportTicket

    ids = sorted({u.user_id for u in units if u.user_id is not None})
    activity = _Activity({}, {}, defaultdict(list), defaultdict(list))
    for chunk in _chunks(ids):
        for uid, created in session.exec(select(User.id, User.created_at).where(col(User.id).in_(chunk))):
            if uid is not None:
                activity.signed_up_at[uid] = as_utc(created)
        for uid, done in session.exec(
            select(LearnerProfile.user_id, LearnerProfile.onboarding_finished_at).where(
                col(LearnerProfile.user_id).in_(chunk),
                col(LearnerProfile.onboarding_finished_at).is_not(None),
            )
        ):
            if done is not None:
                activity.onboarded_at[uid] = as_utc(done)
        for uid, at in session.exec(
            select(Attempt.user_id, Attempt.created_at).where(col(Attempt.user_id).in_(chunk))
        ):
            activity.takes[uid].append(as_utc(at))
        for uid, at in session.exec(
            select(SupportTicket.user_id, SupportTicket.created_at).where(
                col(SupportTicket.user_id).in_(chunk)
            )
        ):
            activity.tickets[uid].append(as_utc(at))
    for series in (*activity.takes.values(), *activity.tickets.values()):
        series.sort()
    return activity


def _count(series: list[datetime], start: datetime, end: datetime) -> int:
    return bisect.bisect_left(series, end) - bisect.bisect_left(series, start)


def _value(metric: str, unit: Unit, act: _Activity) -> float:
    uid, t0 = unit.user_id, unit.first_exposed_at
    if uid is None:
        return 0.0
    if metric == "signed_up":
        created = act.signed_up_at.get(uid)
        return float(created is not None and created >= t0 - timedelta(seconds=5))
    if metric == "onboarding_finished":
        done = act.onboarded_at.get(uid)
        return float(done is not None and t0 <= done < t0 + WINDOW)
    takes = act.takes.get(uid, [])
    if metric == "first_scored_take":
        return float(_count(takes, t0, t0 + WINDOW) > 0)
    if metric == "returned_next_day":
        return float(_count(takes, t0 + timedelta(days=1), t0 + WINDOW) > 0)
    if metric == "takes_7d":
        return float(_count(takes, t0, t0 + WINDOW))
    if metric == "support_ticket_7d":
        return float(_count(act.tickets.get(uid, []), t0, t0 + WINDOW) > 0)
    raise KeyError(metric)


MetricReader = Callable[[str], np.ndarray]


def unit_values(session: Session, units: Sequence[Unit]) -> tuple[MetricReader, np.ndarray]:
    """A reader giving each metric's per-unit values (aligned with `units`), and the CUPED covariate."""
    act = _load_activity(session, units)
    cache: dict[str, np.ndarray] = {}

    def read(metric: str) -> np.ndarray:
        if metric not in cache:
            cache[metric] = np.array([_value(metric, u, act) for u in units], dtype=float)
        return cache[metric]

    covariate = np.array(
        [
            float(_count(act.takes.get(u.user_id, []), u.first_exposed_at - PRE_PERIOD, u.first_exposed_at))
            if u.user_id is not None
            else 0.0
            for u in units
        ],
        dtype=float,
    )
    return read, covariate
