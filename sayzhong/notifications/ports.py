"""The mailer port: what the rest of SayZhong needs from an e-mail sender.

Adapters: `OutboxMailer` (offline default, sayzhong.notifications.offline) stores messages in the
`outbox_email` table for the staff outbox page; `SmtpMailer` (sayzhong.integrations.smtp_mailer)
sends through an SMTP relay when SMTP_HOST is set. `sayzhong.wiring.get_mailer` chooses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class InlineImage:
    """An image the HTML part shows with `<img src="cid:{cid}">` (sent as multipart/related)."""

    cid: str
    data: bytes
    subtype: str = "png"
    filename: str = "image.png"


@dataclass(frozen=True, slots=True)
class EmailMessageData:
    to: str
    subject: str
    text_body: str
    html_body: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    """Extra headers, e.g. List-Unsubscribe and List-Unsubscribe-Post on non-transactional mail."""
    inline_images: tuple[InlineImage, ...] = ()


class Mailer(Protocol):
    def send(self, message: EmailMessageData) -> None:
        """Deliver (or durably queue) one message; raise on failure."""
        ...
