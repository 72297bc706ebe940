"""The mailer port: what the rest of SayZhong needs from an e-mail sender.

Adapters: `OutboxMailer` (offline default, sayzhong.notifications.offline) stores messages in the
`outbox_email` table for the staff outbox page; `SmtpMailer` (sayzhong.integrations.smtp_mailer)
sends through an SMTP relay when SMTP_HOST is set. `sayzhong.wiring.get_mailer` chooses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class EmailAttachment:
    """A file sent with a message (issue 15: report CSVs), or an image the HTML shows inline."""

    filename: str
    content_type: str
    data: bytes
    inline_id: str | None = None
    """Content-ID of an inline image: the HTML refers to it as `<img src="cid:{inline_id}">`."""


@dataclass(frozen=True, slots=True)
class EmailMessageData:
    to: str
    subject: str
    text_body: str
    html_body: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    """Extra headers, e.g. List-Unsubscribe and List-Unsubscribe-Post on non-transactional mail."""
    attachments: tuple[EmailAttachment, ...] = ()
    """Files sent with the message; those with an `inline_id` are images the HTML part shows."""


class Mailer(Protocol):
    def send(self, message: EmailMessageData) -> None:
        """Deliver (or durably queue) one message; raise on failure."""
        ...
