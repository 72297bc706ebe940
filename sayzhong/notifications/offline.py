"""Offline mailer: messages go to the `outbox_email` table instead of an SMTP relay.

The default adapter for `notifications.ports.Mailer` outside production (`sayzhong.wiring` picks
SMTP when SMTP_HOST is set; production refuses to start without it). Staff read the table on the
outbox page through `notifications.service`.
"""

from __future__ import annotations

from sqlmodel import Session

from sayzhong.notifications.models import OutboxEmail
from sayzhong.notifications.ports import EmailMessageData


class OutboxMailer:
    """Stores each message in the caller's unit of work (committed with it)."""

    def __init__(self, session: Session, *, mail_from: str) -> None:
        self._session = session
        self._mail_from = mail_from

    def send(self, message: EmailMessageData) -> None:
        self._session.add(
            OutboxEmail(
                to_address=message.to,
                from_address=self._mail_from,
                subject=message.subject,
                text_body=message.text_body
                + "".join(f"\n[attached: {a.filename}]" for a in message.attachments if not a.inline_id),
                html_body=message.html_body,
                sent_via="outbox",
            )
        )
        self._session.flush()
