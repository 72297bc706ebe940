"""Account records: e-mail and name normalisation, sign-up, and the learner's profile.

Keyword-only functions taking the caller's `Session`; they flush, never commit, and return frozen
dataclasses from sayzhong.accounts.schemas. The small row helpers here (`user_row`,
`user_by_email`, `touch`) are shared by the other account modules.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from zoneinfo import available_timezones

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from sayzhong.accounts.access import Role
from sayzhong.accounts.models import User
from sayzhong.accounts.passwords import check_password_policy, hash_password
from sayzhong.accounts.schemas import UserInfo
from sayzhong.audit import record_audit
from sayzhong.db import utcnow
from sayzhong.errors import NotFoundError, ValidationError

MAX_DISPLAY_NAME_LENGTH = 80
MIN_DAILY_GOAL_MINUTES = 1
MAX_DAILY_GOAL_MINUTES = 240
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")


def normalize_email(email: str) -> str:
    """Validated (syntax only, no DNS) and lower-cased; raises ValidationError with the reason."""
    if not isinstance(email, str) or not email.strip():
        raise ValidationError("Please enter your e-mail address.", code="email_missing")
    try:
        result = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationError(f"Please enter a valid e-mail address. {exc}", code="email_invalid") from None
    return result.normalized.lower()


def email_key(email: str) -> str:
    """Throttle/audit key for whatever was typed, valid or not."""
    try:
        return normalize_email(email)
    except ValidationError:
        return (email or "").strip().lower()[:320]


def clean_display_name(display_name: str | None, *, fallback: str) -> str:
    name = unicodedata.normalize("NFC", _CONTROL_CHARS.sub("", display_name or "")).strip()
    name = re.sub(r"\s+", " ", name)
    if not name:
        name = fallback[:MAX_DISPLAY_NAME_LENGTH]
    if len(name) > MAX_DISPLAY_NAME_LENGTH:
        raise ValidationError(
            f"Your display name can be at most {MAX_DISPLAY_NAME_LENGTH} characters long.",
            code="display_name_too_long",
        )
    return name


@lru_cache(maxsize=1)
def _timezones() -> frozenset[str]:
    return frozenset(available_timezones()) | {"UTC"}


def is_known_timezone(name: str) -> bool:
    """Whether `name` is an IANA time zone this server knows (what a browser's Intl API reports)."""
    return isinstance(name, str) and name in _timezones()


def user_row(session: Session, user_id: int) -> User:
    row = session.get(User, user_id)
    if row is None:
        raise NotFoundError("We could not find that account.")
    return row


def user_by_email(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(col(User.email) == email)).first()


def touch(row: User) -> None:
    row.updated_at = utcnow()


def sign_up(
    *, session: Session, email: str, password: str, display_name: str, ip: str | None = None
) -> UserInfo:
    """Create a learner account. Sign them in with `start_session` afterwards."""
    normalized = normalize_email(email)
    check_password_policy(password, email=normalized)
    name = clean_display_name(display_name, fallback=normalized.split("@", 1)[0])
    duplicate = ValidationError(
        "An account with this e-mail address already exists. Sign in, or use “Forgot password” "
        "if you cannot remember your password.",
        code="email_taken",
    )
    if user_by_email(session, normalized) is not None:
        raise duplicate
    row = User(email=normalized, password_hash=hash_password(password), display_name=name, role=Role.LEARNER)
    row.password_changed_at = utcnow()
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # a concurrent sign-up with the same e-mail won the race
        raise duplicate from None
    assert row.id is not None
    record_audit(session=session, action="user.signed_up", actor_id=row.id, target=f"user:{row.id}", ip=ip)
    return UserInfo.from_row(row)


def get_user(*, session: Session, user_id: int) -> UserInfo:
    return UserInfo.from_row(user_row(session, user_id))


def find_user(*, session: Session, user_id: int) -> UserInfo | None:
    """The account, or None when it no longer exists."""
    row = session.get(User, user_id)
    return UserInfo.from_row(row) if row else None


def find_user_by_email(*, session: Session, email: str) -> UserInfo | None:
    """Exact lookup by normalised e-mail (operator tools; not for anonymous pages)."""
    row = user_by_email(session, normalize_email(email))
    return UserInfo.from_row(row) if row else None


def update_profile(
    *,
    session: Session,
    user_id: int,
    display_name: str | None = None,
    timezone: str | None = None,
    daily_goal_minutes: int | None = None,
) -> UserInfo:
    """Change any of the given fields (None leaves a field as it is)."""
    row = user_row(session, user_id)
    if display_name is not None:
        row.display_name = clean_display_name(display_name, fallback=row.display_name)
    if timezone is not None:
        tz = timezone.strip()
        if tz not in _timezones():
            raise ValidationError(
                "Please choose a time zone from the list (for example Europe/Berlin).",
                code="timezone_invalid",
            )
        row.timezone = tz
    if daily_goal_minutes is not None:
        if isinstance(daily_goal_minutes, bool) or not isinstance(daily_goal_minutes, int):
            raise ValidationError(
                "The daily goal must be a whole number of minutes.", code="daily_goal_invalid"
            )
        if not MIN_DAILY_GOAL_MINUTES <= daily_goal_minutes <= MAX_DAILY_GOAL_MINUTES:
            raise ValidationError(
                f"The daily goal must be between {MIN_DAILY_GOAL_MINUTES} and "
                f"{MAX_DAILY_GOAL_MINUTES} minutes.",
                code="daily_goal_invalid",
            )
        row.daily_goal_minutes = daily_goal_minutes
    touch(row)
    session.add(row)
    session.flush()
    return UserInfo.from_row(row)
