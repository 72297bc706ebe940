"""Two-factor sign-in: TOTP enrolment (RFC 6238, checked with pyotp's reference codes), the second
sign-in step, the accepted time window, replay refusal, single-use recovery codes, throttling,
staff rules, secrets encrypted at rest, and the audit trail."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import update
from sqlmodel import Session, select

from sayzhong.accounts import sign_in, two_factor
from sayzhong.accounts.models import (
    TwoFactorChallenge,
    TwoFactorCredential,
    TwoFactorRecoveryCode,
    UserSession,
)
from sayzhong.audit import AuditEvent
from sayzhong.db import utcnow
from sayzhong.errors import PermissionDeniedError, ValidationError
from sayzhong.settings import Settings
from tests.factories import GOOD_PASSWORD, UserFactory


def _actions(db_session: Session) -> list[str]:
    return [e.action for e in db_session.exec(select(AuditEvent).order_by(AuditEvent.id)).all()]  # type: ignore[arg-type]


def _code(secret: str, *, offset_s: int = 0) -> str:
    return pyotp.TOTP(secret).at(utcnow() + timedelta(seconds=offset_s))


def _enrol(db_session: Session, user_id: int) -> tuple[str, list[str]]:
    enrolment = two_factor.begin_enrolment(session=db_session, user_id=user_id)
    codes = two_factor.confirm_enrolment(
        session=db_session, user_id=user_id, code=_code(enrolment.secret, offset_s=-30)
    )
    return enrolment.secret, codes


def _password(db_session: Session, email: str, *, ip: str = "198.51.100.7") -> sign_in.SignInResult:
    return sign_in.authenticate(
        session=db_session, email=email, password=GOOD_PASSWORD, ip=ip, user_agent="pytest"
    )


def _chal(db_session: Session, email: str) -> str | None:
    return _password(db_session, email).two_factor_challenge


def _second(db_session: Session, challenge: str | None, code: str, *, ip: str = "198.51.100.7"):  # type: ignore[no-untyped-def]
    return two_factor.complete_two_factor_sign_in(
        session=db_session, challenge=challenge, code=code, ip=ip, user_agent="pytest"
    )


def test_enrolment_shows_a_qr_code_and_a_secret_stored_encrypted(
    db_session: Session, make_user: UserFactory
) -> None:
    user = make_user()
    enrolment = two_factor.begin_enrolment(session=db_session, user_id=user.id)
    assert enrolment.qr_svg_data_uri.startswith("data:image/svg+xml")
    assert enrolment.otpauth_uri.startswith("otpauth://totp/SayZhong:")
    assert f"secret={enrolment.secret}" in enrolment.otpauth_uri
    row = db_session.exec(select(TwoFactorCredential)).one()
    assert enrolment.secret not in row.secret_encrypted and row.confirmed_at is None
    assert not two_factor.two_factor_status(session=db_session, user_id=user.id).enabled


def test_a_wrong_code_does_not_turn_it_on(db_session: Session, make_user: UserFactory) -> None:
    user = make_user()
    enrolment = two_factor.begin_enrolment(session=db_session, user_id=user.id)
    wrong = f"{(int(_code(enrolment.secret)) + 1) % 1_000_000:06d}"
    with pytest.raises(ValidationError) as err:
        two_factor.confirm_enrolment(session=db_session, user_id=user.id, code=wrong)
    assert err.value.code == "two_factor_code_wrong"
    assert not two_factor.two_factor_status(session=db_session, user_id=user.id).enabled


def test_enrolment_gives_ten_single_use_recovery_codes_stored_hashed(
    db_session: Session, make_user: UserFactory
) -> None:
    user = make_user()
    _secret, codes = _enrol(db_session, user.id)
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = {r.code_hash for r in db_session.exec(select(TwoFactorRecoveryCode)).all()}
    assert not {c.replace("-", "") for c in codes} & stored
    status = two_factor.two_factor_status(session=db_session, user_id=user.id)
    assert status.enabled and status.recovery_codes_left == 10 and not status.required
    assert "two_factor.enabled" in _actions(db_session)


def test_password_alone_no_longer_opens_a_session(db_session: Session, make_user: UserFactory) -> None:
    user = make_user()
    _enrol(db_session, user.id)
    result = _password(db_session, user.email)
    assert result.ok and result.needs_second_factor and result.token is None
    with pytest.raises(Exception) as err:
        result.unwrap()
    assert getattr(err.value, "code", "") == "two_factor_required"
    assert db_session.exec(select(UserSession)).first() is None
    assert "sign_in.second_factor_required" in _actions(db_session)


def test_a_current_code_finishes_sign_in(db_session: Session, make_user: UserFactory) -> None:
    user = make_user()
    secret, _ = _enrol(db_session, user.id)
    result = _password(db_session, user.email)
    signed_in, token = _second(db_session, result.two_factor_challenge, _code(secret)).unwrap()
    assert signed_in.id == user.id and signed_in.two_factor_enabled
    info = sign_in.resolve_session(session=db_session, token=token)
    assert info is not None and info.auth_method == "password+2fa"
    # The challenge is spent: it cannot open a second session.
    again = _second(db_session, result.two_factor_challenge, _code(secret, offset_s=30))
    assert again.error is not None and again.error.code == "two_factor_challenge_expired"


@pytest.mark.parametrize(
    ("offset_s", "accepted"), [(-60, False), (-30, True), (0, True), (30, True), (90, False)]
)
def test_the_totp_window_is_one_step_either_side(
    db_session: Session, make_user: UserFactory, offset_s: int, accepted: bool
) -> None:
    user = make_user()
    enrolment = two_factor.begin_enrolment(session=db_session, user_id=user.id)
    now = utcnow().replace(microsecond=0)
    # Pin "now" to the middle of a step so ±30 s land exactly one step away.
    now = now - timedelta(seconds=now.timestamp() % 30) + timedelta(seconds=15)
    code = pyotp.TOTP(enrolment.secret).at(now + timedelta(seconds=offset_s))
    if accepted:
        assert two_factor.confirm_enrolment(session=db_session, user_id=user.id, code=code, now=now)
    else:
        with pytest.raises(ValidationError):
            two_factor.confirm_enrolment(session=db_session, user_id=user.id, code=code, now=now)


def test_a_totp_code_cannot_be_replayed(db_session: Session, make_user: UserFactory) -> None:
    user = make_user()
    secret, _ = _enrol(db_session, user.id)
    code = _code(secret)
    first = _second(db_session, _chal(db_session, user.email), code)
    assert first.ok
    replay = _second(db_session, _chal(db_session, user.email), code)
    assert replay.error is not None and replay.error.code == "two_factor_code_wrong"


def test_a_recovery_code_signs_in_once(db_session: Session, make_user: UserFactory) -> None:
    user = make_user()
    _secret, codes = _enrol(db_session, user.id)
    typed = codes[3].upper().replace("-", " ")  # people type them loosely
    ok = _second(db_session, _chal(db_session, user.email), typed)
    assert ok.ok and ok.token
    assert two_factor.two_factor_status(session=db_session, user_id=user.id).recovery_codes_left == 9
    reused = _second(db_session, _chal(db_session, user.email), codes[3])
    assert reused.error is not None and reused.error.code == "two_factor_code_wrong"
    used = db_session.exec(
        select(AuditEvent).where(AuditEvent.action == "two_factor.recovery_code_used")
    ).one()  # type: ignore[arg-type]
    assert used.detail == {"codes_left": 9}


def test_wrong_codes_kill_the_challenge_then_throttle_the_account(
    db_session: Session, make_user: UserFactory, settings: Settings
) -> None:
    user = make_user()
    secret, _ = _enrol(db_session, user.id)
    challenge = _chal(db_session, user.email)
    for _ in range(two_factor.CHALLENGE_MAX_FAILURES):
        assert _second(db_session, challenge, "000000").error is not None
    dead = _second(db_session, challenge, _code(secret))
    assert dead.error is not None and dead.error.code == "two_factor_challenge_expired"
    fresh = _chal(db_session, user.email)
    throttled = _second(db_session, fresh, _code(secret))
    assert throttled.error is not None and throttled.error.code == "rate_limited"
    assert "wait" in throttled.error.user_message
    assert "sign_in.throttled" in _actions(db_session)


def test_an_expired_challenge_is_refused(db_session: Session, make_user: UserFactory) -> None:
    user = make_user()
    secret, _ = _enrol(db_session, user.id)
    challenge = _chal(db_session, user.email)
    db_session.execute(update(TwoFactorChallenge).values(expires_at=utcnow() - timedelta(seconds=1)))
    result = _second(db_session, challenge, _code(secret))
    assert result.error is not None and result.error.code == "two_factor_challenge_expired"
    assert _second(db_session, "forged", _code(secret)).error is not None


def test_regenerating_recovery_codes_voids_the_old_ones(db_session: Session, make_user: UserFactory) -> None:
    user = make_user()
    secret, old = _enrol(db_session, user.id)
    new = two_factor.regenerate_recovery_codes(
        session=db_session, user_id=user.id, code=_code(secret, offset_s=30)
    )
    assert not set(old) & set(new)
    assert _second(db_session, _chal(db_session, user.email), old[0]).error is not None
    assert _second(db_session, _chal(db_session, user.email), new[0]).ok
    assert "two_factor.recovery_codes_regenerated" in _actions(db_session)


def test_a_learner_can_turn_it_off_with_a_code(db_session: Session, make_user: UserFactory) -> None:
    user = make_user()
    secret, _ = _enrol(db_session, user.id)
    with pytest.raises(ValidationError):
        two_factor.disable_two_factor(session=db_session, user_id=user.id, code="123")
    two_factor.disable_two_factor(session=db_session, user_id=user.id, code=_code(secret, offset_s=30))
    assert not two_factor.two_factor_status(session=db_session, user_id=user.id).enabled
    assert db_session.exec(select(TwoFactorCredential)).first() is None
    result = _password(db_session, user.email)
    assert result.token and not result.needs_second_factor
    assert "two_factor.disabled" in _actions(db_session)


def test_staff_must_keep_it_and_only_an_operator_resets_it(
    db_session: Session, make_user: UserFactory
) -> None:
    staff = make_user(role="support")
    secret, _ = _enrol(db_session, staff.id)
    assert two_factor.two_factor_status(session=db_session, user_id=staff.id).required
    with pytest.raises(PermissionDeniedError) as err:
        two_factor.disable_two_factor(session=db_session, user_id=staff.id, code=_code(secret, offset_s=30))
    assert err.value.code == "two_factor_required_for_staff"
    token = _second(db_session, _chal(db_session, staff.email), _code(secret, offset_s=30)).token
    two_factor.reset_two_factor(session=db_session, user_id=staff.id, reason="lost phone, ticket 42")
    assert not two_factor.two_factor_status(session=db_session, user_id=staff.id).enabled
    assert sign_in.resolve_session(session=db_session, token=token) is None  # sessions ended
    event = db_session.exec(select(AuditEvent).where(AuditEvent.action == "two_factor.disabled")).one()  # type: ignore[arg-type]
    assert event.detail["by"] == "operator"


def test_a_changed_secret_key_fails_closed_with_a_clear_message(
    db_session: Session, make_user: UserFactory, settings: Settings
) -> None:
    user = make_user()
    secret, codes = _enrol(db_session, user.id)
    settings.secret_key = "rotated-secret-key-of-sufficient-length-0123456789"
    unreadable = _second(db_session, _chal(db_session, user.email), _code(secret, offset_s=30))
    assert unreadable.error is not None and unreadable.error.code == "two_factor_unreadable"
    assert _second(db_session, _chal(db_session, user.email), codes[0]).ok


def test_secrets_never_appear_in_the_audit_log(db_session: Session, make_user: UserFactory) -> None:
    user = make_user()
    secret, codes = _enrol(db_session, user.id)
    _second(db_session, _chal(db_session, user.email), codes[0])
    dump = repr([(e.action, e.target, e.detail) for e in db_session.exec(select(AuditEvent)).all()])
    assert secret not in dump and codes[0] not in dump
