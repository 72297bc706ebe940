"""Changing a password, and resetting a forgotten one through a single-use e-mailed link.

Reset tokens are random, stored only as SHA-256 digests, expire after PASSWORD_RESET_TTL_MINUTES
and work once; asking for a link answers the same whether or not the address has an account.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from sayzhong.accounts import sessions as sessions_mod
from sayzhong.accounts.models import PasswordResetToken
from sayzhong.accounts.passwords import check_password_policy, hash_password, verify_password
from sayzhong.accounts.schemas import UserInfo
from sayzhong.accounts.users import normalize_email, touch, user_by_email, user_row
from sayzhong.audit import record_audit
from sayzhong.db import as_utc, utcnow
from sayzhong.errors import AuthenticationError, ValidationError
from sayzhong.notifications.ports import EmailMessageData, Mailer
from sayzhong.settings import get_settings

# At most this many reset e-mails per account per reset-TTL window; extra requests are silently dropped.
MAX_RESET_EMAILS_PER_WINDOW = 3


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
    row = user_row(session, user_id)
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
    touch(row)
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
    row = user_by_email(session, normalized)
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
    row = user_row(session, token_row.user_id)
    check_password_policy(new_password, email=row.email)
    row.password_hash = hash_password(new_password)
    row.password_changed_at = utcnow()
    row.email_verified = True  # they proved they can read mail sent to this address
    touch(row)
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
