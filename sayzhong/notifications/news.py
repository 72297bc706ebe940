"""Product-news e-mail: a staff-triggered campaign to learners who opted in to "Product news".

Marketing (or an admin, or an operator on the command line) names a campaign with a short key and
writes the subject and plain-text body; `send_product_news` sends it to every learner who opted in
to the news category, whose address is verified and not suppressed, and whose account is active and
not waiting for erasure — the same audience rules as reminders (`reminders.eligible_recipients`).

Each message carries the `List-Unsubscribe` + one-click (RFC 8058) headers and footer of the other
non-transactional mail. A send is claimed first (`product_news_delivery`, unique per campaign and
learner, committed before the message goes out), so running the same campaign again — after a crash,
or twice by mistake — sends nothing twice; learners who opted in since get it on the re-run.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from sayzhong.accounts.access import Role, require_role
from sayzhong.accounts.schemas import UserInfo
from sayzhong.audit import record_audit
from sayzhong.db import session_scope, utcnow
from sayzhong.errors import ValidationError
from sayzhong.notifications.models import ProductNewsDelivery
from sayzhong.notifications.ports import EmailMessageData
from sayzhong.notifications.reminders import (
    MailerFactory,
    Recipient,
    SessionFactory,
    _default_mailer,
    _deliver,
    _message,
    eligible_recipients,
)
from sayzhong.settings import Settings, get_settings

CATEGORY = "news"
NEWS_ROLES = (Role.MARKETING, Role.ADMIN)
_CAMPAIGN = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,63}$")
MAX_SUBJECT = 150
MAX_BODY = 20_000


@dataclass(frozen=True, slots=True)
class NewsLetter:
    campaign: str
    subject: str
    body: str


@dataclass(frozen=True, slots=True)
class NewsResult:
    campaign: str
    audience: int
    sent: int
    already: int
    """Learners who had this campaign already (an earlier run): nothing sent to them again."""
    failed: int
    """Sends the mail transport refused; their claims were released, so a re-run retries them."""


def validate_news(*, campaign: str, subject: str, body: str) -> NewsLetter:
    """The campaign, cleaned, or a plain-words error naming what to fix."""
    campaign = (campaign or "").strip().lower()
    subject = " ".join((subject or "").split())
    body = (body or "").replace("\r\n", "\n").strip()
    if not _CAMPAIGN.match(campaign):
        raise ValidationError(
            "The campaign key must be 3 to 64 lower-case letters, digits, '-', '_' or '.', "
            "e.g. 2026-12-new-dialogues.",
            code="news_bad_campaign",
        )
    if not subject or len(subject) > MAX_SUBJECT:
        raise ValidationError(
            f"The subject must be between 1 and {MAX_SUBJECT} characters.", code="news_bad_subject"
        )
    if not body or len(body) > MAX_BODY:
        raise ValidationError(
            f"The message must be between 1 and {MAX_BODY:,} characters.", code="news_bad_body"
        )
    return NewsLetter(campaign, subject, body)


def news_message(settings: Settings, r: Recipient, letter: NewsLetter) -> EmailMessageData:
    """The letter for one learner: greeting, the staff text (plain text, escaped in the HTML part,
    blank lines as paragraphs), and the unsubscribe footer and headers of the news category."""
    paragraphs = [p.strip() for p in letter.body.split("\n\n") if p.strip()]
    markup = "".join(
        f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in [f"Hi {r.display_name},", *paragraphs]
    )
    return _message(
        settings,
        r,
        CATEGORY,
        subject=letter.subject,
        text=f"Hi {r.display_name},\n\n{letter.body}\n",
        markup=markup,
    )


def news_audience(*, session: Session) -> list[Recipient]:
    """Who a campaign goes to now: opted in to product news, verified, not suppressed, active."""
    return eligible_recipients(session=session, categories=(CATEGORY,))


def campaign_sent_count(*, session: Session, campaign: str) -> int:
    return int(
        session.exec(
            select(func.count())
            .select_from(ProductNewsDelivery)
            .where(col(ProductNewsDelivery.campaign) == campaign, col(ProductNewsDelivery.status) == "sent")
        ).one()
    )


def send_product_news(
    *,
    campaign: str,
    subject: str,
    body: str,
    actor: UserInfo | None,
    session_factory: SessionFactory = session_scope,
    mailer_factory: MailerFactory | None = None,
    settings: Settings | None = None,
) -> NewsResult:
    """Send a campaign to its audience, each learner at most once per campaign; audited.

    `actor` is the signed-in staff member (marketing or admin); None only for the operator's command
    line. Commits per message (claims must be visible to a concurrent run), so call it outside a
    request's unit of work.
    """
    if actor is not None:
        require_role(actor, *NEWS_ROLES)
    letter = validate_news(campaign=campaign, subject=subject, body=body)
    settings = settings or get_settings()
    mailer_factory = mailer_factory or _default_mailer
    with session_factory() as session:
        audience = news_audience(session=session)
    counts = {"sent": 0, "taken": 0, "failed": 0}
    for r in audience:
        outcome = _deliver(
            session_factory=session_factory,
            mailer_factory=mailer_factory,
            r=r,
            category=CATEGORY,
            claim=ProductNewsDelivery(campaign=letter.campaign, user_id=r.user_id, claimed_at=utcnow()),
            build=lambda _s, r=r: news_message(settings, r, letter),  # type: ignore[misc]
        )
        counts[outcome] += 1
    result = NewsResult(letter.campaign, len(audience), counts["sent"], counts["taken"], counts["failed"])
    with session_factory() as session:
        record_audit(
            session=session,
            action="email.product_news_sent",
            actor_id=actor.id if actor is not None else None,
            target=f"campaign:{letter.campaign}",
            detail={
                "subject": letter.subject,
                "audience": result.audience,
                "sent": result.sent,
                "already": result.already,
                "failed": result.failed,
            },
        )
    return result
