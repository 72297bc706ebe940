"""Accounts: sign-up, password sign-in, sessions, password change and reset, profile, roles.

Every function is keyword-only, takes the caller's `Session`, flushes but never commits, and
returns frozen dataclasses from sayzhong.accounts.schemas. Errors are SayZhongError subclasses
whose `user_message` can be shown as is.

Sign-in functions (`authenticate`, and `complete_oidc_login` in sayzhong.accounts.oidc) return a
`SignInResult` instead of raising on bad credentials: commit the session first (that stores the
failed attempt for throttling and the audit row), then call `result.unwrap()` or read `.error`.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from datetime import timedelta
from functools import lru_cache
from zoneinfo import available_timezones

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from sayzhong.accounts import sessions as sessions_mod
from sayzhong.accounts.access import HasRole, Role, parse_role, require_role
from sayzhong.accounts.models import PasswordResetToken, User
from sayzhong.accounts.passwords import (
    MAX_PASSWORD_LENGTH,
    check_password_policy,
    hash_password,
    needs_rehash,
    verify_password,
    verify_password_or_dummy,
)
from sayzhong.accounts.schemas import AdminBootstrapResult, SessionInfo, SignInResult, UserInfo, UserPage
from sayzhong.accounts.throttle import check_sign_in_allowed, record_sign_in_attempt
from sayzhong.audit import AuditPage, list_audit_events, record_audit
from sayzhong.db import as_utc, utcnow
from sayzhong.errors import (
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ValidationError,
)
from sayzhong.notifications.ports import EmailMessageData, Mailer
from sayzhong.settings import get_settings

WRONG_CREDENTIALS_MESSAGE = "The e-mail address or password is incorrect."
MAX_DISPLAY_NAME_LENGTH = 80
MIN_DAILY_GOAL_MINUTES = 1
MAX_DAILY_GOAL_MINUTES = 240
# At most this many reset e-mails per account per reset-TTL window; extra requests are silently dropped.
MAX_RESET_EMAILS_PER_WINDOW = 3
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")


# --- input normalisation ---------------------------------------------------------------------------


def normalize_email(email: str) -> str:
    """Validated (syntax only, no DNS) and lower-cased; raises ValidationError with the reason."""
    if not isinstance(email, str) or not email.strip():
        raise ValidationError("Please enter your e-mail address.", code="email_missing")
    try:
        result = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationError(f"Please enter a valid e-mail address. {exc}", code="email_invalid") from None
    return result.normalized.lower()


def _email_key(email: str) -> str:
    """Throttle/audit key for whatever was typed, valid or not."""
    try:
        return normalize_email(email)
    except ValidationError:
        return (email or "").strip().lower()[:320]


def _clean_display_name(display_name: str | None, *, fallback: str) -> str:
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


def _user_row(session: Session, user_id: int) -> User:
    row = session.get(User, user_id)
    if row is None:
        raise NotFoundError("We could not find that account.")
    return row


def _by_email(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(col(User.email) == email)).first()


def _touch(row: User) -> None:
    row.updated_at = utcnow()


# --- sign-up and sign-in ---------------------------------------------------------------------------


def sign_up(
    *, session: Session, email: str, password: str, display_name: str, ip: str | None = None
) -> UserInfo:
    """Create a learner account. Sign them in with `start_session` afterwards."""
    normalized = normalize_email(email)
    check_password_policy(password, email=normalized)
    name = _clean_display_name(display_name, fallback=normalized.split("@", 1)[0])
    duplicate = ValidationError(
        "An account with this e-mail address already exists. Sign in, or use “Forgot password” "
        "if you cannot remember your password.",
        code="email_taken",
    )
    if _by_email(session, normalized) is not None:
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


def start_session(
    *,
    session: Session,
    user_id: int,
    ip: str | None,
    user_agent: str | None,
    auth_method: str = "password",
    replaces_token: str | None = None,
) -> str:
    """Open a session for an already-verified user (e.g. right after sign-up). Returns the raw token."""
    return sessions_mod.create_session(
        session=session,
        user_id=user_id,
        ip=ip,
        user_agent=user_agent,
        auth_method=auth_method,
        replaces_token=replaces_token,
    )


def authenticate(
    *,
    session: Session,
    email: str,
    password: str,
    ip: str | None,
    user_agent: str | None,
    current_token: str | None = None,
) -> SignInResult:
    """Password sign-in with throttling, constant-time checks, audit and session rotation.

    Commit the session, then `result.unwrap()` → (UserInfo, raw session token) or raises
    AuthenticationError / RateLimitedError / ValidationError with a user-facing message.
    `current_token` is any session cookie the browser sent: it is revoked (rotation).
    """
    if not email or not email.strip() or not password:
        return SignInResult(
            error=ValidationError(
                "Please enter your e-mail address and password.", code="credentials_missing"
            )
        )
    settings = get_settings()
    email_key = _email_key(email)
    try:
        check_sign_in_allowed(session=session, settings=settings, email_key=email_key, ip=ip)
    except RateLimitedError as exc:
        record_audit(
            session=session,
            action="sign_in.throttled",
            target=email_key,
            ip=ip,
            detail={"retry_after_s": exc.retry_after_s},
        )
        return SignInResult(error=exc)

    row = _by_email(session, email_key)
    if len(password) > MAX_PASSWORD_LENGTH * 4:  # never hash megabytes; still spend the usual time
        verify_password_or_dummy(None, "")
        ok = False
    else:
        ok = verify_password_or_dummy(row.password_hash if row else None, password)
    if not ok or row is None or row.id is None:
        record_sign_in_attempt(session=session, email_key=email_key, ip=ip, succeeded=False)
        record_audit(
            session=session,
            action="sign_in.failed",
            actor_id=row.id if row else None,
            target=email_key,
            ip=ip,
            detail={"method": "password", "known_account": row is not None},
        )
        return SignInResult(error=AuthenticationError(WRONG_CREDENTIALS_MESSAGE, code="wrong_credentials"))

    if row.password_hash and needs_rehash(row.password_hash):
        row.password_hash = hash_password(password)
        session.add(row)
    record_sign_in_attempt(session=session, email_key=email_key, ip=ip, succeeded=True)
    token = sessions_mod.create_session(
        session=session, user_id=row.id, ip=ip, user_agent=user_agent, replaces_token=current_token
    )
    record_audit(
        session=session,
        action="sign_in.succeeded",
        actor_id=row.id,
        target=f"user:{row.id}",
        ip=ip,
        detail={"method": "password"},
    )
    return SignInResult(user=UserInfo.from_row(row), token=token)


def resolve_session(*, session: Session, token: str | None) -> SessionInfo | None:
    """Live session for a cookie value, else None (unknown, tampered, revoked, idle or too old)."""
    return sessions_mod.resolve_session(session=session, token=token)


def sign_out(*, session: Session, token: str | None, ip: str | None = None) -> None:
    user_id = sessions_mod.revoke_token(session=session, token=token)
    if user_id is not None:
        record_audit(session=session, action="sign_out", actor_id=user_id, target=f"user:{user_id}", ip=ip)


def list_sessions(*, session: Session, user_id: int, current_token: str | None = None) -> list[SessionInfo]:
    """Active sessions, most recently used first; `is_current` marks the one behind current_token."""
    return sessions_mod.list_active_sessions(session=session, user_id=user_id, current_token=current_token)


def revoke_other_sessions(*, session: Session, user_id: int, keep_token: str, ip: str | None = None) -> int:
    count = sessions_mod.revoke_user_sessions(session=session, user_id=user_id, keep_token=keep_token)
    record_audit(
        session=session,
        action="sessions.revoked_others",
        actor_id=user_id,
        target=f"user:{user_id}",
        ip=ip,
        detail={"count": count},
    )
    return count


def revoke_session(*, session: Session, user_id: int, session_id: int, ip: str | None = None) -> None:
    """Sign out one device listed on the account page."""
    if not sessions_mod.revoke_session_by_id(session=session, user_id=user_id, session_id=session_id):
        raise NotFoundError("That session no longer exists.")
    record_audit(
        session=session,
        action="sessions.revoked_one",
        actor_id=user_id,
        target=f"user:{user_id}",
        ip=ip,
        detail={"session_id": session_id},
    )


# --- passwords -------------------------------------------------------------------------------------


def change_password(
    *,
    session: Session,
    user_id: int,
    current_password: str | None,
    new_password: str,
    keep_token: str | None,
    ip: str | None = None,
) -> None:
    """Change (or, for OIDC-only accounts, set) the password and sign out every other session."""
    row = _user_row(session, user_id)
    if row.password_hash is not None:
        if not current_password or not verify_password(row.password_hash, current_password):
            raise AuthenticationError("Your current password is not correct.", code="wrong_current_password")
    check_password_policy(new_password, email=row.email)
    if current_password and secrets.compare_digest(current_password.encode(), new_password.encode()):
        raise ValidationError(
            "Your new password must be different from the current one.", code="password_unchanged"
        )
    row.password_hash = hash_password(new_password)
    row.password_changed_at = utcnow()
    _touch(row)
    session.add(row)
    revoked = sessions_mod.revoke_user_sessions(session=session, user_id=user_id, keep_token=keep_token)
    _invalidate_reset_tokens(session, user_id)
    record_audit(
        session=session,
        action="password.changed",
        actor_id=user_id,
        target=f"user:{user_id}",
        ip=ip,
        detail={"other_sessions_revoked": revoked},
    )


def _invalidate_reset_tokens(session: Session, user_id: int) -> None:
    now = utcnow()
    for token_row in session.exec(
        select(PasswordResetToken).where(
            col(PasswordResetToken.user_id) == user_id, col(PasswordResetToken.used_at).is_(None)
        )
    ).all():
        token_row.used_at = now
        session.add(token_row)
    session.flush()


def reset_link(app_url: str, token: str) -> str:
    return f"{app_url.rstrip('/')}/reset-password?token={token}"


def request_password_reset(
    *,
    session: Session,
    email: str,
    app_url: str,
    ip: str | None = None,
    mailer: Mailer | None = None,
) -> None:
    """E-mail a single-use reset link if the account exists. Same outcome either way (no enumeration).

    `mailer` defaults to the one `sayzhong.wiring` picks from settings. Raises ValidationError only
    for a malformed address (that reveals nothing about accounts).
    """
    from sayzhong import wiring

    normalized = normalize_email(email)
    settings = get_settings()
    mailer = mailer or wiring.get_mailer(settings, session=session)
    row = _by_email(session, normalized)
    if row is None or row.id is None:
        record_audit(
            session=session,
            action="password.reset_requested",
            target=normalized,
            ip=ip,
            detail={"known_account": False},
        )
        return
    now = utcnow()
    ttl = timedelta(minutes=settings.password_reset_ttl_minutes)
    recent = session.exec(
        select(func.count())
        .select_from(PasswordResetToken)
        .where(col(PasswordResetToken.user_id) == row.id, col(PasswordResetToken.created_at) > now - ttl)
    ).one()
    if recent >= MAX_RESET_EMAILS_PER_WINDOW:
        record_audit(
            session=session, action="password.reset_throttled", actor_id=None, target=f"user:{row.id}", ip=ip
        )
        return
    token = secrets.token_urlsafe(32)
    session.add(
        PasswordResetToken(
            user_id=row.id,
            token_hash=sessions_mod.hash_token(token),
            created_at=now,
            expires_at=now + ttl,
            requested_ip=ip[:64] if ip else None,
        )
    )
    session.flush()
    link = reset_link(app_url, token)
    minutes = settings.password_reset_ttl_minutes
    mailer.send(
        EmailMessageData(
            to=row.email,
            subject="Reset your SayZhong password",
            text_body=(
                f"Hello {row.display_name},\n\n"
                "Someone (hopefully you) asked to reset the password of your SayZhong account.\n"
                f"Open this link within {minutes} minutes to choose a new password:\n\n{link}\n\n"
                "The link works once. If you did not ask for this, you can ignore this e-mail: "
                "your password stays the same.\n\n— SayZhong\n"
            ),
            html_body=None,
        )
    )
    record_audit(
        session=session,
        action="password.reset_requested",
        target=f"user:{row.id}",
        ip=ip,
        detail={"known_account": True},
    )


def _reset_token_row(session: Session, token: str | None) -> PasswordResetToken:
    invalid = ValidationError(
        "This password reset link is not valid. Please request a new one.", code="reset_token_invalid"
    )
    if not token or len(token) > 256:
        raise invalid
    row = session.exec(
        select(PasswordResetToken).where(col(PasswordResetToken.token_hash) == sessions_mod.hash_token(token))
    ).first()
    if row is None:
        raise invalid
    if row.used_at is not None:
        raise ValidationError(
            "This password reset link has already been used. Request a new one if you still need it.",
            code="reset_token_used",
        )
    if as_utc(row.expires_at) <= utcnow():
        raise ValidationError(
            "This password reset link has expired. Please request a new one.", code="reset_token_expired"
        )
    return row


def check_reset_token(*, session: Session, token: str | None) -> None:
    """Raise the same clear error `reset_password` would, so the page can say so before the form."""
    _reset_token_row(session, token)


def reset_password(
    *, session: Session, token: str | None, new_password: str, ip: str | None = None
) -> UserInfo:
    """Use a reset token once: set the password, sign out every session, invalidate other links."""
    token_row = _reset_token_row(session, token)
    row = _user_row(session, token_row.user_id)
    check_password_policy(new_password, email=row.email)
    row.password_hash = hash_password(new_password)
    row.password_changed_at = utcnow()
    row.email_verified = True  # they proved they can read mail sent to this address
    _touch(row)
    session.add(row)
    _invalidate_reset_tokens(session, token_row.user_id)
    revoked = sessions_mod.revoke_user_sessions(session=session, user_id=token_row.user_id)
    record_audit(
        session=session,
        action="password.reset",
        actor_id=row.id,
        target=f"user:{row.id}",
        ip=ip,
        detail={"sessions_revoked": revoked},
    )
    return UserInfo.from_row(row)


# --- profile ---------------------------------------------------------------------------------------


def get_user(*, session: Session, user_id: int) -> UserInfo:
    return UserInfo.from_row(_user_row(session, user_id))


def find_user_by_email(*, session: Session, email: str) -> UserInfo | None:
    """Exact lookup by normalised e-mail (operator tools; not for anonymous pages)."""
    row = _by_email(session, normalize_email(email))
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
    row = _user_row(session, user_id)
    if display_name is not None:
        row.display_name = _clean_display_name(display_name, fallback=row.display_name)
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
    _touch(row)
    session.add(row)
    session.flush()
    return UserInfo.from_row(row)


# --- staff: users and roles ------------------------------------------------------------------------


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_users(
    *,
    session: Session,
    actor: HasRole | None,
    search: str = "",
    role: str | None = None,
    page: int = 1,
    page_size: int = 20,
) -> UserPage:
    """Users whose e-mail or display name contains `search`, newest first. Support and admins only."""
    require_role(actor, Role.SUPPORT, Role.ADMIN)
    page = max(1, int(page))
    page_size = min(max(1, int(page_size)), 100)
    conditions = []
    term = (search or "").strip()[:100]
    if term:
        pattern = f"%{_escape_like(term.lower())}%"
        conditions.append(
            or_(
                func.lower(col(User.email)).like(pattern, escape="\\"),
                func.lower(col(User.display_name)).like(pattern, escape="\\"),
            )
        )
    if role:
        conditions.append(col(User.role) == parse_role(role).value)
    total = session.exec(select(func.count()).select_from(User).where(*conditions)).one()
    rows = session.exec(
        select(User)
        .where(*conditions)
        .order_by(col(User.created_at).desc(), col(User.id).desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    return UserPage(
        items=[UserInfo.from_row(r) for r in rows], total=int(total), page=page, page_size=page_size
    )


def change_role(
    *, session: Session, actor: HasRole | None, user_id: int, role: str, ip: str | None = None
) -> UserInfo:
    """Admins only (re-checked against the database); audited; never removes the last admin."""
    require_role(actor, Role.ADMIN)
    actor_id = getattr(actor, "id", None)
    actor_row = session.get(User, actor_id) if isinstance(actor_id, int) else None
    if actor_row is None or actor_row.role != Role.ADMIN:
        raise PermissionDeniedError("Only administrators can change roles.")
    new_role = parse_role(role)
    target = _user_row(session, user_id)
    old_role = target.role
    if old_role == new_role:
        return UserInfo.from_row(target)
    if old_role == Role.ADMIN:
        # Lock the admin rows (PostgreSQL) so two admins cannot demote each other at the same time.
        admins = session.exec(select(User.id).where(col(User.role) == Role.ADMIN).with_for_update()).all()
        if len(admins) <= 1:
            raise ValidationError(
                "SayZhong needs at least one administrator. Make someone else an admin first.",
                code="last_admin",
            )
    target.role = new_role.value
    _touch(target)
    session.add(target)
    session.flush()
    record_audit(
        session=session,
        action="role.changed",
        actor_id=actor_row.id,
        target=f"user:{target.id}",
        ip=ip,
        detail={"from": old_role, "to": new_role.value},
    )
    return UserInfo.from_row(target)


def create_admin(*, session: Session, email: str, password: str | None) -> AdminBootstrapResult:
    """Bootstrap an administrator (CLI). Promotes an existing account instead of creating one.

    With `password=None` a new account has no password: the operator then uses "Forgot password"
    or OIDC. An existing account's password is never changed here.
    """
    normalized = normalize_email(email)
    row = _by_email(session, normalized)
    if row is not None and row.id is not None:
        old_role = row.role
        if old_role != Role.ADMIN:
            row.role = Role.ADMIN.value
            _touch(row)
            session.add(row)
            session.flush()
            record_audit(
                session=session,
                action="role.changed",
                target=f"user:{row.id}",
                detail={"from": old_role, "to": Role.ADMIN.value, "via": "cli"},
            )
        return AdminBootstrapResult(user=UserInfo.from_row(row), created=False)
    if password is not None:
        check_password_policy(password, email=normalized)
    row = User(
        email=normalized,
        password_hash=hash_password(password) if password is not None else None,
        display_name=normalized.split("@", 1)[0][:MAX_DISPLAY_NAME_LENGTH],
        role=Role.ADMIN.value,
        password_changed_at=utcnow() if password is not None else None,
    )
    session.add(row)
    session.flush()
    record_audit(
        session=session,
        action="admin.created",
        target=f"user:{row.id}",
        detail={"via": "cli"},
    )
    return AdminBootstrapResult(user=UserInfo.from_row(row), created=True)


def list_audit_log(
    *,
    session: Session,
    actor: HasRole | None,
    action: str | None = None,
    target: str | None = None,
    page: int = 1,
    page_size: int = 50,
) -> AuditPage:
    """The audit log for the staff area: admins and support (read-only)."""
    require_role(actor, Role.SUPPORT, Role.ADMIN)
    return list_audit_events(session=session, action=action, target=target, page=page, page_size=page_size)


__all__ = [
    "WRONG_CREDENTIALS_MESSAGE",
    "AdminBootstrapResult",
    "SessionInfo",
    "SignInResult",
    "UserInfo",
    "UserPage",
    "authenticate",
    "change_password",
    "change_role",
    "check_reset_token",
    "create_admin",
    "find_user_by_email",
    "get_user",
    "list_audit_log",
    "list_sessions",
    "list_users",
    "normalize_email",
    "request_password_reset",
    "reset_link",
    "reset_password",
    "resolve_session",
    "revoke_other_sessions",
    "revoke_session",
    "sign_out",
    "sign_up",
    "start_session",
    "update_profile",
]
