"""E-mail verification: the link mailed at sign-up (through the outbox mailer wiring picks offline)
is signed, works once, expires, and is refused when tampered; resend is throttled; the marketing
rule follows the flag; every outcome is audited."""

from __future__ import annotations

import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from itsdangerous.timed import TimestampSigner
from sqlalchemy import update
from sqlmodel import Session, select

from sayzhong.accounts import verification
from sayzhong.accounts.models import EmailVerificationToken, User
from sayzhong.accounts.users import get_user
from sayzhong.audit import AuditEvent
from sayzhong.db import utcnow
from sayzhong.errors import PermissionDeniedError, RateLimitedError, ValidationError
from sayzhong.notifications.service import latest_outbox_email_to
from sayzhong.settings import Settings
from tests.factories import UserFactory

APP_URL = "http://localhost:3000"


def _send(db_session: Session, user_id: int) -> str:
    """Send a link and read it back from the outbox, as the learner would from their inbox."""
    assert verification.send_verification_email(session=db_session, user_id=user_id, app_url=APP_URL)
    user = get_user(session=db_session, user_id=user_id)
    mail = latest_outbox_email_to(session=db_session, to=user.email)
    assert mail is not None and mail.subject == "Confirm your e-mail address for SayZhong"
    link = next(word for word in mail.text_body.split() if word.startswith(APP_URL))
    assert urlsplit(link).path == "/verify-email"
    return parse_qs(urlsplit(link).query)["token"][0]


def _actions(db_session: Session) -> list[str]:
    return [e.action for e in db_session.exec(select(AuditEvent).order_by(AuditEvent.id)).all()]  # type: ignore[arg-type]


def _allow_resend(db_session: Session) -> None:
    db_session.execute(update(EmailVerificationToken).values(created_at=utcnow() - timedelta(minutes=5)))


def test_a_new_account_is_unverified_and_may_not_be_sent_marketing(make_user: UserFactory) -> None:
    user = make_user()
    assert not user.email_verified
    assert not verification.may_email_marketing(user)
    with pytest.raises(PermissionDeniedError) as err:
        verification.require_verified_email(user)
    assert err.value.code == "email_unverified" and "confirm your e-mail" in err.value.user_message
    assert not verification.may_email_marketing(None)


def test_the_link_verifies_once_and_is_then_used(db_session: Session, make_user: UserFactory) -> None:
    user = make_user()
    token = _send(db_session, user.id)
    row = db_session.exec(select(EmailVerificationToken)).one()
    assert row.token_hash != token and len(row.token_hash) == 64  # only the digest is stored

    verified = verification.verify_email(session=db_session, token=token, ip="127.0.0.1")

    assert verified.email_verified and verification.may_email_marketing(verified)
    verification.require_verified_email(verified)  # no error
    with pytest.raises(ValidationError) as err:
        verification.verify_email(session=db_session, token=token)
    assert err.value.code == "verification_used"
    assert "already been used" in err.value.user_message
    assert "email.verification_sent" in _actions(db_session)
    assert _actions(db_session).count("email.verified") == 1
    assert _actions(db_session)[-1] == "email.verification_failed"


def test_an_expired_link_is_refused(db_session: Session, make_user: UserFactory) -> None:
    user = make_user()
    token = _send(db_session, user.id)
    db_session.execute(update(EmailVerificationToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    with pytest.raises(ValidationError) as err:
        verification.verify_email(session=db_session, token=token)
    assert err.value.code == "verification_expired" and "expired" in err.value.user_message
    assert not get_user(session=db_session, user_id=user.id).email_verified


def test_a_link_past_its_signed_lifetime_is_refused_even_if_the_row_says_otherwise(
    db_session: Session, make_user: UserFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = make_user()
    signed_at = int(time.time()) - 3 * 24 * 3600  # the signature's own timestamp: three days ago
    with monkeypatch.context() as patch:
        patch.setattr(TimestampSigner, "get_timestamp", lambda self: signed_at)
        token = _send(db_session, user.id)
    with pytest.raises(ValidationError) as err:
        verification.verify_email(session=db_session, token=token)
    assert err.value.code == "verification_expired"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # signature broken
        lambda t: "x" + t,  # payload changed
        lambda t: "",
        lambda t: "a" * 600,
    ],
)
def test_a_tampered_link_is_refused(db_session: Session, make_user: UserFactory, tamper) -> None:  # type: ignore[no-untyped-def]
    user = make_user()
    token = _send(db_session, user.id)
    with pytest.raises(ValidationError) as err:
        verification.verify_email(session=db_session, token=tamper(token))
    assert err.value.code == "verification_invalid" and "not valid" in err.value.user_message
    assert not get_user(session=db_session, user_id=user.id).email_verified


def test_a_link_signed_with_another_key_is_refused(
    db_session: Session, make_user: UserFactory, settings: Settings
) -> None:
    user = make_user()
    token = _send(db_session, user.id)
    settings.secret_key = "another-secret-key-of-enough-length-0123456789"
    with pytest.raises(ValidationError) as err:
        verification.verify_email(session=db_session, token=token)
    assert err.value.code == "verification_invalid"


def test_a_link_for_an_address_the_account_no_longer_uses_is_refused(
    db_session: Session, make_user: UserFactory
) -> None:
    user = make_user()
    token = _send(db_session, user.id)
    db_session.execute(update(User).where(User.id == user.id).values(email="moved@example.com"))  # type: ignore[arg-type]
    with pytest.raises(ValidationError) as err:
        verification.verify_email(session=db_session, token=token)
    assert err.value.code == "verification_stale"


def test_resend_is_throttled_then_allowed_and_capped_per_day(
    db_session: Session, make_user: UserFactory
) -> None:
    user = make_user()
    _send(db_session, user.id)
    with pytest.raises(RateLimitedError) as err:
        verification.send_verification_email(session=db_session, user_id=user.id, app_url=APP_URL)
    assert 0 < err.value.retry_after_s <= 60 and "wait" in err.value.user_message
    assert "email.verification_throttled" in _actions(db_session)

    for _ in range(verification.MAX_VERIFICATION_EMAILS_PER_DAY - 1):
        _allow_resend(db_session)
        _send(db_session, user.id)
    _allow_resend(db_session)
    with pytest.raises(RateLimitedError) as err:
        verification.send_verification_email(session=db_session, user_id=user.id, app_url=APP_URL)
    assert "spam folder" in err.value.user_message
    assert verification.count_sent_links(session=db_session, user_id=user.id) == 5


def test_an_older_unused_link_still_works_after_a_resend(db_session: Session, make_user: UserFactory) -> None:
    user = make_user()
    first = _send(db_session, user.id)
    _allow_resend(db_session)
    second = _send(db_session, user.id)
    assert first != second
    assert verification.verify_email(session=db_session, token=first).email_verified


def test_a_verified_account_gets_no_more_links(db_session: Session, make_user: UserFactory) -> None:
    user = make_user()
    verification.verify_email(session=db_session, token=_send(db_session, user.id))
    _allow_resend(db_session)
    assert verification.send_verification_email(session=db_session, user_id=user.id, app_url=APP_URL) is False
    assert verification.count_sent_links(session=db_session, user_id=user.id) == 1


def test_retention_purges_links_a_day_past_expiry(db_session: Session, make_user: UserFactory) -> None:
    user = make_user()
    _send(db_session, user.id)
    assert verification.purge_verification_tokens(session=db_session) == 0
    db_session.execute(update(EmailVerificationToken).values(expires_at=utcnow() - timedelta(days=2)))
    assert verification.purge_verification_tokens(session=db_session) == 1
