"""Retention purges and the erasure helpers keep what is current and drop what is past its time."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session, select

from sayzhong.accounts import oidc, password_reset, sign_in, users
from sayzhong.accounts.models import LoginAttempt, OidcLoginState, PasswordResetToken, UserSession
from sayzhong.accounts.retention import purge_expired_account_records
from sayzhong.audit import AuditEvent, pseudonymise_audit_email, purge_audit_events, record_audit
from sayzhong.db import utcnow
from sayzhong.notifications.offline import OutboxMailer
from sayzhong.notifications.ports import EmailMessageData
from sayzhong.notifications.service import delete_outbox_mail_to, latest_outbox_email_to
from sayzhong.settings import Settings


class _NullMailer:
    def send(self, message: EmailMessageData) -> None:
        pass


def test_purge_drops_old_account_records_and_keeps_current_ones(
    db_session: Session, settings: Settings
) -> None:
    user = users.sign_up(
        session=db_session,
        email="ana@example.com",
        password="correct horse battery staple",
        display_name="Ana",
    )
    sign_in.authenticate(
        session=db_session, email="ana@example.com", password="nope", ip="192.0.2.1", user_agent=None
    )
    token = sign_in.start_session(session=db_session, user_id=user.id, ip=None, user_agent=None)
    password_reset.request_password_reset(
        session=db_session, email="ana@example.com", mailer=_NullMailer(), app_url="http://localhost:3000"
    )
    assert purge_expired_account_records(session=db_session) == {
        "login_attempt": 0,
        "user_session": 0,
        "password_reset_token": 0,
        "oidc_login_state": 0,
        "email_verification_token": 0,
        "two_factor_challenge": 0,
    }
    long_ago = utcnow() - timedelta(days=60)
    db_session.execute(update(LoginAttempt).values(created_at=long_ago))
    db_session.execute(update(PasswordResetToken).values(expires_at=long_ago))
    db_session.add(
        OidcLoginState(
            state_hash="x" * 64,
            nonce="n",
            code_verifier="v",
            redirect_uri="http://localhost/cb",
            expires_at=long_ago,
        )
    )
    other = sign_in.start_session(session=db_session, user_id=user.id, ip=None, user_agent=None)
    sign_in.sign_out(session=db_session, token=other)
    db_session.execute(
        update(UserSession).where(UserSession.revoked_at.is_not(None)).values(revoked_at=long_ago)
    )  # type: ignore[union-attr]
    db_session.flush()
    assert purge_expired_account_records(session=db_session) == {
        "login_attempt": 1,
        "user_session": 1,
        "password_reset_token": 1,
        "oidc_login_state": 1,
        "email_verification_token": 0,
        "two_factor_challenge": 0,
    }
    assert sign_in.resolve_session(session=db_session, token=token) is not None
    assert oidc.purge_expired_oidc_states(session=db_session) == 0


def test_erasure_helpers_remove_the_email_from_audit_and_outbox(
    db_session: Session, settings: Settings
) -> None:
    sign_in.authenticate(session=db_session, email="Gone@Example.com", password="x", ip=None, user_agent=None)
    record_audit(session=db_session, action="sign_in.failed", target="keep@example.com")
    OutboxMailer(db_session, mail_from=settings.mail_from).send(
        EmailMessageData(to="gone@example.com", subject="s", text_body="t")
    )
    assert pseudonymise_audit_email(session=db_session, email="gone@example.com") == 1
    targets = {e.target for e in db_session.exec(select(AuditEvent)).all()}
    assert targets == {"erased", "keep@example.com"}
    assert delete_outbox_mail_to(session=db_session, to="gone@example.com") == 1
    assert latest_outbox_email_to(session=db_session, to="gone@example.com") is None


def test_audit_purge_keeps_the_last_year(db_session: Session) -> None:
    record_audit(session=db_session, action="sign_out")
    db_session.execute(update(AuditEvent).values(created_at=utcnow() - timedelta(days=400)))
    record_audit(session=db_session, action="password.changed")
    assert purge_audit_events(session=db_session) == 1
    assert [e.action for e in db_session.exec(select(AuditEvent)).all()] == ["password.changed"]
