"""Track product events through the configured analytics sink.

`track` is the one entry point for features and accepts only events from the catalogue
(`analytics/catalog.py`), whose properties it checks; the sink defaults to the one `sayzhong.wiring`
picks (consent-gated). Funnel events are emitted by the practice and billing services exactly once
per user; `signed_up` is emitted by whoever creates the account, followed by `identify`.
Analytics never breaks the product: a failing sink is logged and ignored (a malformed event is a
programming error and raises).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, delete, select

from sayzhong.analytics import catalog
from sayzhong.analytics.catalog import EventDef
from sayzhong.analytics.models import AnalyticsEvent
from sayzhong.analytics.ports import AnalyticsSink
from sayzhong.db import as_utc, utcnow
from sayzhong.errors import ValidationError

log = logging.getLogger(__name__)

_DISTINCT_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def track(
    *,
    session: Session,
    user_id: int | None,
    event: EventDef | str,
    properties: dict[str, Any] | None = None,
    anonymous_id: str | None = None,
    sink: AnalyticsSink | None = None,
) -> None:
    """Record a catalogued `event` for a user (or, before sign-up, for an anonymous id)."""
    definition = catalog.get(event)
    clean = definition.validate(properties)
    distinct_id = _distinct_id(user_id, anonymous_id)
    try:
        sink = sink or _default_sink(session)
        sink.capture(event=definition.name, distinct_id=distinct_id, properties=clean)
    except Exception:
        log.exception("analytics sink failed for event %s", definition.name)


def identify(
    *, session: Session, user_id: int, anonymous_id: str | None, sink: AnalyticsSink | None = None
) -> None:
    """At sign-up: the anonymous visitor's events become the new account's (PostHog alias; the local
    store re-keys the visitor's rows), so the visit and the sign-up are one person in funnels."""
    if not anonymous_id or not _DISTINCT_ID.match(anonymous_id) or anonymous_id == str(user_id):
        return
    try:
        sink = sink or _default_sink(session)
        sink.alias(previous_id=anonymous_id, distinct_id=str(user_id))
    except Exception:
        log.exception("analytics sink failed to merge a visitor into an account")


def record_sign_up(
    *, session: Session, user_id: int, method: str, cookie_header: str | None, visitor_id: str | None = None
) -> None:
    """Every sign-up path (form, "Sign in with …") calls this once the account exists: store the
    first/last touch from the `sz_src` cookie, merge the visitor into the account, emit `signed_up`.
    `visitor_id`, when the caller knows it better than the request's cookies, is the visitor merged."""
    from sayzhong.analytics import attribution
    from sayzhong.privacy.consent import visitor_from_cookie_header

    touch = attribution.attach_to_account(session=session, user_id=user_id, cookie_header=cookie_header)
    visitor = visitor_id or visitor_from_cookie_header(cookie_header)
    identify(session=session, user_id=user_id, anonymous_id=visitor)
    track(
        session=session,
        user_id=user_id,
        event=catalog.SIGNED_UP,
        properties={"method": method, **touch.event_properties()},
    )


def _distinct_id(user_id: int | None, anonymous_id: str | None) -> str:
    if user_id is not None:
        return str(user_id)
    if anonymous_id and _DISTINCT_ID.match(anonymous_id):
        return anonymous_id
    raise ValidationError("An analytics event needs a user or an anonymous id.", code="analytics_no_id")


def _default_sink(session: Session) -> AnalyticsSink:
    from sayzhong import wiring
    from sayzhong.settings import get_settings

    return wiring.get_analytics_sink(get_settings(), session=session)


@dataclass(frozen=True, slots=True)
class EventView:
    event: str
    distinct_id: str
    properties: dict[str, Any]
    created_at: datetime


def list_events(
    *,
    session: Session,
    distinct_id: str | None = None,
    event: EventDef | str | None = None,
    limit: int = 100,
) -> list[EventView]:
    """Events stored by the local sink, newest first."""
    if isinstance(event, EventDef):
        event = event.name
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
