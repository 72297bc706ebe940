"""Password change and password reset by e-mailed single-use link."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import Session, select

from sayzhong.accounts import password_reset, sign_in
from sayzhong.accounts.models import PasswordResetToken
from sayzhong.audit import AuditEvent
from sayzhong.db import utcnow
from sayzhong.errors import AuthenticationError, ValidationError
from sayzhong.notifications.models import OutboxEmail
from sayzhong.notifications.offline import OutboxMailer
from sayzhong.notifications.ports import EmailMessageData
from sayzhong.settings import Settings
from tests.factories import GOOD_PASSWORD, UserFactory

NEW_PASSWORD = "lanterns over the river 88"
APP_URL = "http://localhost:3000"


class RecordingMailer:
    def __init__(self) -> None:
        self.sent: list[EmailMessageData] = []

    def send(self, message: EmailMessageData) -> None:
        self.sent.append(message)


def _token_from(message: EmailMessageData) -> str:
    match = re.search(r"http://localhost:3000/reset-password\?token=([A-Za-z0-9_\-]+)", message.text_body)
    assert match, message.text_body
    return match.group(1)


def _request(db_session: Session, email: str) -> RecordingMailer:
    mailer = RecordingMailer()
    password_reset.request_password_reset(
        session=db_session, email=email, mailer=mailer, app_url=APP_URL, ip="192.0.2.5"
    )
    return mailer


def _can_sign_in(db_session: Session, email: str, password: str) -> bool:
    return sign_in.authenticate(
        session=db_session, email=email, password=password, ip=None, user_agent=None
    ).ok


def test_change_password_needs_the_current_password(db_session: Session, make_user: UserFactory) -> None:
    user = make_user()
    with pytest.raises(AuthenticationError, match="current password is not correct"):
        password_reset.change_password(
            session=db_session,
            user_id=user.id,
            current_password="wrong",
            new_password=NEW_PASSWORD,
            keep_token=None,
        )


def test_change_password_applies_policy(db_session: Session, make_user: UserFactory) -> None:
    user = make_user()
    with pytest.raises(ValidationError) as info:
        password_reset.change_password(
            session=db_session,
            user_id=user.id,
            current_password=GOOD_PASSWORD,
            new_password="password1",
            keep_token=None,
        )
    assert info.value.code == "password_too_common"


def test_change_password_signs_out_other_sessions_and_is_audited(
    db_session: Session, make_user: UserFactory
) -> None:
    user = make_user("ana@example.com")
    keep = sign_in.start_session(session=db_session, user_id=user.id, ip=None, user_agent=None)
    other = sign_in.start_session(session=db_session, user_id=user.id, ip=None, user_agent=None)
    password_reset.change_password(
        session=db_session,
        user_id=user.id,
        current_password=GOOD_PASSWORD,
        new_password=NEW_PASSWORD,
        keep_token=keep,
        ip="192.0.2.9",
    )
    assert sign_in.resolve_session(session=db_session, token=keep) is not None
    assert sign_in.resolve_session(session=db_session, token=other) is None
    assert not _can_sign_in(db_session, "ana@example.com", GOOD_PASSWORD)
    assert _can_sign_in(db_session, "ana@example.com", NEW_PASSWORD)
    event = db_session.exec(select(AuditEvent).where(AuditEvent.action == "password.changed")).one()
    assert event.actor_id == user.id and event.detail == {"other_sessions_revoked": 1}


def test_reset_request_for_unknown_email_sends_nothing_and_raises_nothing(db_session: Session) -> None:
    assert _request(db_session, "nobody@example.com").sent == []


def test_reset_request_for_malformed_email_explains(db_session: Session) -> None:
    with pytest.raises(ValidationError):
        _request(db_session, "not an email")


def test_reset_link_sets_a_new_password_and_signs_out_everywhere(
    db_session: Session, make_user: UserFactory
) -> None:
    user = make_user("ana@example.com")
    old_session = sign_in.start_session(session=db_session, user_id=user.id, ip=None, user_agent=None)
    mail = _request(db_session, "ANA@example.com").sent
    assert len(mail) == 1 and mail[0].to == "ana@example.com"
    token = _token_from(mail[0])
    stored = db_session.exec(select(PasswordResetToken)).one()
    assert token not in stored.token_hash
    password_reset.check_reset_token(session=db_session, token=token)
    updated = password_reset.reset_password(session=db_session, token=token, new_password=NEW_PASSWORD)
    assert updated.email_verified
    assert _can_sign_in(db_session, "ana@example.com", NEW_PASSWORD)
    assert sign_in.resolve_session(session=db_session, token=old_session) is None


def test_reset_token_cannot_be_used_twice(db_session: Session, make_user: UserFactory) -> None:
    make_user("ana@example.com")
    token = _token_from(_request(db_session, "ana@example.com").sent[0])
    password_reset.reset_password(session=db_session, token=token, new_password=NEW_PASSWORD)
    with pytest.raises(ValidationError) as info:
        password_reset.reset_password(session=db_session, token=token, new_password="another fine phrase 9")
    assert info.value.code == "reset_token_used"
    assert "already been used" in info.value.user_message


def test_expired_reset_token_is_refused(
    db_session: Session, make_user: UserFactory, settings: Settings
) -> None:
    make_user("ana@example.com")
    token = _token_from(_request(db_session, "ana@example.com").sent[0])
    db_session.execute(update(PasswordResetToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    with pytest.raises(ValidationError) as info:
        password_reset.reset_password(session=db_session, token=token, new_password=NEW_PASSWORD)
    assert info.value.code == "reset_token_expired"
    assert _can_sign_in(db_session, "ana@example.com", GOOD_PASSWORD)


@pytest.mark.parametrize("bad", ["", None, "made-up-token", "x" * 500])
def test_tampered_reset_token_is_refused(db_session: Session, bad: str | None) -> None:
    with pytest.raises(ValidationError) as info:
        password_reset.reset_password(session=db_session, token=bad, new_password=NEW_PASSWORD)
    assert info.value.code == "reset_token_invalid"


def test_weak_new_password_keeps_the_reset_token_usable(db_session: Session, make_user: UserFactory) -> None:
    make_user("ana@example.com")
    token = _token_from(_request(db_session, "ana@example.com").sent[0])
    with pytest.raises(ValidationError):
        password_reset.reset_password(session=db_session, token=token, new_password="12345678")
    password_reset.reset_password(session=db_session, token=token, new_password=NEW_PASSWORD)


def test_a_newer_reset_invalidates_older_links_once_used(db_session: Session, make_user: UserFactory) -> None:
    make_user("ana@example.com")
    first = _token_from(_request(db_session, "ana@example.com").sent[0])
    second = _token_from(_request(db_session, "ana@example.com").sent[0])
    password_reset.reset_password(session=db_session, token=second, new_password=NEW_PASSWORD)
    with pytest.raises(ValidationError):
        password_reset.reset_password(session=db_session, token=first, new_password="another fine phrase 9")


def test_reset_emails_are_capped_per_window(db_session: Session, make_user: UserFactory) -> None:
    make_user("ana@example.com")
    sent = sum(len(_request(db_session, "ana@example.com").sent) for _ in range(6))
    assert sent == password_reset.MAX_RESET_EMAILS_PER_WINDOW


def test_reset_mail_goes_to_the_outbox_table_with_the_default_mailer(
    db_session: Session, make_user: UserFactory, settings: Settings
) -> None:
    make_user("ana@example.com")
    mailer = OutboxMailer(db_session, mail_from=settings.mail_from)
    password_reset.request_password_reset(
        session=db_session, email="ana@example.com", mailer=mailer, app_url=APP_URL
    )
    row = db_session.exec(select(OutboxEmail)).one()
    assert row.to_address == "ana@example.com" and "/reset-password?token=" in row.text_body
    assert row.sent_via == "outbox"
