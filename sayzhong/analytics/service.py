"""Track product events through the configured analytics sink.

`track` is the one entry point for features; the sink defaults to the one `sayzhong.wiring`
picks. Funnel events (see `FUNNEL_EVENTS`) are emitted by the practice services exactly once per
user; `signed_up` is emitted by whoever creates the account.
Analytics never breaks the product: a failing sink is logged and ignored.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, delete, select

from sayzhong.analytics.models import AnalyticsEvent
from sayzhong.analytics.ports import AnalyticsSink
from sayzhong.db import as_utc, utcnow
from sayzhong.errors import ValidationError

log = logging.getLogger(__name__)

SIGNED_UP = "signed_up"
ONBOARDING_STARTED = "onboarding_started"
MIC_CHECK_PASSED = "mic_check_passed"
ONBOARDING_FINISHED = "onboarding_finished"
FIRST_ATTEMPT_SCORED = "first_attempt_scored"
FUNNEL_EVENTS = (SIGNED_UP, ONBOARDING_STARTED, MIC_CHECK_PASSED, ONBOARDING_FINISHED, FIRST_ATTEMPT_SCORED)

_EVENT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_DISTINCT_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def track(
    *,
    session: Session,
    user_id: int | None,
    event: str,
    properties: dict[str, Any] | None = None,
    anonymous_id: str | None = None,
    sink: AnalyticsSink | None = None,
) -> None:
    """Record `event` for a user (or, before sign-up, for an anonymous id)."""
    if not _EVENT_NAME.match(event):
        raise ValidationError("Analytics event names are snake_case.", code="analytics_bad_event")
    if user_id is not None:
        distinct_id = str(user_id)
    elif anonymous_id and _DISTINCT_ID.match(anonymous_id):
        distinct_id = anonymous_id
    else:
        raise ValidationError("An analytics event needs a user or an anonymous id.", code="analytics_no_id")
    try:
        if sink is None:
            from sayzhong import wiring
            from sayzhong.settings import get_settings

            sink = wiring.get_analytics_sink(get_settings(), session=session)
        sink.capture(event=event, distinct_id=distinct_id, properties=dict(properties or {}))
    except Exception:
        log.exception("analytics sink failed for event %s", event)


@dataclass(frozen=True, slots=True)
class EventView:
    event: str
    distinct_id: str
    properties: dict[str, Any]
    created_at: datetime


def list_events(
    *, session: Session, distinct_id: str | None = None, event: str | None = None, limit: int = 100
) -> list[EventView]:
    """Events stored by the local sink, newest first."""
    query = select(AnalyticsEvent)
    if distinct_id is not None:
        query = query.where(AnalyticsEvent.distinct_id == distinct_id)
    if event is not None:
        query = query.where(AnalyticsEvent.event == event)
    rows = session.exec(query.order_by(col(AnalyticsEvent.id).desc()).limit(max(1, min(limit, 1000)))).all()
    return [
        EventView(row.event, row.distinct_id, dict(row.properties), as_utc(row.created_at)) for row in rows
    ]


EVENT_RETENTION = timedelta(days=395)


def erase_user_events(*, session: Session, user_id: int) -> int:
    """Delete a user's locally stored events (account erasure; events have no foreign key)."""
    result = session.exec(delete(AnalyticsEvent).where(col(AnalyticsEvent.distinct_id) == str(user_id)))
    return int(result.rowcount or 0)


def purge_events(*, session: Session, older_than: timedelta = EVENT_RETENTION) -> int:
    """Delete locally stored events older than the retention period (run by a job)."""
    cutoff = utcnow() - older_than
    result = session.exec(delete(AnalyticsEvent).where(col(AnalyticsEvent.created_at) < cutoff))
    return int(result.rowcount or 0)
