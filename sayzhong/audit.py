"""Append-only audit log of security-relevant actions (sign-in, password and role changes, …).

Features call `record_audit(...)` inside their own unit of work, so the audit row commits or rolls
back with the change it describes. Staff pages read it through `list_audit_events`; there is
deliberately no update or delete function.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Column, DateTime, delete, func, update
from sqlmodel import Field, Session, SQLModel, col, select

from sayzhong.db import as_utc, utcnow


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False, index=True)
    )
    actor_id: int | None = Field(default=None, index=True)
    """User who acted (None for anonymous, e.g. a failed sign-in). No foreign key: audit outlives users."""
    action: str = Field(max_length=64, index=True)
    target: str | None = Field(default=None, max_length=320)
    """What was acted on, e.g. "user:42" or the e-mail typed at a failed sign-in."""
    ip: str | None = Field(default=None, max_length=64)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


@dataclass(frozen=True, slots=True)
class AuditEventInfo:
    id: int
    created_at: datetime
    actor_id: int | None
    action: str
    target: str | None
    ip: str | None
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class AuditPage:
    items: list[AuditEventInfo]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def record_audit(
    *,
    session: Session,
    action: str,
    actor_id: int | None = None,
    target: str | None = None,
    ip: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one audit row to the caller's unit of work (flushed, not committed)."""
    session.add(
        AuditEvent(
            action=action,
            actor_id=actor_id,
            target=target[:320] if target else None,
            ip=ip[:64] if ip else None,
            detail=dict(detail or {}),
        )
    )
    session.flush()


def list_audit_events(
    *,
    session: Session,
    action: str | None = None,
    actor_id: int | None = None,
    target: str | None = None,
    page: int = 1,
    page_size: int = 50,
) -> AuditPage:
    """Newest first. Access control is the caller's job (see sayzhong.accounts.access)."""
    page = max(1, page)
    page_size = min(max(1, page_size), 200)
    conditions = []
    if action:
        conditions.append(col(AuditEvent.action) == action)
    if actor_id is not None:
        conditions.append(col(AuditEvent.actor_id) == actor_id)
    if target:
        conditions.append(col(AuditEvent.target) == target)
    total = session.exec(select(func.count()).select_from(AuditEvent).where(*conditions)).one()
    rows = session.exec(
        select(AuditEvent)
        .where(*conditions)
        .order_by(col(AuditEvent.id).desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    items = [
        AuditEventInfo(
            id=row.id or 0,
            created_at=as_utc(row.created_at),
            actor_id=row.actor_id,
            action=row.action,
            target=row.target,
            ip=row.ip,
            detail=dict(row.detail or {}),
        )
        for row in rows
    ]
    return AuditPage(items=items, total=int(total), page=page, page_size=page_size)


AUDIT_RETENTION = timedelta(days=365)
ERASED = "erased"


def pseudonymise_audit_email(*, session: Session, email: str) -> int:
    """For erasure requests: replace an e-mail used as audit target (failed sign-ins, reset requests).

    The only change ever made to audit rows; actor ids stay (they point at nothing once the user row
    is deleted). Returns the number of rows changed.
    """
    result = session.execute(
        update(AuditEvent).where(col(AuditEvent.target) == email.strip().lower()).values(target=ERASED),
        execution_options={"synchronize_session": "fetch"},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def purge_audit_events(*, session: Session, older_than: timedelta = AUDIT_RETENTION) -> int:
    """Delete audit rows past retention (jobs runner)."""
    result = session.execute(
        delete(AuditEvent).where(col(AuditEvent.created_at) < utcnow() - older_than),
        execution_options={"synchronize_session": "fetch"},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
