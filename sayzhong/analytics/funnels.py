"""The growth funnel, computed in SQL from the local event store (`analytics_event`), the same
statements on SQLite and PostgreSQL (SQLAlchemy expressions; JSON properties read with its
portable JSON operators).

Definition (docs/marketing.md), also what "Open in PostHog" describes:
- Entry: a person's first `page_viewed` in the chosen period is their visit (people are distinct ids;
  a visitor's events are merged into the account at sign-up, `analytics.service.identify`).
- Each later step counts a person who reached the previous step and did the step's event after
  their visit and within the conversion window (days from the visit). Steps may happen in any order
  after the visit (someone can start a trial before their seventh day), like PostHog's unordered
  funnels.
- Second-day return: a `returned` event with day >= 1; seventh-day return: day >= 6.
- Splits read the visit's properties (channel, campaign, device) or the variant of the person's
  first `experiment_exposed` event for an experiment key.

The SQL returns one row per entrant with the time of each step; the window and the counting are a
few lines of Python over those rows (portable date arithmetic in SQL differs per database).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from sqlalchemy import func
from sqlmodel import Session, col, select

from sayzhong.analytics.models import AnalyticsEvent
from sayzhong.db import as_utc
from sayzhong.errors import ValidationError


@dataclass(frozen=True, slots=True)
class Step:
    key: str
    label: str
    event: str
    min_day: int | None = None
    """For `returned`: the least `day` property that counts."""


STEPS: tuple[Step, ...] = (
    Step("visit", "Visit", "page_viewed"),
    Step("signed_up", "Sign-up", "signed_up"),
    Step("onboarded", "Onboarding done", "onboarding_finished"),
    Step("first_take", "First scored take", "first_attempt_scored"),
    Step("day2", "Second-day return", "returned", min_day=1),
    Step("day7", "Seventh-day return", "returned", min_day=6),
    Step("trial", "Trial started", "trial_started"),
    Step("paid", "Paid", "subscription_paid"),
)
TARGETS: dict[str, float] = {"signed_up": 0.15, "onboarded": 0.90}
"""The seed's targets, as the conversion from the previous step: > 15 % visit → sign-up and
> 90 % onboarding completion (sign-up → onboarding done)."""
SPLITS = ("none", "channel", "campaign", "device", "variant")
NONE_LABEL = "(none)"
DROP_OFF_SAMPLE = 20


@dataclass(frozen=True, slots=True)
class StepFigure:
    key: str
    label: str
    people: int
    from_previous: float | None
    """Share of the previous step's people (None for the first step or when it had nobody)."""
    overall: float | None
    target: float | None
    meets_target: bool | None


@dataclass(frozen=True, slots=True)
class Segment:
    value: str
    steps: list[StepFigure]


@dataclass(frozen=True, slots=True)
class DropOff:
    step_key: str
    label: str
    count: int
    sample: list[str]
    """Anonymised ids (a keyed hash of the distinct id): enough to compare lists, nothing personal."""


@dataclass(frozen=True, slots=True)
class FunnelReport:
    start: datetime
    end: datetime
    window_days: int
    split: str
    experiment: str
    total: Segment
    segments: list[Segment] = field(default_factory=list)
    drop_offs: list[DropOff] = field(default_factory=list)


def _props(name: str) -> Any:
    return col(AnalyticsEvent.properties)[name]


def _entrants_query(*, start: datetime, end: datetime, split: str, experiment: str) -> Any:
    visits = (
        select(
            col(AnalyticsEvent.distinct_id).label("distinct_id"),
            func.min(AnalyticsEvent.created_at).label("t0"),
        )
        .where(
            col(AnalyticsEvent.event) == "page_viewed",
            col(AnalyticsEvent.created_at) >= start,
            col(AnalyticsEvent.created_at) < end,
        )
        .group_by(col(AnalyticsEvent.distinct_id))
        .subquery("visits")
    )
    # A person's first page view ever must be in the period (otherwise they entered earlier).
    earlier = (
        select(AnalyticsEvent.id)
        .where(
            col(AnalyticsEvent.distinct_id) == visits.c.distinct_id,
            col(AnalyticsEvent.event) == "page_viewed",
            col(AnalyticsEvent.created_at) < start,
        )
        .exists()
    )
    columns: list[Any] = [visits.c.distinct_id, visits.c.t0]
    for step in STEPS[1:]:
        conditions = [
            col(AnalyticsEvent.distinct_id) == visits.c.distinct_id,
            col(AnalyticsEvent.event) == step.event,
            col(AnalyticsEvent.created_at) >= visits.c.t0,
        ]
        if step.min_day is not None:
            conditions.append(_props("day").as_integer() >= step.min_day)
        columns.append(
            select(func.min(AnalyticsEvent.created_at)).where(*conditions).scalar_subquery().label(step.key)
        )
    if split in ("channel", "campaign", "device"):
        columns.append(
            select(_props(split).as_string())
            .where(
                col(AnalyticsEvent.distinct_id) == visits.c.distinct_id,
                col(AnalyticsEvent.event) == "page_viewed",
                col(AnalyticsEvent.created_at) == visits.c.t0,
            )
            .order_by(col(AnalyticsEvent.id))
            .limit(1)
            .scalar_subquery()
            .label("segment")
        )
    elif split == "variant":
        columns.append(
            select(_props("variant").as_string())
            .where(
                col(AnalyticsEvent.distinct_id) == visits.c.distinct_id,
                col(AnalyticsEvent.event) == "experiment_exposed",
                _props("key").as_string() == experiment,
            )
            .order_by(col(AnalyticsEvent.created_at), col(AnalyticsEvent.id))
            .limit(1)
            .scalar_subquery()
            .label("segment")
        )
    return select(*columns).where(~earlier).order_by(visits.c.distinct_id)


def anonymise(distinct_id: str, secret: str) -> str:
    return hashlib.sha256(f"funnel:{secret}:{distinct_id}".encode()).hexdigest()[:10]


def _figures(reached: list[list[bool]]) -> list[StepFigure]:
    figures: list[StepFigure] = []
    entrants = sum(1 for person in reached if person[0])
    previous = entrants
    for i, step in enumerate(STEPS):
        people = sum(1 for person in reached if person[i])
        from_previous = None if i == 0 or previous == 0 else people / previous
        target = TARGETS.get(step.key)
        figures.append(
            StepFigure(
                key=step.key,
                label=step.label,
                people=people,
                from_previous=from_previous,
                overall=people / entrants if entrants else None,
                target=target,
                meets_target=None if target is None or from_previous is None else from_previous > target,
            )
        )
        previous = people
    return figures


def compute_funnel(
    *,
    session: Session,
    start: datetime,
    end: datetime,
    window_days: int = 30,
    split: str = "none",
    experiment: str = "",
    secret: str = "",
) -> FunnelReport:
    """The funnel for people whose first visit is in [start, end), split as asked."""
    if split not in SPLITS:
        raise ValidationError(f"Split the funnel by one of: {', '.join(SPLITS)}.", code="funnel_bad_split")
    if split == "variant" and not experiment:
        raise ValidationError(
            "Choose the experiment whose variants split the funnel.", code="funnel_no_experiment"
        )
    if not 1 <= window_days <= 180:
        raise ValidationError("The conversion window is 1 to 180 days.", code="funnel_bad_window")
    start, end = as_utc(start), as_utc(end)
    if end <= start:
        raise ValidationError("The period must end after it starts.", code="funnel_bad_period")
    window = timedelta(days=window_days)
    rows = session.exec(_entrants_query(start=start, end=end, split=split, experiment=experiment)).all()

    reached_all: list[list[bool]] = []
    by_segment: dict[str, list[list[bool]]] = {}
    ids: list[str] = []
    for row in rows:
        t0 = as_utc(row[1])
        reached = [True]
        for i in range(1, len(STEPS)):
            at = row[1 + i]
            reached.append(reached[-1] and at is not None and as_utc(at) - t0 <= window)
        reached_all.append(reached)
        ids.append(str(row[0]))
        if split != "none":
            value = row[len(STEPS) + 1]
            by_segment.setdefault(str(value) if value else NONE_LABEL, []).append(reached)

    drop_offs = []
    for i, step in enumerate(STEPS[1:], start=1):
        lost = [ids[n] for n, reached in enumerate(reached_all) if reached[i - 1] and not reached[i]]
        drop_offs.append(
            DropOff(
                step_key=step.key,
                label=f"{STEPS[i - 1].label} → {step.label}",
                count=len(lost),
                sample=[anonymise(d, secret) for d in lost[:DROP_OFF_SAMPLE]],
            )
        )
    return FunnelReport(
        start=start,
        end=end,
        window_days=window_days,
        split=split,
        experiment=experiment,
        total=Segment("all", _figures(reached_all)),
        segments=[Segment(value, _figures(people)) for value, people in sorted(by_segment.items())],
        drop_offs=drop_offs,
    )


def posthog_funnel_url(
    *, ui_host: str, project_id: str, window_days: int, split: str, experiment: str = ""
) -> str:
    """An "Open in PostHog" link: a new funnel insight with the same steps, window and breakdown."""
    series: list[dict[str, Any]] = []
    for step in STEPS:
        node: dict[str, Any] = {"kind": "EventsNode", "event": step.event, "name": step.label}
        if step.min_day is not None:
            node["properties"] = [{"key": "day", "value": step.min_day, "operator": "gte", "type": "event"}]
        series.append(node)
    source: dict[str, Any] = {
        "kind": "FunnelsQuery",
        "series": series,
        "funnelsFilter": {
            "funnelOrderType": "unordered",
            "funnelWindowInterval": window_days,
            "funnelWindowIntervalUnit": "day",
        },
        "dateRange": {"date_from": f"-{window_days}d"},
    }
    if split in ("channel", "campaign", "device"):
        source["breakdownFilter"] = {"breakdown": split, "breakdown_type": "event"}
    elif split == "variant" and experiment:
        source["breakdownFilter"] = {"breakdown": "variant", "breakdown_type": "event"}
    query = json.dumps({"kind": "InsightVizNode", "source": source}, separators=(",", ":"))
    base = ui_host.rstrip("/")
    project = f"/project/{quote(project_id)}" if project_id else ""
    return f"{base}{project}/insights/new#q={quote(query)}"
