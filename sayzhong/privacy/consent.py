"""Cookie and tracking consent: append-only decisions, the banner's rules, and the analytics gate.

Rules (docs/privacy.md):
- No decision, a decision older than 6 months, or one for an older cookie-policy version → ask.
- Global Privacy Control (`Sec-GPC: 1` or `navigator.globalPrivacyControl`) is a refusal of
  analytics and marketing; it is recorded and a later missing signal does not turn it into consent.
- A signed-in user's latest decision follows them to every device.
- Nothing analytic is recorded for a visitor or user whose latest decision does not accept it.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.cookies import CookieError, SimpleCookie
from typing import Any

from sqlmodel import Session, col, select

from sayzhong.analytics.ports import AnalyticsSink
from sayzhong.db import as_utc, utcnow
from sayzhong.errors import ValidationError
from sayzhong.legal import documents
from sayzhong.privacy.models import ConsentRecord

BANNER_VERSION = 1
CONSENT_MAX_AGE = timedelta(days=182)
COOKIE_NAME = "sz_consent"
SOURCES = ("banner", "settings", "gpc", "do_not_sell", "signup")
_VISITOR = re.compile(r"^[A-Za-z0-9_-]{16,40}$")


@dataclass(frozen=True, slots=True)
class ConsentView:
    visitor_id: str
    user_id: int | None
    analytics: bool
    marketing: bool
    gpc: bool
    source: str
    policy_version: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ConsentStatus:
    ask: bool
    """Show the first-layer banner."""
    analytics: bool
    marketing: bool
    gpc_honoured: bool
    """The current or an earlier decision came from Global Privacy Control / "Do not sell or share"."""
    visitor_id: str
    decided_at: datetime | None


def new_visitor_id() -> str:
    return secrets.token_urlsafe(16)


def valid_visitor_id(value: str | None) -> str | None:
    return value if value and _VISITOR.match(value) else None


def visitor_from_cookie_header(header: str | None) -> str | None:
    """The visitor id from the necessary `sz_consent` cookie, if well-formed."""
    if not header:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return None
    morsel = jar.get(COOKIE_NAME)
    return valid_visitor_id(morsel.value) if morsel else None


def record_sign_up(*, session: Session, user_id: int, visitor_id: str | None) -> None:
    """Sign-up form: accept the current terms and privacy policy, and carry this browser's cookie
    choice over to the new account (so its first events follow that choice)."""
    from sayzhong.legal import service as legal

    legal.record_sign_up_acceptance(session=session, user_id=user_id)
    link_visitor_to_user(session=session, visitor_id=visitor_id, user_id=user_id)


def _view(row: ConsentRecord) -> ConsentView:
    return ConsentView(
        visitor_id=row.visitor_id,
        user_id=row.user_id,
        analytics=row.analytics,
        marketing=row.marketing,
        gpc=row.gpc,
        source=row.source,
        policy_version=row.policy_version,
        created_at=as_utc(row.created_at),
    )


def record_consent(
    *,
    session: Session,
    visitor_id: str | None,
    user_id: int | None,
    analytics: bool,
    marketing: bool,
    source: str,
    gpc: bool = False,
) -> ConsentView:
    """Append one decision. A GPC signal or a "Do not sell" click always refuses both categories."""
    if source not in SOURCES:
        raise ValidationError("Unknown consent source.", code="consent_bad_source")
    if not isinstance(analytics, bool) or not isinstance(marketing, bool):
        raise ValidationError("Consent choices must be yes or no.", code="consent_bad_choice")
    if gpc or source in ("gpc", "do_not_sell"):
        analytics = marketing = False
    row = ConsentRecord(
        visitor_id=valid_visitor_id(visitor_id) or new_visitor_id(),
        user_id=user_id,
        analytics=analytics,
        marketing=marketing,
        gpc=gpc or source == "gpc",
        source=source,
        banner_version=BANNER_VERSION,
        policy_version=documents.current("cookies").version,
    )
    session.add(row)
    session.flush()
    return _view(row)


def latest_consent(*, session: Session, visitor_id: str | None, user_id: int | None) -> ConsentView | None:
    """The user's latest decision (any device) when signed in, else this browser's."""
    if user_id:
        row = session.exec(
            select(ConsentRecord)
            .where(col(ConsentRecord.user_id) == user_id)
            .order_by(col(ConsentRecord.id).desc())
        ).first()
        if row is not None:
            return _view(row)
    visitor = valid_visitor_id(visitor_id)
    if visitor is None:
        return None
    row = session.exec(
        select(ConsentRecord)
        .where(col(ConsentRecord.visitor_id) == visitor)
        .order_by(col(ConsentRecord.id).desc())
    ).first()
    return _view(row) if row else None


def _opted_out_before(session: Session, visitor_id: str | None, user_id: int | None) -> bool:
    conditions = []
    if user_id:
        conditions.append(col(ConsentRecord.user_id) == user_id)
    visitor = valid_visitor_id(visitor_id)
    if visitor:
        conditions.append(col(ConsentRecord.visitor_id) == visitor)
    if not conditions:
        return False
    from sqlalchemy import or_

    return (
        session.exec(
            select(ConsentRecord.id).where(
                or_(*conditions), col(ConsentRecord.source).in_(("gpc", "do_not_sell"))
            )
        ).first()
        is not None
    )


def consent_status(
    *, session: Session, visitor_id: str | None, user_id: int | None, gpc: bool
) -> ConsentStatus:
    """What the banner and the analytics loader should do for this page view.

    A GPC signal without a recorded refusal records one (so the refusal can be proven); the banner
    is then not shown, since the browser already answered.
    """
    latest = latest_consent(session=session, visitor_id=visitor_id, user_id=user_id)
    if gpc and (latest is None or latest.analytics or latest.marketing or not latest.gpc):
        latest = record_consent(
            session=session,
            visitor_id=latest.visitor_id if latest else visitor_id,
            user_id=user_id,
            analytics=False,
            marketing=False,
            source="gpc",
            gpc=True,
        )
    if latest is None:
        return ConsentStatus(
            ask=True,
            analytics=False,
            marketing=False,
            gpc_honoured=False,
            visitor_id=valid_visitor_id(visitor_id) or "",
            decided_at=None,
        )
    stale = (
        latest.policy_version < documents.current("cookies").version
        or utcnow() - latest.created_at > CONSENT_MAX_AGE
    )
    honoured = latest.source in ("gpc", "do_not_sell") or (
        not latest.analytics and _opted_out_before(session, visitor_id, user_id)
    )
    return ConsentStatus(
        ask=stale and not latest.gpc,
        analytics=latest.analytics and not stale,
        marketing=latest.marketing and not stale,
        gpc_honoured=honoured,
        visitor_id=latest.visitor_id,
        decided_at=latest.created_at,
    )


def link_visitor_to_user(*, session: Session, visitor_id: str | None, user_id: int) -> ConsentView | None:
    """At sign-up: the choice made in this browser becomes the new account's choice (a new row)."""
    visitor = valid_visitor_id(visitor_id)
    if visitor is None:
        return None
    latest = latest_consent(session=session, visitor_id=visitor, user_id=None)
    if latest is None:
        return None
    return record_consent(
        session=session,
        visitor_id=visitor,
        user_id=user_id,
        analytics=latest.analytics,
        marketing=latest.marketing,
        source="signup",
        gpc=latest.gpc,
    )


def analytics_allowed(*, session: Session, distinct_id: str, category: str = "analytics") -> bool:
    """The gate every analytics event passes: the user's (numeric id) or visitor's latest decision
    accepts the event's consent category ("analytics" or "marketing", from the event catalogue)."""
    if distinct_id.isdigit():
        latest = latest_consent(session=session, visitor_id=None, user_id=int(distinct_id))
    else:
        latest = latest_consent(session=session, visitor_id=distinct_id, user_id=None)
    if latest is None or not (latest.marketing if category == "marketing" else latest.analytics):
        return False
    return (
        latest.policy_version >= documents.current("cookies").version
        and utcnow() - latest.created_at <= CONSENT_MAX_AGE
    )


def unlink_user(*, session: Session, user_id: int) -> int:
    """Erasure: consent rows stay as proof but no longer point at the account."""
    rows = session.exec(select(ConsentRecord).where(col(ConsentRecord.user_id) == user_id)).all()
    for row in rows:
        row.user_id = None
        session.add(row)
    session.flush()
    return len(rows)


class ConsentGatedSink:
    """Wraps any analytics sink (the local table or PostHog): drops events without consent for the
    event's catalogue category, and merges a visitor into an account only with the account's consent."""

    def __init__(self, inner: AnalyticsSink, *, session: Session) -> None:
        self.inner = inner
        self._session = session

    def capture(self, *, event: str, distinct_id: str, properties: dict[str, Any]) -> None:
        from sayzhong.analytics.catalog import consent_for

        if analytics_allowed(session=self._session, distinct_id=distinct_id, category=consent_for(event)):
            self.inner.capture(event=event, distinct_id=distinct_id, properties=properties)

    def alias(self, *, previous_id: str, distinct_id: str) -> None:
        if analytics_allowed(session=self._session, distinct_id=distinct_id):
            self.inner.alias(previous_id=previous_id, distinct_id=distinct_id)

    def delete_person(self, *, distinct_id: str) -> int:
        delete = getattr(self.inner, "delete_person", None)
        return int(delete(distinct_id=distinct_id)) if delete else 0
