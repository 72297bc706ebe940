"""Support desk: a learner's detail view, deactivate / reactivate, sign out everywhere — role
checked, audited, and never showing a secret."""

from __future__ import annotations

import dataclasses

import pytest
from sqlmodel import Session, col, select

from sayzhong.accounts import sign_in, user_support
from sayzhong.api import tokens
from sayzhong.audit import AuditEvent
from sayzhong.errors import AuthenticationError, PermissionDeniedError, ValidationError
from tests.factories import GOOD_PASSWORD, UserFactory

CHROME_WIN = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0 Safari/537.36"
)


def _sign_in(db_session: Session, email: str) -> str:
    token = sign_in.authenticate(
        session=db_session, email=email, password=GOOD_PASSWORD, ip="81.2.69.142", user_agent=CHROME_WIN
    ).unwrap()[1]
    return token


def _actions(db_session: Session, target: str) -> list[str]:
    rows = db_session.exec(
        select(AuditEvent).where(col(AuditEvent.target) == target).order_by(col(AuditEvent.id))
    )
    return [row.action for row in rows.all()]


def test_the_detail_view_shows_devices_readably_and_no_secrets(
    db_session: Session, make_user: UserFactory
) -> None:
    support = make_user(role="support")
    learner = make_user()
    _sign_in(db_session, learner.email)
    detail = user_support.get_user_detail(session=db_session, actor=support, user_id=learner.id)
    assert detail.email == learner.email and detail.plan == "Free" and detail.active
    assert detail.sign_up_method == "e-mail and password"
    assert detail.attempts_count == 0 and detail.last_activity_at is not None
    assert [(d.device, d.place, d.live) for d in detail.devices] == [
        ("Chrome on Windows", "Network 81.2.69.x", True)
    ]
    assert any(line.action == "sign_in.succeeded" and line.by == "the learner" for line in detail.audit_trail)
    flat = repr(dataclasses.asdict(detail))
    assert "81.2.69.142" not in flat and "argon2" not in flat and "password_hash" not in flat
    assert "support.user_viewed" in _actions(db_session, f"user:{learner.id}")


def test_learners_cannot_use_the_support_desk(db_session: Session, make_user: UserFactory) -> None:
    learner, other = make_user(), make_user()
    with pytest.raises(PermissionDeniedError):
        user_support.get_user_detail(session=db_session, actor=learner, user_id=other.id)
    with pytest.raises(PermissionDeniedError):
        user_support.deactivate_user(session=db_session, actor=learner, user_id=other.id)
    with pytest.raises(AuthenticationError):  # not signed in at all
        user_support.sign_out_everywhere(session=db_session, actor=None, user_id=other.id)


def test_a_deactivated_account_cannot_sign_in_and_its_sessions_and_tokens_end(
    db_session: Session, make_user: UserFactory
) -> None:
    support = make_user(role="support")
    learner = make_user()
    cookie = _sign_in(db_session, learner.email)
    _info, raw_token = tokens.create_token(
        session=db_session, user_id=learner.id, name="cli", scopes="practice:read"
    )
    detail = user_support.deactivate_user(
        session=db_session, actor=support, user_id=learner.id, reason="asked by the learner", ip="127.0.0.1"
    )
    assert not detail.active
    assert sign_in.resolve_session(session=db_session, token=cookie) is None
    with pytest.raises(AuthenticationError):
        tokens.authenticate_token(session=db_session, token=raw_token)
    with pytest.raises(AuthenticationError, match="deactivated"):
        _sign_in(db_session, learner.email)
    deactivated = db_session.exec(
        select(AuditEvent).where(col(AuditEvent.action) == "support.user_deactivated")
    ).one()
    assert deactivated.actor_id == support.id and deactivated.detail["sessions_ended"] == 1
    assert deactivated.detail["reason"] == "asked by the learner"

    user_support.reactivate_user(session=db_session, actor=support, user_id=learner.id)
    assert _sign_in(db_session, learner.email)
    assert "support.user_reactivated" in _actions(db_session, f"user:{learner.id}")


def test_sign_out_everywhere_ends_every_session_and_is_audited(
    db_session: Session, make_user: UserFactory
) -> None:
    admin = make_user(role="admin")
    learner = make_user()
    first, second = _sign_in(db_session, learner.email), _sign_in(db_session, learner.email)
    assert user_support.sign_out_everywhere(session=db_session, actor=admin, user_id=learner.id) == 2
    assert sign_in.resolve_session(session=db_session, token=first) is None
    assert sign_in.resolve_session(session=db_session, token=second) is None
    assert _actions(db_session, f"user:{learner.id}")[-1] == "support.signed_out_everywhere"


def test_support_cannot_act_on_staff_or_themselves(db_session: Session, make_user: UserFactory) -> None:
    support, admin = make_user(role="support"), make_user(role="admin")
    with pytest.raises(PermissionDeniedError):
        user_support.deactivate_user(session=db_session, actor=support, user_id=admin.id)
    with pytest.raises(ValidationError):
        user_support.deactivate_user(session=db_session, actor=support, user_id=support.id)
    with pytest.raises(ValidationError):
        user_support.sign_out_everywhere(session=db_session, actor=admin, user_id=admin.id)


def test_an_unknown_user_is_a_plain_not_found(db_session: Session, make_user: UserFactory) -> None:
    support = make_user(role="support")
    with pytest.raises(Exception, match="does not exist"):
        user_support.get_user_detail(session=db_session, actor=support, user_id=999_999)


def test_support_resends_the_confirmation_link_audited(db_session: Session, make_user: UserFactory) -> None:
    from sayzhong.notifications.service import latest_outbox_email_to

    support, learner = make_user(role="support"), make_user()
    user_support.resend_verification(session=db_session, actor=support, user_id=learner.id, ip="127.0.0.1")
    mail = latest_outbox_email_to(session=db_session, to=learner.email)
    assert mail is not None and "/verify-email?token=" in mail.text_body
    assert _actions(db_session, f"user:{learner.id}")[-1] == "support.verification_resent"
    with pytest.raises(PermissionDeniedError):
        user_support.resend_verification(session=db_session, actor=learner, user_id=learner.id)
