"""The staff outbox: queries over the mail the offline `OutboxMailer` stored, and its retention.

The adapter itself lives in `notifications/offline.py`; `sayzhong.wiring.get_mailer` chooses it.

The outbox holds working password-reset and verification links, so only admins may read it, and
only an admin in `ENV=dev` sees those links intact: everywhere else the token in them is redacted,
so no staff member can take over an account from this page. Production refuses to start without
SMTP, so there the outbox is empty. Rows older than the retention period are removed by
`purge_outbox`.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from sayzhong.accounts.access import HasRole, require_admin
from sayzhong.db import as_utc, utcnow
from sayzhong.errors import NotFoundError
from sayzhong.notifications.models import OutboxEmail
from sayzhong.settings import get_settings

OUTBOX_RETENTION = timedelta(days=14)
# The secret part of every e-mailed link (reset, verification): the value of a `token` parameter.
_LINK_TOKEN = re.compile(r"([?&](?:amp;)?token=)[^\s&\"'<>]+")
# …and the signed part of a one-click unsubscribe link (issue 14), which is in the path.
_PATH_TOKEN = re.compile(r"(/email/unsubscribe/)[^\s&\"'<>/]+")
REDACTED = "[redacted]"


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


def redact_links(text: str) -> str:
    """`text` with the token of every link replaced, so the link can be seen but not used."""
    text = _LINK_TOKEN.sub(lambda m: m.group(1) + REDACTED, text)
    return _PATH_TOKEN.sub(lambda m: m.group(1) + REDACTED, text)


def _reveals_links(env: str | None) -> bool:
    """Live links are shown only in development (the caller has already been checked to be an admin)."""
    return (env or get_settings().env) == "dev"


def _for_staff(info: OutboxEmailInfo, env: str | None) -> OutboxEmailInfo:
    if _reveals_links(env):
        return info
    return dataclasses.replace(
        info,
        text_body=redact_links(info.text_body),
        html_body=redact_links(info.html_body) if info.html_body is not None else None,
    )


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
    *,
    session: Session,
    actor: HasRole | None,
    to: str | None = None,
    page: int = 1,
    page_size: int = 20,
    env: str | None = None,
) -> OutboxPage:
    """Newest first; admins only. Link tokens are redacted unless `env` (default: ENV) is dev."""
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
    items = [_for_staff(_info(r), env) for r in rows]
    return OutboxPage(items=items, total=int(total), page=page, page_size=page_size)


def get_outbox_email(
    *, session: Session, actor: HasRole | None, email_id: int, env: str | None = None
) -> OutboxEmailInfo:
    """One message for the outbox page; admins only, links redacted as in `list_outbox`."""
    require_admin(actor)
    row = session.get(OutboxEmail, email_id)
    if row is None:
        raise NotFoundError("That e-mail is no longer in the outbox.")
    return _for_staff(_info(row), env)


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
