"""The staff suppression list (/admin/email): support and admins search it and lift a suppression,
which is audited; other roles are refused; a lifted address gets opted-in mail again."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from sayzhong.accounts.models import User
from sayzhong.accounts.schemas import UserInfo
from sayzhong.audit import AuditEvent
from sayzhong.db import session_scope
from sayzhong.errors import PermissionDeniedError, ValidationError
from sayzhong.notifications import preferences as prefs
from sayzhong.notifications.reminders import eligible_recipients
from sayzhong.settings import Settings
from tests.factories import UserFactory
from tests.integration.notifications.test_reminders_job import db, learner

__all__ = ["db"]  # fixture, re-used


def _staff(session: Session, role: str) -> UserInfo:
    user = UserFactory(session, email_prefix=role)(role=role)
    row = session.get(User, user.id)
    assert row is not None
    row.two_factor_enabled = True  # staff act only with two-factor sign-in (issue 9)
    session.add(row)
    session.flush()
    return UserInfo.from_row(row)


def _suppress_some(session: Session) -> None:
    prefs.suppress(
        session=session, email="Gone.User@example.org", reason="bounce", source="dsn", detail="5.1.1"
    )
    prefs.suppress(session=session, email="angry@example.net", reason="complaint", source="webhook")
    prefs.suppress(session=session, email="typo_100%@example.org", reason="manual", source="cli")


def test_support_searches_by_address_and_reason_newest_first(db: Settings) -> None:
    with session_scope() as session:
        _suppress_some(session)
        support = _staff(session, "support")
        everything = prefs.list_suppressions(session=session, actor=support)
        assert everything.total == 3
        assert [v.email for v in everything.items] == [
            "typo_100%@example.org",
            "angry@example.net",
            "gone.user@example.org",
        ]
        found = prefs.list_suppressions(session=session, actor=support, search="  GONE ")
        assert [(v.email, v.reason, v.source, v.detail) for v in found.items] == [
            ("gone.user@example.org", "bounce", "dsn", "5.1.1")
        ]
        # LIKE wildcards in the search are plain characters.
        assert [
            v.email for v in prefs.list_suppressions(session=session, actor=support, search="_100%").items
        ] == ["typo_100%@example.org"]
        assert prefs.list_suppressions(session=session, actor=support, search="%").total == 1
        complaints = prefs.list_suppressions(session=session, actor=support, reason="complaint")
        assert [v.email for v in complaints.items] == ["angry@example.net"]
        with pytest.raises(ValidationError):
            prefs.list_suppressions(session=session, actor=support, reason="spam")


def test_lifting_is_audited_and_the_learner_can_be_mailed_again(db: Settings) -> None:
    uid = learner(email="gone.user@example.org", categories=("daily",))
    with session_scope() as session:
        _suppress_some(session)
        assert uid not in {r.user_id for r in eligible_recipients(session=session)}
        admin = _staff(session, "admin")
        assert prefs.lift_suppression(
            session=session, actor=admin, email=" Gone.User@example.org", ip="192.0.2.7"
        )
        assert not prefs.lift_suppression(session=session, actor=admin, email="gone.user@example.org")
    with session_scope() as session:
        assert not prefs.is_suppressed(session=session, email="gone.user@example.org")
        assert uid in {r.user_id for r in eligible_recipients(session=session)}
        (audit,) = session.exec(
            select(AuditEvent).where(AuditEvent.action == "email.suppression_lifted")
        ).all()
    assert (audit.actor_id, audit.target, audit.ip) == (admin.id, "gone.user@example.org", "192.0.2.7")
    assert audit.detail["reason"] == "bounce" and audit.detail["source"] == "dsn"


@pytest.mark.parametrize("role", ["learner", "marketing", "analyst"])
def test_other_roles_may_neither_see_nor_lift(db: Settings, role: str) -> None:
    with session_scope() as session:
        _suppress_some(session)
        actor = _staff(session, role)
        with pytest.raises(PermissionDeniedError):
            prefs.list_suppressions(session=session, actor=actor)
        with pytest.raises(PermissionDeniedError):
            prefs.lift_suppression(session=session, actor=actor, email="angry@example.net")
        assert prefs.is_suppressed(session=session, email="angry@example.net")
