"""Signing in and out: password sign-in with throttling, and the user's list of signed-in devices.

Sign-in functions (`authenticate`, and `complete_oidc_login` in sayzhong.accounts.oidc) return a
`SignInResult` instead of raising on bad credentials: commit the session first (that stores the
failed attempt for throttling and the audit row), then call `result.unwrap()` or read `.error`.
"""

from __future__ import annotations

from sqlmodel import Session

from sayzhong.accounts import sessions as sessions_mod
from sayzhong.accounts.models import User
from sayzhong.accounts.passwords import (
    MAX_PASSWORD_LENGTH,
    hash_password,
    needs_rehash,
    verify_password_or_dummy,
)
from sayzhong.accounts.schemas import SessionInfo, SignInResult, UserInfo
from sayzhong.accounts.throttle import check_sign_in_allowed, record_sign_in_attempt
from sayzhong.accounts.users import email_key as _email_key
from sayzhong.accounts.users import user_by_email
from sayzhong.audit import record_audit
from sayzhong.errors import AuthenticationError, NotFoundError, RateLimitedError, ValidationError
from sayzhong.settings import get_settings

WRONG_CREDENTIALS_MESSAGE = "The e-mail address or password is incorrect."


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

    row = user_by_email(session, email_key)
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
    if row.two_factor_enabled:
        return second_factor_required(session=session, user=row, method="password", ip=ip)
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


def second_factor_required(*, session: Session, user: User, method: str, ip: str | None) -> SignInResult:
    """The first factor was right but the account uses 2FA: no session yet, a challenge instead."""
    from sayzhong.accounts.two_factor import start_challenge

    assert user.id is not None
    challenge = start_challenge(session=session, user=user, auth_method=method)
    record_audit(
        session=session,
        action="sign_in.second_factor_required",
        actor_id=user.id,
        target=f"user:{user.id}",
        ip=ip,
        detail={"method": method},
    )
    return SignInResult(user=UserInfo.from_row(user), two_factor_challenge=challenge)


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
