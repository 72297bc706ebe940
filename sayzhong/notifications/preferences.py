"""E-mail preferences per category, signed links for them, List-Unsubscribe, and suppressions.

Non-transactional mail (practice reminders, the weekly summary, product news) is opt-in per
category (`CATEGORIES`). Every such message carries a link to the tokenised preference page and the
RFC 8058 headers: `List-Unsubscribe: <https://…/email/unsubscribe/TOKEN>, <mailto:…>` and
`List-Unsubscribe-Post: List-Unsubscribe=One-Click`. The token is signed with SECRET_KEY
(itsdangerous, its own salt), names the learner and one category, and never expires (an old e-mail's
link must still work); a token for "all" opens the whole preference page.

Addresses that bounced hard or complained are suppressed (`email_suppression`): they get no
non-transactional mail; transactional mail (verification, password reset, export and deletion
notices) is still attempted, because the learner asked for it (see docs/operations.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from email.message import Message
from email.utils import parseaddr
from urllib.parse import quote, urlencode

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from sayzhong import routes
from sayzhong.accounts import users
from sayzhong.accounts.access import HasRole, Role, require_role
from sayzhong.accounts.schemas import UserInfo
from sayzhong.audit import record_audit
from sayzhong.db import as_utc, utcnow
from sayzhong.errors import NotFoundError, ValidationError
from sayzhong.notifications.models import EmailPreference, EmailSuppression
from sayzhong.settings import Settings, get_settings


@dataclass(frozen=True, slots=True)
class Category:
    key: str
    field: str
    label: str
    about: str


CATEGORIES: dict[str, Category] = {
    c.key: c
    for c in (
        Category("daily", "daily_reminder", "Daily practice reminder", "A nudge at your chosen time."),
        Category(
            "streak",
            "streak_reminder",
            "Streak at risk",
            "An evening reminder when your streak of 3 days or more would end at midnight.",
        ),
        Category(
            "weekly",
            "weekly_summary",
            "Weekly progress summary",
            "Every Monday: your takes, tone accuracy and tone chart for the past week.",
        ),
        Category("news", "product_news", "Product news", "New lessons and features, a few times a year."),
    )
}
ALL = "all"
"""The token scope of the preference page linked from every e-mail (every category)."""
_SALT = "sayzhong.email-preferences"
_MAX_TOKEN_LENGTH = 300
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
SUPPRESSION_REASONS = ("bounce", "complaint", "manual")


@dataclass(frozen=True, slots=True)
class Preferences:
    user_id: int
    daily: bool
    streak: bool
    weekly: bool
    news: bool
    reminder_time: str
    timezone: str

    def enabled(self, category: str) -> bool:
        return bool(getattr(self, category))


# --- preferences ------------------------------------------------------------------------------------


def parse_reminder_time(value: str) -> time:
    """ "HH:MM" (24-hour) → time; anything else is a plain-words ValidationError."""
    match = _TIME.match((value or "").strip())
    if not match:
        raise ValidationError(
            "Please give the reminder time as hours and minutes, for example 08:30.",
            code="reminder_time_invalid",
        )
    return time(int(match.group(1)), int(match.group(2)))


def _row(session: Session, user_id: int) -> EmailPreference | None:
    return session.exec(select(EmailPreference).where(col(EmailPreference.user_id) == user_id)).first()


def _view(row: EmailPreference | None, *, user_id: int, timezone: str) -> Preferences:
    row = row or EmailPreference(user_id=user_id)
    return Preferences(
        user_id=user_id,
        daily=row.daily_reminder,
        streak=row.streak_reminder,
        weekly=row.weekly_summary,
        news=row.product_news,
        reminder_time=row.reminder_time,
        timezone=timezone,
    )


def get_preferences(*, session: Session, user_id: int) -> Preferences:
    user = users.user_row(session, user_id)
    return _view(_row(session, user_id), user_id=user_id, timezone=user.timezone)


def update_preferences(
    *,
    session: Session,
    user_id: int,
    enabled: dict[str, bool] | None = None,
    reminder_time: str | None = None,
    timezone: str | None = None,
) -> Preferences:
    """Change the given categories, reminder time and (validated against zoneinfo) time zone."""
    enabled = enabled or {}
    unknown = set(enabled) - set(CATEGORIES)
    if unknown:
        raise ValidationError("That e-mail category does not exist.", code="email_category_invalid")
    parsed = parse_reminder_time(reminder_time) if reminder_time is not None else None
    if timezone is not None:
        users.update_profile(session=session, user_id=user_id, timezone=timezone)
    row = _row(session, user_id) or EmailPreference(user_id=user_id)
    for key, value in enabled.items():
        setattr(row, CATEGORIES[key].field, bool(value))
    if parsed is not None:
        row.reminder_time = parsed.strftime("%H:%M")
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    return get_preferences(session=session, user_id=user_id)


def opt_out_everything(*, session: Session, user_id: int) -> None:
    update_preferences(session=session, user_id=user_id, enabled=dict.fromkeys(CATEGORIES, False))


# --- signed links -----------------------------------------------------------------------------------


def _serializer(settings: Settings) -> URLSafeSerializer:
    return URLSafeSerializer(settings.secret_key, salt=_SALT)


def make_token(*, user_id: int, category: str, settings: Settings | None = None) -> str:
    if category != ALL and category not in CATEGORIES:
        raise ValueError(f"unknown e-mail category {category!r}")
    return _serializer(settings or get_settings()).dumps({"u": user_id, "c": category})


@dataclass(frozen=True, slots=True)
class LinkScope:
    user_id: int
    category: str
    """A key of CATEGORIES, or ALL."""


def read_token(token: str, *, settings: Settings | None = None) -> LinkScope:
    """The learner and category a link was made for; a tampered or malformed link is refused."""
    invalid = ValidationError(
        "This e-mail link is not valid. Open the link from the e-mail again, or sign in and change your "
        "e-mail settings on your account page.",
        code="email_link_invalid",
    )
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        raise invalid
    try:
        data = _serializer(settings or get_settings()).loads(token)
    except BadSignature:
        raise invalid from None
    if not isinstance(data, dict):
        raise invalid
    user_id, category = data.get("u"), data.get("c")
    if (
        not isinstance(user_id, int)
        or isinstance(user_id, bool)
        or not (category == ALL or category in CATEGORIES)
    ):
        raise invalid
    return LinkScope(user_id=user_id, category=str(category))


def preferences_url(*, user_id: int, settings: Settings | None = None, category: str = ALL) -> str:
    settings = settings or get_settings()
    token = make_token(user_id=user_id, category=category, settings=settings)
    return f"{settings.app_url.rstrip('/')}{routes.EMAIL_PREFERENCES}?{urlencode({'token': token})}"


def unsubscribe_url(*, user_id: int, category: str, settings: Settings | None = None) -> str:
    settings = settings or get_settings()
    token = make_token(user_id=user_id, category=category, settings=settings)
    return f"{settings.backend_url.rstrip('/')}{routes.email_unsubscribe_path(token)}"


def unsubscribe_mailbox(settings: Settings) -> str:
    if settings.mail_unsubscribe_address:
        return settings.mail_unsubscribe_address
    domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or "localhost"
    return f"unsubscribe@{domain}"


def list_unsubscribe_headers(
    *, user_id: int, category: str, settings: Settings | None = None
) -> tuple[tuple[str, str], ...]:
    """RFC 2369 + RFC 8058 headers: one-click POST to the HTTPS link, or a mail to the mailbox."""
    settings = settings or get_settings()
    url = unsubscribe_url(user_id=user_id, category=category, settings=settings)
    # The mailbox identifies the learner by the sender address; the subject names the category.
    mailto = f"mailto:{unsubscribe_mailbox(settings)}?subject={quote(f'unsubscribe {category}')}"
    return (
        ("List-Unsubscribe", f"<{url}>, <{mailto}>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
    )


@dataclass(frozen=True, slots=True)
class LinkPreferences:
    scope: LinkScope
    preferences: Preferences
    email_hint: str
    """The address with most of its local part hidden ("a***@example.com"): whose settings these are."""


def _hint(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def preferences_for_link(*, session: Session, token: str) -> LinkPreferences:
    scope = read_token(token)
    try:
        prefs = get_preferences(session=session, user_id=scope.user_id)
        email = users.user_row(session, scope.user_id).email
    except NotFoundError:
        raise NotFoundError(
            "This account no longer exists, so it gets no e-mail from us.", code="email_link_account_gone"
        ) from None
    return LinkPreferences(scope=scope, preferences=prefs, email_hint=_hint(email))


def update_by_link(
    *,
    session: Session,
    token: str,
    enabled: dict[str, bool],
    reminder_time: str | None = None,
    timezone: str | None = None,
) -> Preferences:
    """The tokenised page: an "all" link changes anything; a category link only its own category."""
    link = preferences_for_link(session=session, token=token)
    if link.scope.category != ALL:
        enabled = {k: v for k, v in enabled.items() if k == link.scope.category}
        reminder_time = timezone = None
    return update_preferences(
        session=session,
        user_id=link.scope.user_id,
        enabled=enabled,
        reminder_time=reminder_time,
        timezone=timezone,
    )


def unsubscribe(*, session: Session, token: str) -> LinkScope:
    """One-click unsubscribe (RFC 8058): the link's category (or every category) off, at once."""
    scope = read_token(token)
    try:
        users.user_row(session, scope.user_id)
    except NotFoundError:
        return scope  # an erased account gets nothing anyway: the unsubscribe "worked"
    keys = list(CATEGORIES) if scope.category == ALL else [scope.category]
    update_preferences(session=session, user_id=scope.user_id, enabled=dict.fromkeys(keys, False))
    return scope


# --- suppression ------------------------------------------------------------------------------------


def _norm(email: str) -> str:
    return email.strip().lower()


def is_suppressed(*, session: Session, email: str) -> bool:
    return (
        session.exec(select(EmailSuppression.id).where(col(EmailSuppression.email) == _norm(email))).first()
        is not None
    )


def suppressed_addresses(*, session: Session) -> set[str]:
    return set(session.exec(select(EmailSuppression.email)).all())


def suppress(*, session: Session, email: str, reason: str, source: str, detail: str = "") -> bool:
    """Add an address to the suppression list; False when it was there already (duplicates are fine).

    A complaint also turns off every category for the account using that address.
    """
    address = _norm(email)
    if reason not in SUPPRESSION_REASONS:
        raise ValidationError("Unknown suppression reason.", code="suppression_reason_invalid")
    if "@" not in address or len(address) > 320:
        raise ValidationError("That is not an e-mail address.", code="suppression_email_invalid")
    if reason == "complaint":
        user = users.find_user_by_email(session=session, email=address)
        if user is not None:
            opt_out_everything(session=session, user_id=user.id)
    if is_suppressed(session=session, email=address):
        return False
    session.add(EmailSuppression(email=address, reason=reason, source=source[:40], detail=detail[:500]))
    session.flush()
    return True


def unsuppress(*, session: Session, email: str) -> bool:
    result = session.execute(
        delete(EmailSuppression).where(col(EmailSuppression.email) == _norm(email)),
        execution_options={"synchronize_session": "fetch"},
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


SUPPRESSION_STAFF = (Role.SUPPORT, Role.ADMIN)
SUPPRESSION_LIST_LIMIT = 200


@dataclass(frozen=True, slots=True)
class SuppressionView:
    email: str
    reason: str
    source: str
    detail: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SuppressionList:
    items: list[SuppressionView]
    """The newest `SUPPRESSION_LIST_LIMIT` matches (a search narrows it down)."""
    total: int
    """How many addresses match the search and reason."""


def list_suppressions(
    *, session: Session, actor: HasRole | None, search: str = "", reason: str = ""
) -> SuppressionList:
    """Suppressed addresses whose e-mail contains `search`, of one `reason` (or all), newest first.
    Support and admins only (the staff page /admin/email)."""
    require_role(actor, *SUPPRESSION_STAFF)
    conditions = []
    term = _norm(search or "")[:320]
    if term:
        conditions.append(col(EmailSuppression.email).contains(term, autoescape=True))
    if reason:
        if reason not in SUPPRESSION_REASONS:
            raise ValidationError("Unknown suppression reason.", code="suppression_reason_invalid")
        conditions.append(col(EmailSuppression.reason) == reason)
    total = session.exec(select(func.count()).select_from(EmailSuppression).where(*conditions)).one()
    rows = session.exec(
        select(EmailSuppression)
        .where(*conditions)
        .order_by(col(EmailSuppression.created_at).desc(), col(EmailSuppression.id).desc())
        .limit(SUPPRESSION_LIST_LIMIT)
    ).all()
    return SuppressionList(
        [SuppressionView(r.email, r.reason, r.source, r.detail, as_utc(r.created_at)) for r in rows],
        int(total),
    )


def lift_suppression(*, session: Session, actor: UserInfo | None, email: str, ip: str | None = None) -> bool:
    """Staff take an address off the suppression list (after the learner fixed their mailbox, or a
    complaint was a mistake); audited as `email.suppression_lifted` with what the row said. False when
    the address was not suppressed. Opt-ins are not turned back on: the learner chooses them again."""
    require_role(actor, *SUPPRESSION_STAFF)
    address = _norm(email or "")
    row = session.exec(select(EmailSuppression).where(col(EmailSuppression.email) == address)).first()
    if row is None:
        return False
    detail = {"reason": row.reason, "source": row.source, "suppressed_at": as_utc(row.created_at).isoformat()}
    session.delete(row)
    record_audit(
        session=session,
        action="email.suppression_lifted",
        actor_id=actor.id if actor is not None else None,
        target=address,
        ip=ip,
        detail=detail,
    )
    return True


MAX_EVENTS = 500


def record_email_events(*, session: Session, payload: object, source: str = "webhook") -> dict[str, int]:
    """Bounce and complaint notifications in the generic JSON shape (docs/operations.md):

    `{"events": [{"type": "bounce", "email": "…", "bounce_type": "permanent", "detail": "…"},
    {"type": "complaint", "email": "…"}]}` (or one such event object). Permanent ("hard") bounces and
    complaints suppress the address; transient ("soft") bounces and other types are counted as
    ignored, events without a usable address as invalid (skipped, so one bad event loses no others).
    """
    events = payload.get("events", [payload]) if isinstance(payload, dict) else None
    if not isinstance(events, list) or not events:
        raise ValidationError('Send {"events": [ … ]} with at least one event.', code="email_events_invalid")
    if len(events) > MAX_EVENTS:
        raise ValidationError(f"At most {MAX_EVENTS} events per request.", code="email_events_too_many")
    counts = {"suppressed": 0, "already": 0, "ignored": 0, "invalid": 0}
    for event in events:
        # A malformed event is counted and skipped: refusing the batch would lose the good ones
        # (and the provider would retry the same batch for ever).
        address = event.get("email") if isinstance(event, dict) else None
        if not isinstance(address, str) or "@" not in address or len(address) > 320:
            counts["invalid"] += 1
            continue
        kind = str(event.get("type", "")).lower()
        bounce_type = str(event.get("bounce_type", "permanent")).lower()
        if kind == "complaint":
            reason = "complaint"
        elif kind == "bounce" and bounce_type in ("permanent", "hard"):
            reason = "bounce"
        else:
            counts["ignored"] += 1
            continue
        added = suppress(
            session=session,
            email=address,
            reason=reason,
            source=source,
            detail=str(event.get("detail", "")),
        )
        counts["suppressed" if added else "already"] += 1
    return counts


@dataclass(frozen=True, slots=True)
class DsnFailure:
    email: str
    status: str
    diagnostic: str


def parse_dsn(message: Message) -> list[DsnFailure]:
    """Permanent failures (Action: failed, Status 5.x.x) in a delivery status notification (RFC 3464)."""
    if message.get_content_type() != "multipart/report":
        return []
    failures = []
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        payload = part.get_payload()
        # The stdlib parses each per-recipient block of a delivery-status part into a Message.
        blocks = payload if isinstance(payload, list) else []
        for block in blocks:
            if not isinstance(block, Message):
                continue
            action = str(block.get("Action", "")).strip().lower()
            status = str(block.get("Status", "")).strip()
            recipient = str(block.get("Final-Recipient") or block.get("Original-Recipient") or "")
            address = recipient.partition(";")[2].strip() if ";" in recipient else recipient.strip()
            if action == "failed" and status.startswith("5") and "@" in address:
                diagnostic = str(block.get("Diagnostic-Code", "")).partition(";")[2].strip()
                failures.append(
                    DsnFailure(email=_norm(address), status=status, diagnostic=diagnostic or status)
                )
    return failures


def import_bounce_mbox(*, session: Session, path: str) -> dict[str, int]:
    """Suppress every hard-bounced recipient found in the DSN mails of an mbox file."""
    import mailbox

    counts = {"messages": 0, "suppressed": 0, "already": 0}
    box = mailbox.mbox(path, create=False)
    try:
        for message in box:
            counts["messages"] += 1
            for failure in parse_dsn(message):
                added = suppress(
                    session=session,
                    email=failure.email,
                    reason="bounce",
                    source="dsn",
                    detail=f"{failure.status} {failure.diagnostic}"[:500],
                )
                counts["suppressed" if added else "already"] += 1
    finally:
        box.close()
    return counts


# --- privacy -----------------------------------------------------------------------------------------


def erase_email_data(*, session: Session, user_id: int, email: str) -> int:
    """Account erasure: preferences and deliveries go with the account; the suppression of its
    address is removed too (a new account at that address starts unsuppressed and unverified)."""
    from sayzhong.notifications.models import EmailDelivery, ProductNewsDelivery

    removed = 0
    for statement in (
        delete(EmailPreference).where(col(EmailPreference.user_id) == user_id),
        delete(EmailDelivery).where(col(EmailDelivery.user_id) == user_id),
        delete(ProductNewsDelivery).where(col(ProductNewsDelivery.user_id) == user_id),
        delete(EmailSuppression).where(col(EmailSuppression.email) == _norm(email)),
    ):
        result = session.execute(statement, execution_options={"synchronize_session": "fetch"})
        removed += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return removed
