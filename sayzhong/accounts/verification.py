"""E-mail verification: a signed, single-use, expiring link mailed at sign-up, and the rule it feeds.

The link carries a token signed with SECRET_KEY (itsdangerous, its own salt) around a random
nonce, so a tampered link is refused before the database is asked; the database keeps only the
token's SHA-256 and marks it used, so a link works once; it expires after
EMAIL_VERIFICATION_TTL_HOURS. Resending is throttled per account.

Unverified accounts can practise, but `may_email_marketing` / `require_verified_email` keep
marketing and reminder e-mail and data exports away from an address nobody has proved to own.
Every feature that e-mails a learner for anything but their own security (reset, verification)
must ask one of them first.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from datetime import timedelta
from typing import Protocol

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from sayzhong import routes
from sayzhong.accounts.models import EmailVerificationToken
from sayzhong.accounts.schemas import UserInfo
from sayzhong.accounts.users import touch, user_row
from sayzhong.audit import record_audit
from sayzhong.db import as_utc, utcnow
from sayzhong.errors import PermissionDeniedError, RateLimitedError, ValidationError
from sayzhong.notifications.ports import EmailMessageData, Mailer
from sayzhong.settings import Settings, get_settings

# At most this many verification e-mails per account per day (on top of the minimum interval).
MAX_VERIFICATION_EMAILS_PER_DAY = 5
_SALT = "sayzhong.email-verification"
_MAX_TOKEN_LENGTH = 512
VERIFICATION_TOKEN_RETENTION = timedelta(days=1)


class HasVerifiedFlag(Protocol):
    @property
    def email_verified(self) -> bool: ...


# --- the rule other features ask -------------------------------------------------------------------


def may_email_marketing(user: HasVerifiedFlag | None) -> bool:
    """May we send this user marketing or reminder e-mail (or an export) at all? Only to a proven address.

    Consent (opt-in) is a separate question the caller still has to ask.
    """
    return bool(user is not None and user.email_verified)


def require_verified_email(user: HasVerifiedFlag | None) -> None:
    """Raise a plain-words PermissionDeniedError unless the user verified their e-mail address."""
    if not may_email_marketing(user):
        raise PermissionDeniedError(
            "Please confirm your e-mail address first: open the link we sent you, or ask for a new one "
            "from the banner at the top of the page.",
            code="email_unverified",
        )


# --- links -----------------------------------------------------------------------------------------


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt=_SALT)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def verification_url(app_url: str, token: str) -> str:
    return routes.verify_email_url(app_url, token)


def _throttle(session: Session, settings: Settings, user_id: int) -> None:
    now = utcnow()
    recent = session.exec(
        select(EmailVerificationToken.created_at)
        .where(
            col(EmailVerificationToken.user_id) == user_id,
            col(EmailVerificationToken.created_at) > now - timedelta(days=1),
        )
        .order_by(col(EmailVerificationToken.created_at).desc())
    ).all()
    if not recent:
        return
    interval = timedelta(seconds=settings.email_verification_resend_interval_s)
    wait = as_utc(recent[0]) + interval - now
    if wait.total_seconds() > 0:
        seconds = max(1, math.ceil(wait.total_seconds()))
        raise RateLimitedError(
            f"We have just sent you a link. Please wait {seconds} seconds before asking for another one.",
            retry_after_s=seconds,
        )
    if len(recent) >= MAX_VERIFICATION_EMAILS_PER_DAY:
        oldest = min(as_utc(r) for r in recent)
        seconds = max(1, math.ceil((oldest + timedelta(days=1) - now).total_seconds()))
        hours = max(1, math.ceil(seconds / 3600))
        raise RateLimitedError(
            f"We have sent {MAX_VERIFICATION_EMAILS_PER_DAY} links today. Check your spam folder, or try "
            f"again in {hours} hour{'s' if hours != 1 else ''}.",
            retry_after_s=seconds,
        )


def send_verification_email(
    *,
    session: Session,
    user_id: int,
    app_url: str,
    ip: str | None = None,
    mailer: Mailer | None = None,
) -> bool:
    """Mail a fresh verification link (sign-up and "resend"). False if already verified (nothing sent).

    Raises RateLimitedError (with `retry_after_s`) when asked again too soon or too often; the
    refusal is audited. `mailer` defaults to the one `sayzhong.wiring` picks from settings.
    """
    from sayzhong import wiring

    settings = get_settings()
    row = user_row(session, user_id)
    if row.email_verified:
        return False
    try:
        _throttle(session, settings, user_id)
    except RateLimitedError as exc:
        record_audit(
            session=session,
            action="email.verification_throttled",
            actor_id=user_id,
            target=f"user:{user_id}",
            ip=ip,
            detail={"retry_after_s": exc.retry_after_s},
        )
        raise
    mailer = mailer or wiring.get_mailer(settings, session=session)
    now = utcnow()
    token = _serializer(settings).dumps({"u": user_id, "n": secrets.token_urlsafe(16)})
    hours = settings.email_verification_ttl_hours
    session.add(
        EmailVerificationToken(
            user_id=user_id,
            token_hash=_hash(token),
            email=row.email,
            created_at=now,
            expires_at=now + timedelta(hours=hours),
        )
    )
    session.flush()
    link = verification_url(app_url, token)
    mailer.send(
        EmailMessageData(
            to=row.email,
            subject="Confirm your e-mail address for SayZhong",
            text_body=(
                f"Hello {row.display_name},\n\n"
                "Please confirm that this is your e-mail address by opening this link within "
                f"{hours} hours:\n\n{link}\n\n"
                "The link works once. If you did not create a SayZhong account, you can ignore this "
                "e-mail.\n\n— SayZhong\n"
            ),
            html_body=None,
        )
    )
    record_audit(
        session=session, action="email.verification_sent", actor_id=user_id, target=f"user:{user_id}", ip=ip
    )
    return True


def _fail(session: Session, code: str, message: str, ip: str | None, user_id: int | None) -> ValidationError:
    record_audit(
        session=session,
        action="email.verification_failed",
        actor_id=user_id,
        target=f"user:{user_id}" if user_id else None,
        ip=ip,
        detail={"code": code},
    )
    return ValidationError(message, code=code)


def verify_email(*, session: Session, token: str | None, ip: str | None = None) -> UserInfo:
    """Use a verification link once: mark the address verified. Raises ValidationError saying why not.

    Failures are audited; commit the session before showing the error so the audit row stays.
    Codes: verification_invalid (tampered or unknown), verification_expired, verification_used,
    verification_stale (the account's address changed since the link was sent).
    """
    settings = get_settings()
    invalid = "This confirmation link is not valid. Ask for a new one from the banner after signing in."
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        raise _fail(session, "verification_invalid", invalid, ip, None)
    max_age = settings.email_verification_ttl_hours * 3600
    try:
        payload = _serializer(settings).loads(token, max_age=max_age)
    except SignatureExpired:
        raise _fail(
            session,
            "verification_expired",
            "This confirmation link has expired. Sign in and ask for a new one from the banner.",
            ip,
            None,
        ) from None
    except BadSignature:
        raise _fail(session, "verification_invalid", invalid, ip, None) from None
    user_id = payload.get("u") if isinstance(payload, dict) else None
    if not isinstance(user_id, int):
        raise _fail(session, "verification_invalid", invalid, ip, None)
    token_row = session.exec(
        select(EmailVerificationToken).where(col(EmailVerificationToken.token_hash) == _hash(token))
    ).first()
    if token_row is None or token_row.user_id != user_id:
        raise _fail(session, "verification_invalid", invalid, ip, None)
    if token_row.used_at is not None:
        raise _fail(
            session,
            "verification_used",
            "This confirmation link has already been used. If your address is not confirmed yet, ask for "
            "a new link.",
            ip,
            user_id,
        )
    if as_utc(token_row.expires_at) <= utcnow():
        raise _fail(
            session,
            "verification_expired",
            "This confirmation link has expired. Sign in and ask for a new one from the banner.",
            ip,
            user_id,
        )
    row = user_row(session, user_id)
    if row.email != token_row.email:
        raise _fail(
            session,
            "verification_stale",
            "This link was sent to an address your account no longer uses. Ask for a new one.",
            ip,
            user_id,
        )
    now = utcnow()
    token_row.used_at = now
    session.add(token_row)
    already = row.email_verified
    row.email_verified = True
    touch(row)
    session.add(row)
    session.flush()
    if not already:
        record_audit(
            session=session, action="email.verified", actor_id=user_id, target=f"user:{user_id}", ip=ip
        )
    return UserInfo.from_row(row)


def purge_verification_tokens(
    *, session: Session, older_than: timedelta = VERIFICATION_TOKEN_RETENTION
) -> int:
    """Delete verification tokens a day past expiry (retention job)."""
    result = session.execute(
        delete(EmailVerificationToken).where(col(EmailVerificationToken.expires_at) < utcnow() - older_than),
        execution_options={"synchronize_session": "fetch"},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def count_sent_links(*, session: Session, user_id: int) -> int:
    """How many verification links this account was sent (operator tooling and tests)."""
    return int(
        session.exec(
            select(func.count())
            .select_from(EmailVerificationToken)
            .where(col(EmailVerificationToken.user_id) == user_id)
        ).one()
    )
