"""Two-factor sign-in: TOTP authenticator apps (RFC 6238) and single-use recovery codes.

Enrolment: `begin_enrolment` makes a secret (shown as a QR code and as text), `confirm_enrolment`
turns it on once the app shows a correct code and returns ten recovery codes, shown once. Staff
accounts (support, marketing, admin) must enrol before any staff page opens; learners may.

Sign-in: when the password (or the provider) is right and the account uses 2FA, the sign-in
functions return a `SignInResult` with a `two_factor_challenge` instead of a session;
`complete_two_factor_sign_in` accepts a current TOTP code or an unused recovery code for it.

Secrets are stored encrypted (Fernet, key derived from SECRET_KEY) and never logged or exported;
recovery codes are stored as SHA-256 digests and each works once. Wrong codes go through the
same database-backed throttle as passwords (per account and per IP, across workers), and a
challenge dies after a few wrong codes. An accepted TOTP code cannot be replayed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import delete, func, or_
from sqlmodel import Session, col, select

from sayzhong.accounts import sessions as sessions_mod
from sayzhong.accounts.access import STAFF_ROLES
from sayzhong.accounts.models import TwoFactorChallenge, TwoFactorCredential, TwoFactorRecoveryCode, User
from sayzhong.accounts.schemas import SignInResult, UserInfo
from sayzhong.accounts.throttle import check_sign_in_allowed, record_sign_in_attempt
from sayzhong.accounts.users import touch, user_row
from sayzhong.audit import record_audit
from sayzhong.db import as_utc, utcnow
from sayzhong.errors import AuthenticationError, PermissionDeniedError, RateLimitedError, ValidationError
from sayzhong.settings import Settings, get_settings

ISSUER_NAME = "SayZhong"
TOTP_DIGITS = 6
TOTP_INTERVAL_S = 30
# Codes from one step before or after "now" are accepted, for clocks a little off.
TOTP_VALID_WINDOW = 1
RECOVERY_CODE_COUNT = 10
CHALLENGE_TTL = timedelta(minutes=5)
CHALLENGE_MAX_FAILURES = 5
CHALLENGE_RETENTION = timedelta(days=1)
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud or typed by hand
_CODE_CHARS = re.compile(r"[\s-]+")

WRONG_CODE_MESSAGE = "That code is not correct. Check your authenticator app and try again."


@dataclass(frozen=True, slots=True)
class Enrolment:
    """What the enrolment page shows once: the secret as text, its otpauth URI and a QR code."""

    secret: str
    otpauth_uri: str
    qr_svg_data_uri: str


@dataclass(frozen=True, slots=True)
class TwoFactorStatus:
    enabled: bool
    recovery_codes_left: int
    required: bool
    """Staff must keep it on."""


# --- secrets at rest -------------------------------------------------------------------------------


def _fernet(settings: Settings) -> Fernet:
    key = hashlib.sha256(b"sayzhong.totp-secret\x00" + settings.secret_key.encode("utf-8")).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def _encrypt(settings: Settings, secret: str) -> str:
    return _fernet(settings).encrypt(secret.encode("ascii")).decode("ascii")


def _decrypt(settings: Settings, token: str) -> str:
    try:
        return _fernet(settings).decrypt(token.encode("ascii")).decode("ascii")
    except InvalidToken:
        # SECRET_KEY changed since enrolment: no code can match; the operator resets 2FA (runbook).
        raise ValidationError(
            "Your authenticator cannot be checked right now. Use a recovery code, or ask support.",
            code="two_factor_unreadable",
        ) from None


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _normalise_code(code: str | None) -> str:
    if not isinstance(code, str):
        return ""
    return _CODE_CHARS.sub("", code)[:40].lower()


# --- TOTP ------------------------------------------------------------------------------------------


def _step(at: datetime) -> int:
    return int(at.timestamp()) // TOTP_INTERVAL_S


def _matching_step(secret: str, code: str, *, now: datetime, last_used_step: int | None) -> int | None:
    """The time step within the window whose code equals `code` and is newer than the last one used."""
    if len(code) != TOTP_DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_INTERVAL_S)
    current = _step(now)
    found = None
    for step in range(max(0, current - TOTP_VALID_WINDOW), current + TOTP_VALID_WINDOW + 1):
        # Compare every candidate (no early exit) so timing does not say which step matched.
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step
    if found is None or (last_used_step is not None and found <= last_used_step):
        return None
    return found


def _qr_data_uri(uri: str) -> str:
    return str(segno.make(uri, error="m").svg_data_uri(scale=5, border=2, dark="#111111", light="#ffffff"))


# --- enrolment -------------------------------------------------------------------------------------


def _credential(session: Session, user_id: int) -> TwoFactorCredential | None:
    return session.exec(
        select(TwoFactorCredential).where(col(TwoFactorCredential.user_id) == user_id)
    ).first()


def begin_enrolment(*, session: Session, user_id: int) -> Enrolment:
    """Make a new secret for the user to add to an authenticator app (replaces an unfinished one)."""
    settings = get_settings()
    row = user_row(session, user_id)
    existing = _credential(session, user_id)
    if row.two_factor_enabled and existing is not None and existing.confirmed_at is not None:
        raise ValidationError("Two-factor sign-in is already on for your account.", code="two_factor_on")
    secret = pyotp.random_base32()
    if existing is None:
        existing = TwoFactorCredential(user_id=user_id, secret_encrypted=_encrypt(settings, secret))
    else:
        existing.secret_encrypted = _encrypt(settings, secret)
        existing.created_at = utcnow()
        existing.confirmed_at = None
        existing.last_used_step = None
    session.add(existing)
    session.flush()
    uri = pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_INTERVAL_S).provisioning_uri(
        name=row.email, issuer_name=ISSUER_NAME
    )
    return Enrolment(secret=secret, otpauth_uri=uri, qr_svg_data_uri=_qr_data_uri(uri))


def _new_recovery_codes(session: Session, user_id: int) -> list[str]:
    session.execute(
        delete(TwoFactorRecoveryCode).where(col(TwoFactorRecoveryCode.user_id) == user_id),
        execution_options={"synchronize_session": "fetch"},
    )
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        session.add(TwoFactorRecoveryCode(user_id=user_id, code_hash=_hash(raw)))
    session.flush()
    return codes


def _throttle_key(user_id: int) -> str:
    return f"2fa:user:{user_id}"


def _check_throttle(session: Session, settings: Settings, user_id: int, ip: str | None) -> None:
    check_sign_in_allowed(session=session, settings=settings, email_key=_throttle_key(user_id), ip=ip)


def confirm_enrolment(
    *, session: Session, user_id: int, code: str, ip: str | None = None, now: datetime | None = None
) -> list[str]:
    """Turn 2FA on once the app shows a correct code; returns the recovery codes (shown only now).

    A wrong code raises ValidationError and counts towards the throttle; commit before showing it.
    """
    settings = get_settings()
    row = user_row(session, user_id)
    cred = _credential(session, user_id)
    if cred is None or (cred.confirmed_at is not None and row.two_factor_enabled):
        raise ValidationError(
            "Start again: open the set-up page to get a new QR code.", code="two_factor_not_started"
        )
    _check_throttle(session, settings, user_id, ip)
    step = _matching_step(
        _decrypt(settings, cred.secret_encrypted),
        _normalise_code(code),
        now=now or utcnow(),
        last_used_step=None,
    )
    if step is None:
        record_sign_in_attempt(session=session, email_key=_throttle_key(user_id), ip=ip, succeeded=False)
        raise ValidationError(WRONG_CODE_MESSAGE, code="two_factor_code_wrong")
    record_sign_in_attempt(session=session, email_key=_throttle_key(user_id), ip=ip, succeeded=True)
    cred.confirmed_at = utcnow()
    cred.last_used_step = step
    session.add(cred)
    row.two_factor_enabled = True
    touch(row)
    session.add(row)
    codes = _new_recovery_codes(session, user_id)
    record_audit(
        session=session, action="two_factor.enabled", actor_id=user_id, target=f"user:{user_id}", ip=ip
    )
    return codes


def _use_code(session: Session, settings: Settings, user_id: int, code: str, now: datetime) -> str | None:
    """Check a TOTP or recovery code; consume it. Returns "totp", "recovery" or None (wrong)."""
    cred = _credential(session, user_id)
    if cred is None or cred.confirmed_at is None:
        return None
    normalised = _normalise_code(code)
    if normalised.isdigit():
        step = _matching_step(
            _decrypt(settings, cred.secret_encrypted), normalised, now=now, last_used_step=cred.last_used_step
        )
        if step is None:
            return None
        cred.last_used_step = step
        session.add(cred)
        session.flush()
        return "totp"
    recovery = session.exec(
        select(TwoFactorRecoveryCode).where(
            col(TwoFactorRecoveryCode.user_id) == user_id,
            col(TwoFactorRecoveryCode.code_hash) == _hash(normalised),
            col(TwoFactorRecoveryCode.used_at).is_(None),
        )
    ).first()
    if recovery is None:
        return None
    recovery.used_at = utcnow()
    session.add(recovery)
    session.flush()
    return "recovery"


def _require_current_code(
    session: Session, settings: Settings, user_id: int, code: str, ip: str | None, now: datetime | None
) -> str:
    _check_throttle(session, settings, user_id, ip)
    kind = _use_code(session, settings, user_id, code, now or utcnow())
    record_sign_in_attempt(
        session=session, email_key=_throttle_key(user_id), ip=ip, succeeded=kind is not None
    )
    if kind is None:
        raise ValidationError(WRONG_CODE_MESSAGE, code="two_factor_code_wrong")
    return kind


def regenerate_recovery_codes(
    *, session: Session, user_id: int, code: str, ip: str | None = None, now: datetime | None = None
) -> list[str]:
    """New recovery codes (the old ones stop working), after a current authenticator code."""
    settings = get_settings()
    row = user_row(session, user_id)
    if not row.two_factor_enabled:
        raise ValidationError("Two-factor sign-in is not on for your account.", code="two_factor_off")
    _require_current_code(session, settings, user_id, code, ip, now)
    codes = _new_recovery_codes(session, user_id)
    record_audit(
        session=session,
        action="two_factor.recovery_codes_regenerated",
        actor_id=user_id,
        target=f"user:{user_id}",
        ip=ip,
    )
    return codes


def _clear(session: Session, user_id: int) -> None:
    for model in (TwoFactorCredential, TwoFactorRecoveryCode, TwoFactorChallenge):
        session.execute(
            delete(model).where(col(model.user_id) == user_id),
            execution_options={"synchronize_session": "fetch"},
        )
    row = user_row(session, user_id)
    row.two_factor_enabled = False
    touch(row)
    session.add(row)
    session.flush()


def disable_two_factor(
    *, session: Session, user_id: int, code: str, ip: str | None = None, now: datetime | None = None
) -> None:
    """Learners may turn 2FA off with a current code (or a recovery code); staff must keep it."""
    settings = get_settings()
    row = user_row(session, user_id)
    if row.role in STAFF_ROLES:
        raise PermissionDeniedError(
            "Staff accounts must keep two-factor sign-in on. To move it to a new phone, ask an "
            "administrator to reset it.",
            code="two_factor_required_for_staff",
        )
    if not row.two_factor_enabled:
        raise ValidationError("Two-factor sign-in is not on for your account.", code="two_factor_off")
    _require_current_code(session, settings, user_id, code, ip, now)
    _clear(session, user_id)
    record_audit(
        session=session,
        action="two_factor.disabled",
        actor_id=user_id,
        target=f"user:{user_id}",
        ip=ip,
        detail={"by": "user"},
    )


def reset_two_factor(*, session: Session, user_id: int, reason: str, ip: str | None = None) -> None:
    """Operator recovery (CLI): remove a user's authenticator and codes, end their sessions.

    A staff member then has to enrol again before any staff page opens. See docs/operations.md.
    """
    user_row(session, user_id)
    _clear(session, user_id)
    revoked = sessions_mod.revoke_user_sessions(session=session, user_id=user_id)
    record_audit(
        session=session,
        action="two_factor.disabled",
        target=f"user:{user_id}",
        ip=ip,
        detail={"by": "operator", "reason": reason[:200], "sessions_revoked": revoked},
    )


def two_factor_status(*, session: Session, user_id: int) -> TwoFactorStatus:
    row = user_row(session, user_id)
    left = session.exec(
        select(func.count())
        .select_from(TwoFactorRecoveryCode)
        .where(col(TwoFactorRecoveryCode.user_id) == user_id, col(TwoFactorRecoveryCode.used_at).is_(None))
    ).one()
    return TwoFactorStatus(
        enabled=row.two_factor_enabled, recovery_codes_left=int(left), required=row.role in STAFF_ROLES
    )


# --- the second sign-in step -----------------------------------------------------------------------


def start_challenge(*, session: Session, user: User, auth_method: str) -> str:
    """After a correct password or provider answer: a short-lived challenge to present with the code."""
    assert user.id is not None
    token = sessions_mod.new_token()
    now = utcnow()
    session.add(
        TwoFactorChallenge(
            user_id=user.id,
            token_hash=_hash(token),
            auth_method=auth_method[:10],
            created_at=now,
            expires_at=now + CHALLENGE_TTL,
        )
    )
    session.flush()
    return token


def _live_challenge(session: Session, challenge: str | None) -> TwoFactorChallenge | None:
    if not challenge or len(challenge) > 256:
        return None
    row = session.exec(
        select(TwoFactorChallenge).where(col(TwoFactorChallenge.token_hash) == _hash(challenge))
    ).first()
    if (
        row is None
        or row.used_at is not None
        or row.failures >= CHALLENGE_MAX_FAILURES
        or as_utc(row.expires_at) <= utcnow()
    ):
        return None
    return row


def challenge_is_live(*, session: Session, challenge: str | None) -> bool:
    return _live_challenge(session, challenge) is not None


def complete_two_factor_sign_in(
    *,
    session: Session,
    challenge: str | None,
    code: str,
    ip: str | None,
    user_agent: str | None,
    current_token: str | None = None,
    now: datetime | None = None,
) -> SignInResult:
    """Second step: a current TOTP code or an unused recovery code (which is then spent).

    Like `authenticate`, returns failures instead of raising: commit, then `unwrap()`.
    """
    settings = get_settings()
    row = _live_challenge(session, challenge)
    if row is None:
        return SignInResult(
            error=AuthenticationError(
                "This sign-in has expired. Please enter your e-mail address and password again.",
                code="two_factor_challenge_expired",
            )
        )
    user_id = row.user_id
    try:
        _check_throttle(session, settings, user_id, ip)
    except RateLimitedError as exc:
        record_audit(
            session=session,
            action="sign_in.throttled",
            actor_id=user_id,
            target=f"user:{user_id}",
            ip=ip,
            detail={"retry_after_s": exc.retry_after_s, "step": "two_factor"},
        )
        return SignInResult(error=exc)
    try:
        kind = _use_code(session, settings, user_id, code, now or utcnow())
    except ValidationError as exc:  # the stored secret cannot be read (SECRET_KEY changed)
        return SignInResult(error=exc)
    record_sign_in_attempt(
        session=session, email_key=_throttle_key(user_id), ip=ip, succeeded=kind is not None
    )
    if kind is None:
        row.failures += 1
        session.add(row)
        session.flush()
        record_audit(
            session=session,
            action="sign_in.failed",
            actor_id=user_id,
            target=f"user:{user_id}",
            ip=ip,
            detail={"method": row.auth_method, "step": "two_factor", "failures": row.failures},
        )
        return SignInResult(error=AuthenticationError(WRONG_CODE_MESSAGE, code="two_factor_code_wrong"))
    row.used_at = utcnow()
    session.add(row)
    if kind == "recovery":
        left = two_factor_status(session=session, user_id=user_id).recovery_codes_left
        record_audit(
            session=session,
            action="two_factor.recovery_code_used",
            actor_id=user_id,
            target=f"user:{user_id}",
            ip=ip,
            detail={"codes_left": left},
        )
    token = sessions_mod.create_session(
        session=session,
        user_id=user_id,
        ip=ip,
        user_agent=user_agent,
        auth_method=f"{row.auth_method}+2fa",
        replaces_token=current_token,
    )
    record_audit(
        session=session,
        action="sign_in.succeeded",
        actor_id=user_id,
        target=f"user:{user_id}",
        ip=ip,
        detail={"method": row.auth_method, "second_factor": kind},
    )
    return SignInResult(user=UserInfo.from_row(user_row(session, user_id)), token=token)


def purge_two_factor_challenges(*, session: Session, older_than: timedelta = CHALLENGE_RETENTION) -> int:
    """Delete challenges that ended (used or expired) more than `older_than` ago (retention job)."""
    cutoff = utcnow() - older_than
    result = session.execute(
        delete(TwoFactorChallenge).where(
            or_(col(TwoFactorChallenge.expires_at) < cutoff, col(TwoFactorChallenge.used_at) < cutoff)
        ),
        execution_options={"synchronize_session": "fetch"},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
