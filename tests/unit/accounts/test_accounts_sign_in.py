from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import Session, col, select

from sayzhong.accounts import sign_in, users
from sayzhong.accounts.models import LoginAttempt, User
from sayzhong.audit import AuditEvent
from sayzhong.db import utcnow
from sayzhong.errors import AuthenticationError, RateLimitedError, ValidationError
from sayzhong.settings import Settings
from tests.factories import GOOD_PASSWORD, UserFactory


def _sign_in(db_session: Session, email: str, password: str = GOOD_PASSWORD, ip: str | None = "203.0.113.7"):
    return sign_in.authenticate(
        session=db_session, email=email, password=password, ip=ip, user_agent="pytest"
    )


def _actions(db_session: Session) -> list[str]:
    return [row.action for row in db_session.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all()]


def test_sign_up_normalises_email_and_creates_learner(db_session: Session) -> None:
    user = users.sign_up(
        session=db_session, email="  Mei.Lin@Example.COM ", password=GOOD_PASSWORD, display_name=" Mei  Lin "
    )
    assert user.email == "mei.lin@example.com"
    assert user.role == "learner"
    assert user.display_name == "Mei Lin"
    assert user.has_password and not user.email_verified
    row = db_session.get(User, user.id)
    assert row is not None and row.password_hash and GOOD_PASSWORD not in row.password_hash
    assert "user.signed_up" in _actions(db_session)


def test_sign_up_with_duplicate_email_in_other_case_is_refused(db_session: Session) -> None:
    users.sign_up(session=db_session, email="ana@example.com", password=GOOD_PASSWORD, display_name="Ana")
    with pytest.raises(ValidationError) as info:
        users.sign_up(
            session=db_session, email="ANA@example.com", password=GOOD_PASSWORD, display_name="Ana 2"
        )
    assert info.value.code == "email_taken"
    assert "already exists" in info.value.user_message
    assert len(db_session.exec(select(User)).all()) == 1


@pytest.mark.parametrize(
    "bad", ["not-an-email", "ana@", "@example.com", "ana@@example.com", "ana example@x.com"]
)
def test_sign_up_with_malformed_email_is_refused(db_session: Session, bad: str) -> None:
    with pytest.raises(ValidationError) as info:
        users.sign_up(session=db_session, email=bad, password=GOOD_PASSWORD, display_name="Ana")
    assert info.value.code == "email_invalid"
    assert info.value.user_message.startswith("Please enter a valid e-mail address.")


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("short1!", "password_too_short"),
        ("x" * 64 + "Yz9!" * 20, "password_too_long"),
        ("iloveyou", "password_too_common"),
    ],
)
def test_sign_up_with_weak_or_long_password_is_refused_and_nothing_is_stored(
    db_session: Session, password: str, code: str
) -> None:
    with pytest.raises(ValidationError) as info:
        users.sign_up(session=db_session, email="ana@example.com", password=password, display_name="Ana")
    assert info.value.code == code
    assert db_session.exec(select(User)).first() is None


def test_sign_up_without_display_name_uses_the_email_local_part(db_session: Session) -> None:
    user = users.sign_up(
        session=db_session, email="wei@example.com", password=GOOD_PASSWORD, display_name="  "
    )
    assert user.display_name == "wei"


def test_correct_password_signs_in_and_returns_a_resolvable_token(
    db_session: Session, make_user: UserFactory
) -> None:
    user = make_user("ana@example.com")
    result = _sign_in(db_session, "Ana@Example.com")
    signed_in, token = result.unwrap()
    assert signed_in.id == user.id
    assert len(token) >= 43
    resolved = sign_in.resolve_session(session=db_session, token=token)
    assert resolved is not None and resolved.user.id == user.id and resolved.ip == "203.0.113.7"
    assert "sign_in.succeeded" in _actions(db_session)


def test_wrong_password_gets_a_generic_message_and_is_audited(
    db_session: Session, make_user: UserFactory
) -> None:
    user = make_user("ana@example.com")
    result = _sign_in(db_session, "ana@example.com", "wrong password here")
    assert not result.ok
    with pytest.raises(AuthenticationError, match="e-mail address or password is incorrect"):
        result.unwrap()
    failed = db_session.exec(select(AuditEvent).where(AuditEvent.action == "sign_in.failed")).one()
    assert failed.actor_id == user.id and failed.ip == "203.0.113.7"


def test_unknown_email_gets_the_same_message_as_a_wrong_password(
    db_session: Session, make_user: UserFactory
) -> None:
    make_user("ana@example.com")
    unknown = _sign_in(db_session, "nobody@example.com", "wrong password here").error
    wrong = _sign_in(db_session, "ana@example.com", "wrong password here").error
    assert unknown is not None and wrong is not None
    assert unknown.user_message == wrong.user_message and unknown.code == wrong.code


def test_account_without_password_cannot_sign_in_with_any_password(db_session: Session) -> None:
    db_session.add(User(email="sso@example.com", display_name="SSO", password_hash=None))
    db_session.flush()
    assert _sign_in(db_session, "sso@example.com", "").error is not None
    assert isinstance(_sign_in(db_session, "sso@example.com", "anything at all").error, AuthenticationError)


def test_sign_in_rotates_the_session_presented_at_sign_in(
    db_session: Session, make_user: UserFactory
) -> None:
    make_user("ana@example.com")
    _, first = _sign_in(db_session, "ana@example.com").unwrap()
    second_result = sign_in.authenticate(
        session=db_session,
        email="ana@example.com",
        password=GOOD_PASSWORD,
        ip=None,
        user_agent=None,
        current_token=first,
    )
    _, second = second_result.unwrap()
    assert second != first
    assert sign_in.resolve_session(session=db_session, token=first) is None
    assert sign_in.resolve_session(session=db_session, token=second) is not None


def test_account_is_throttled_after_max_failures_even_with_the_right_password(
    db_session: Session, make_user: UserFactory, settings: Settings
) -> None:
    make_user("ana@example.com")
    for i in range(settings.login_max_failures_per_account):
        assert isinstance(
            _sign_in(db_session, "ana@example.com", "nope", ip=f"198.51.100.{i}").error, AuthenticationError
        )
    error = _sign_in(db_session, "ana@example.com", ip="198.51.100.200").error
    assert isinstance(error, RateLimitedError)
    assert "for this account" in error.user_message and "minutes" in error.user_message
    assert 0 < error.retry_after_s <= settings.login_throttle_window_minutes * 60
    assert "sign_in.throttled" in _actions(db_session)


def test_throttle_on_one_account_does_not_block_another_account(
    db_session: Session, make_user: UserFactory, settings: Settings
) -> None:
    make_user("ana@example.com")
    make_user("bo@example.com")
    for i in range(settings.login_max_failures_per_account):
        _sign_in(db_session, "ana@example.com", "nope", ip=f"198.51.100.{i}")
    assert _sign_in(db_session, "bo@example.com", ip="198.51.100.99").ok


def test_ip_is_throttled_after_failures_across_many_accounts(
    db_session: Session, make_user: UserFactory, settings: Settings
) -> None:
    make_user("ana@example.com")
    for i in range(settings.login_max_failures_per_ip):
        _sign_in(db_session, f"guess{i}@example.com", "nope", ip="192.0.2.1")
    error = _sign_in(db_session, "ana@example.com", ip="192.0.2.1").error
    assert isinstance(error, RateLimitedError)
    assert "from your network" in error.user_message
    assert _sign_in(db_session, "ana@example.com", ip="192.0.2.2").ok


def test_success_clears_the_account_counter_but_not_the_ip_counter(
    db_session: Session, make_user: UserFactory, settings: Settings
) -> None:
    make_user("ana@example.com")
    limit = settings.login_max_failures_per_account
    for _ in range(limit - 1):
        _sign_in(db_session, "ana@example.com", "nope", ip=None)
    assert _sign_in(db_session, "ana@example.com", ip=None).ok
    for _ in range(limit - 1):
        _sign_in(db_session, "ana@example.com", "nope", ip=None)
    assert _sign_in(db_session, "ana@example.com", ip=None).ok


def test_throttle_lifts_once_failures_leave_the_window(
    db_session: Session, make_user: UserFactory, settings: Settings
) -> None:
    make_user("ana@example.com")
    for _ in range(settings.login_max_failures_per_account):
        _sign_in(db_session, "ana@example.com", "nope")
    assert isinstance(_sign_in(db_session, "ana@example.com").error, RateLimitedError)
    past = utcnow() - timedelta(minutes=settings.login_throttle_window_minutes, seconds=1)
    db_session.execute(update(LoginAttempt).values(created_at=past))
    assert _sign_in(db_session, "ana@example.com").ok


def test_throttled_attempts_are_not_counted(
    db_session: Session, make_user: UserFactory, settings: Settings
) -> None:
    make_user("ana@example.com")
    for _ in range(settings.login_max_failures_per_account + 3):
        _sign_in(db_session, "ana@example.com", "nope")
    failures = db_session.exec(select(LoginAttempt).where(col(LoginAttempt.succeeded).is_(False))).all()
    assert len(failures) == settings.login_max_failures_per_account


def test_empty_credentials_get_a_prompt_not_a_failure(db_session: Session) -> None:
    error = _sign_in(db_session, " ", "").error
    assert isinstance(error, ValidationError)
    assert db_session.exec(select(LoginAttempt)).first() is None
