from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import Session

from sayzhong import wiring
from sayzhong.accounts import staff, users
from sayzhong.accounts.access import Role
from sayzhong.accounts.schemas import UserInfo
from sayzhong.db import utcnow
from sayzhong.errors import AuthenticationError, NotFoundError, PermissionDeniedError
from sayzhong.integrations.smtp_mailer import SmtpMailer
from sayzhong.notifications import service
from sayzhong.notifications.models import OutboxEmail
from sayzhong.notifications.offline import OutboxMailer
from sayzhong.notifications.ports import EmailMessageData
from sayzhong.settings import Settings
from tests.factories import with_two_factor


def _admin_and_learner(db_session: Session) -> tuple[UserInfo, UserInfo]:
    admin = with_two_factor(
        db_session, staff.create_admin(session=db_session, email="admin@example.com", password=None).user
    )
    learner = users.sign_up(
        session=db_session,
        email="ana@example.com",
        password="correct horse battery staple",
        display_name="Ana",
    )
    return admin, learner


def test_outbox_mailer_stores_the_message_for_admins(db_session: Session, settings: Settings) -> None:
    admin, _ = _admin_and_learner(db_session)
    mailer = wiring.get_mailer(settings, session=db_session)
    assert isinstance(mailer, OutboxMailer)
    mailer.send(
        EmailMessageData(to="ana@example.com", subject="Hi", text_body="Plain", html_body="<p>Rich</p>")
    )
    page = service.list_outbox(session=db_session, actor=admin)
    assert page.total == 1
    mail = page.items[0]
    assert (mail.to, mail.subject, mail.text_body, mail.html_body) == (
        "ana@example.com",
        "Hi",
        "Plain",
        "<p>Rich</p>",
    )
    assert mail.from_address == settings.mail_from and mail.sent_via == "outbox"
    assert service.get_outbox_email(session=db_session, actor=admin, email_id=mail.id) == mail
    latest = service.latest_outbox_email_to(session=db_session, to="ANA@example.com")
    assert latest == mail


def test_outbox_is_for_admins_only(db_session: Session, settings: Settings) -> None:
    admin, learner = _admin_and_learner(db_session)
    support = users.sign_up(
        session=db_session,
        email="help@example.com",
        password="correct horse battery staple",
        display_name="Help",
    )
    staff.change_role(session=db_session, actor=admin, user_id=support.id, role=Role.SUPPORT)
    support = with_two_factor(db_session, users.get_user(session=db_session, user_id=support.id))
    for actor in (learner, support):
        with pytest.raises(PermissionDeniedError):
            service.list_outbox(session=db_session, actor=actor)
    with pytest.raises(AuthenticationError):
        service.get_outbox_email(session=db_session, actor=None, email_id=1)
    with pytest.raises(NotFoundError):
        service.get_outbox_email(session=db_session, actor=admin, email_id=999)


def test_smtp_is_chosen_when_a_host_is_configured(db_session: Session, settings: Settings) -> None:
    settings.smtp_host = "127.0.0.1"
    assert isinstance(wiring.get_mailer(settings, session=db_session), SmtpMailer)


def test_purge_removes_only_old_outbox_mail(db_session: Session, settings: Settings) -> None:
    mailer = OutboxMailer(db_session, mail_from=settings.mail_from)
    mailer.send(EmailMessageData(to="old@example.com", subject="old", text_body="x"))
    db_session.execute(update(OutboxEmail).values(created_at=utcnow() - timedelta(days=30)))
    mailer.send(EmailMessageData(to="new@example.com", subject="new", text_body="y"))
    assert service.purge_outbox(session=db_session) == 1
    assert service.latest_outbox_email_to(session=db_session, to="new@example.com") is not None
    assert service.latest_outbox_email_to(session=db_session, to="old@example.com") is None


RESET_BODY = "Open this link:\n\nhttp://localhost:3000/reset-password?token=s3cr3t-Token_value\n\nBye"


def _outbox_with_a_reset_link(db_session: Session, settings: Settings) -> UserInfo:
    admin, _ = _admin_and_learner(db_session)
    OutboxMailer(db_session, mail_from=settings.mail_from).send(
        EmailMessageData(
            to="ana@example.com",
            subject="Reset",
            text_body=RESET_BODY,
            html_body='<a href="http://localhost:3000/verify-email?token=s3cr3t-Token_value&x=1">go</a>',
        )
    )
    return admin


@pytest.mark.parametrize("env", ["test", "prod"])
def test_outbox_redacts_live_links_outside_development(
    db_session: Session, settings: Settings, env: str
) -> None:
    admin = _outbox_with_a_reset_link(db_session, settings)
    mail = service.list_outbox(session=db_session, actor=admin, env=env).items[0]
    opened = service.get_outbox_email(session=db_session, actor=admin, email_id=mail.id, env=env)
    for shown in (mail, opened):
        assert "s3cr3t" not in shown.text_body and "s3cr3t" not in (shown.html_body or "")
        assert "/reset-password?token=[redacted]" in shown.text_body
        assert "verify-email?token=[redacted]&x=1" in (shown.html_body or "")


def test_outbox_shows_live_links_to_an_admin_in_development(db_session: Session, settings: Settings) -> None:
    admin = _outbox_with_a_reset_link(db_session, settings)
    mail = service.list_outbox(session=db_session, actor=admin, env="dev").items[0]
    assert mail.text_body == RESET_BODY
    opened = service.get_outbox_email(session=db_session, actor=admin, email_id=mail.id, env="dev")
    assert opened.text_body == RESET_BODY


def test_outbox_redaction_follows_the_configured_environment(db_session: Session, settings: Settings) -> None:
    """Without an explicit env the settings decide (tests run with ENV=test: redacted)."""
    admin = _outbox_with_a_reset_link(db_session, settings)
    assert "s3cr3t" not in service.list_outbox(session=db_session, actor=admin).items[0].text_body


def test_unsubscribe_links_in_reminders_are_redacted_too() -> None:
    """Issue 14: the one-click unsubscribe token sits in the path, not in a `token=` parameter."""
    text = (
        "Unsubscribe: http://localhost:8000/email/unsubscribe/eyJ1IjoxfQ.Sig-Nature_1\nSettings: x?token=abc"
    )
    shown = service.redact_links(text)
    assert "eyJ1IjoxfQ" not in shown and "abc" not in shown
    assert "/email/unsubscribe/[redacted]\n" in shown and "?token=[redacted]" in shown
