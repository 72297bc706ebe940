"""The staff outbox: queries over the mail the offline `OutboxMailer` stored, and its retention.

The adapter itself lives in `notifications/offline.py`; `sayzhong.wiring.get_mailer` chooses it.

The outbox holds working password-reset links, so only admins may read it (see
`list_outbox`); rows older than the retention period are removed by `purge_outbox`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from sayzhong.accounts.access import HasRole, require_admin
from sayzhong.db import as_utc, utcnow
from sayzhong.errors import NotFoundError
from sayzhong.notifications.models import OutboxEmail

OUTBOX_RETENTION = timedelta(days=14)


@dataclass(frozen=True, slots=True)
class OutboxEmailInfo:
    id: int
    created_at: datetime
    to: str
    from_address: str
    subject: str
    text_body: str
    html_body: str | None
    sent_via: str


@dataclass(frozen=True, slots=True)
class OutboxPage:
    items: list[OutboxEmailInfo]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def _info(row: OutboxEmail) -> OutboxEmailInfo:
    return OutboxEmailInfo(
        id=row.id or 0,
        created_at=as_utc(row.created_at),
        to=row.to_address,
        from_address=row.from_address,
        subject=row.subject,
        text_body=row.text_body,
        html_body=row.html_body,
        sent_via=row.sent_via,
    )


def list_outbox(
    *, session: Session, actor: HasRole | None, to: str | None = None, page: int = 1, page_size: int = 20
) -> OutboxPage:
    """Newest first; admins only (messages contain live reset links)."""
    require_admin(actor)
    page = max(1, page)
    page_size = min(max(1, page_size), 100)
    conditions = []
    if to:
        conditions.append(col(OutboxEmail.to_address) == to.strip().lower())
    total = session.exec(select(func.count()).select_from(OutboxEmail).where(*conditions)).one()
    rows = session.exec(
        select(OutboxEmail)
        .where(*conditions)
        .order_by(col(OutboxEmail.id).desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    return OutboxPage(items=[_info(r) for r in rows], total=int(total), page=page, page_size=page_size)


def get_outbox_email(*, session: Session, actor: HasRole | None, email_id: int) -> OutboxEmailInfo:
    require_admin(actor)
    row = session.get(OutboxEmail, email_id)
    if row is None:
        raise NotFoundError("That e-mail is no longer in the outbox.")
    return _info(row)


def latest_outbox_email_to(*, session: Session, to: str) -> OutboxEmailInfo | None:
    """Most recent outbox message to an address — for tests and operator tooling, not for pages."""
    row = session.exec(
        select(OutboxEmail)
        .where(col(OutboxEmail.to_address) == to.strip().lower())
        .order_by(col(OutboxEmail.id).desc())
        .limit(1)
    ).first()
    return _info(row) if row else None


def purge_outbox(*, session: Session, older_than: timedelta = OUTBOX_RETENTION) -> int:
    """Delete outbox rows past retention; returns how many. Meant for the jobs runner."""
    cutoff = utcnow() - older_than
    result = session.execute(
        delete(OutboxEmail).where(col(OutboxEmail.created_at) < cutoff),
        execution_options={"synchronize_session": "fetch"},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def delete_outbox_mail_to(*, session: Session, to: str) -> int:
    """For erasure requests: remove every outbox message addressed to `to`."""
    result = session.execute(
        delete(OutboxEmail).where(col(OutboxEmail.to_address) == to.strip().lower()),
        execution_options={"synchronize_session": "fetch"},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
