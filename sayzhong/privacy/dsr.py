"""Staff queue of data-subject requests that arrive by e-mail from people who cannot sign in.

Flow: log the request (30-day deadline) → verify the requester's identity (say how) → run the
same export or erasure machinery as the self-service path → close with a resolution. Every step
is audited. Only support and admin staff may act (checked here, not only in the page).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func
from sqlmodel import Session, col, select

from sayzhong.accounts.access import HasRole, Role, require_role
from sayzhong.accounts.models import User
from sayzhong.accounts.users import normalize_email
from sayzhong.audit import record_audit
from sayzhong.db import as_utc, utcnow
from sayzhong.errors import NotFoundError, ValidationError
from sayzhong.privacy.models import DsrRequest

KINDS = ("access", "erasure", "correction", "objection")
DEADLINE = timedelta(days=30)
DUE_SOON = timedelta(days=7)
_STAFF = (Role.SUPPORT, Role.ADMIN)


@dataclass(frozen=True, slots=True)
class DsrView:
    id: int
    kind: str
    requester_email: str
    requester_name: str
    details: str
    status: str
    identity_method: str | None
    user_id: int | None
    received_at: datetime
    due_at: datetime
    closed_at: datetime | None
    resolution: str

    def days_left(self, now: datetime | None = None) -> int:
        return (self.due_at - (now or utcnow())).days

    @property
    def overdue(self) -> bool:
        return self.closed_at is None and self.due_at < utcnow()


def _view(row: DsrRequest) -> DsrView:
    assert row.id is not None
    return DsrView(
        id=row.id,
        kind=row.kind,
        requester_email=row.requester_email,
        requester_name=row.requester_name,
        details=row.details,
        status=row.status,
        identity_method=row.identity_method,
        user_id=row.user_id,
        received_at=as_utc(row.received_at),
        due_at=as_utc(row.due_at),
        closed_at=as_utc(row.closed_at) if row.closed_at else None,
        resolution=row.resolution,
    )


def _row(session: Session, request_id: int) -> DsrRequest:
    row = session.get(DsrRequest, request_id)
    if row is None:
        raise NotFoundError("That request does not exist.", code="dsr_not_found")
    return row


def create_request(
    *,
    session: Session,
    actor: HasRole,
    actor_id: int,
    kind: str,
    requester_email: str,
    requester_name: str = "",
    details: str = "",
    received_at: datetime | None = None,
) -> DsrView:
    require_role(actor, *_STAFF)
    if kind not in KINDS:
        raise ValidationError("Choose access, erasure, correction or objection.", code="dsr_bad_kind")
    email = normalize_email(requester_email)
    received = received_at or utcnow()
    account = session.exec(select(User.id).where(col(User.email) == email)).first()
    row = DsrRequest(
        kind=kind,
        requester_email=email,
        requester_name=requester_name.strip()[:120],
        details=details.strip()[:5000],
        received_at=received,
        due_at=received + DEADLINE,
        user_id=account,
    )
    session.add(row)
    session.flush()
    record_audit(
        session=session,
        action="dsr.created",
        actor_id=actor_id,
        target=f"dsr:{row.id}",
        detail={"kind": kind},
    )
    return _view(row)


def verify_identity(
    *, session: Session, actor: HasRole, actor_id: int, request_id: int, method: str
) -> DsrView:
    require_role(actor, *_STAFF)
    method = method.strip()[:200]
    if len(method) < 5:
        raise ValidationError(
            "Say how you verified the requester (at least a few words).", code="dsr_no_method"
        )
    row = _row(session, request_id)
    if row.closed_at is not None:
        raise ValidationError("That request is closed.", code="dsr_closed")
    row.identity_method, row.identity_verified_at, row.status = method, utcnow(), "verified"
    session.add(row)
    session.flush()
    record_audit(session=session, action="dsr.identity_verified", actor_id=actor_id, target=f"dsr:{row.id}")
    return _view(row)


def require_verified(*, session: Session, request_id: int) -> tuple[DsrView, int]:
    """The request and its account id, refusing unverified requests and unknown accounts."""
    row = _row(session, request_id)
    if row.status != "verified" or row.identity_verified_at is None:
        raise ValidationError("Verify the requester's identity first.", code="dsr_unverified")
    if row.user_id is None or session.get(User, row.user_id) is None:
        raise NotFoundError("No account uses the requester's address.", code="dsr_no_account")
    return _view(row), row.user_id


def record_action(*, session: Session, actor_id: int, request_id: int, action: str) -> None:
    record_audit(
        session=session,
        action="dsr.action",
        actor_id=actor_id,
        target=f"dsr:{request_id}",
        detail={"action": action},
    )


def close_request(
    *,
    session: Session,
    actor: HasRole,
    actor_id: int,
    request_id: int,
    resolution: str,
    rejected: bool = False,
) -> DsrView:
    require_role(actor, *_STAFF)
    resolution = resolution.strip()[:500]
    if not resolution:
        raise ValidationError(
            "Write what was done (or why the request was refused).", code="dsr_no_resolution"
        )
    row = _row(session, request_id)
    row.status, row.closed_at, row.resolution = ("rejected" if rejected else "done"), utcnow(), resolution
    session.add(row)
    session.flush()
    record_audit(
        session=session,
        action="dsr.closed",
        actor_id=actor_id,
        target=f"dsr:{row.id}",
        detail={"status": row.status},
    )
    return _view(row)


def list_requests(*, session: Session, actor: HasRole, include_closed: bool = False) -> list[DsrView]:
    require_role(actor, *_STAFF)
    query = select(DsrRequest)
    if not include_closed:
        query = query.where(col(DsrRequest.closed_at).is_(None))
    return [_view(r) for r in session.exec(query.order_by(col(DsrRequest.due_at))).all()]


@dataclass(frozen=True, slots=True)
class Deadlines:
    """The open queue against its legal deadlines (the metrics read it at scrape time)."""

    open: int
    oldest_open_age_s: float
    """Seconds since the oldest open request was received; 0 when none is open."""
    due_soon: int
    """Open and due within DUE_SOON, not yet past the deadline."""
    overdue: int
    """Open and past the deadline."""


def deadlines(*, session: Session, now: datetime | None = None) -> Deadlines:
    now = now or utcnow()
    is_open = col(DsrRequest.closed_at).is_(None)
    count, oldest = session.exec(select(func.count(), func.min(DsrRequest.received_at)).where(is_open)).one()

    def _count(*where: ColumnElement[bool]) -> int:
        return int(session.exec(select(func.count()).select_from(DsrRequest).where(is_open, *where)).one())

    age = max(0.0, (now - as_utc(oldest)).total_seconds()) if oldest is not None else 0.0
    return Deadlines(
        open=int(count),
        oldest_open_age_s=age,
        due_soon=_count(col(DsrRequest.due_at) >= now, col(DsrRequest.due_at) < now + DUE_SOON),
        overdue=_count(col(DsrRequest.due_at) < now),
    )
