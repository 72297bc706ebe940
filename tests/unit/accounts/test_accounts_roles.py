"""Roles, access checks, the staff user list and the audited role change."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlmodel import Session, select

from sayzhong.accounts import access, staff, users
from sayzhong.accounts.access import Role
from sayzhong.audit import AuditEvent
from sayzhong.errors import AuthenticationError, PermissionDeniedError, ValidationError
from tests.factories import UserFactory


def test_staff_roles_and_learners(make_user: UserFactory) -> None:
    learner = make_user()
    assert not access.is_staff(learner) and not access.is_staff(None)
    for role in ("support", "marketing", "admin"):
        assert access.is_staff(make_user(role=role))


def test_require_role_distinguishes_anonymous_from_forbidden(make_user: UserFactory) -> None:
    with pytest.raises(AuthenticationError):
        access.require_role(None, Role.ADMIN)
    with pytest.raises(PermissionDeniedError) as info:
        access.require_role(make_user(), Role.ADMIN, Role.SUPPORT)
    assert info.value.http_status == 403
    access.require_role(make_user(role="support"), Role.ADMIN, Role.SUPPORT)


def test_admin_changes_a_role_and_it_is_audited(db_session: Session, make_user: UserFactory) -> None:
    admin = make_user(role="admin")
    learner = make_user("ana@example.com")
    changed = staff.change_role(
        session=db_session, actor=admin, user_id=learner.id, role="support", ip="192.0.2.1"
    )
    assert changed.role == "support"
    assert users.get_user(session=db_session, user_id=learner.id).role == "support"
    event = db_session.exec(select(AuditEvent).where(AuditEvent.action == "role.changed")).one()
    assert event.actor_id == admin.id and event.target == f"user:{learner.id}" and event.ip == "192.0.2.1"
    assert event.detail["from"] == "learner" and event.detail["to"] == "support"


@pytest.mark.parametrize("role", ["learner", "support", "marketing"])
def test_non_admins_cannot_change_roles(db_session: Session, make_user: UserFactory, role: str) -> None:
    actor = make_user(role=role)
    victim = make_user()
    with pytest.raises(PermissionDeniedError):
        staff.change_role(session=db_session, actor=actor, user_id=actor.id, role="admin")
    with pytest.raises(PermissionDeniedError):
        staff.change_role(session=db_session, actor=actor, user_id=victim.id, role="support")
    assert users.get_user(session=db_session, user_id=actor.id).role == role
    assert db_session.exec(select(AuditEvent).where(AuditEvent.action == "role.changed")).first() is None


def test_a_forged_admin_dataclass_is_checked_against_the_database(
    db_session: Session, make_user: UserFactory
) -> None:
    learner = make_user()
    forged = replace(learner, role="admin")
    with pytest.raises(PermissionDeniedError):
        staff.change_role(session=db_session, actor=forged, user_id=learner.id, role="admin")


def test_the_last_admin_cannot_be_demoted(db_session: Session, make_user: UserFactory) -> None:
    admin = make_user(role="admin")
    with pytest.raises(ValidationError) as info:
        staff.change_role(session=db_session, actor=admin, user_id=admin.id, role="learner")
    assert info.value.code == "last_admin"
    assert users.get_user(session=db_session, user_id=admin.id).role == "admin"


def test_an_admin_can_be_demoted_while_another_remains(db_session: Session, make_user: UserFactory) -> None:
    first, second = make_user(role="admin"), make_user(role="admin")
    staff.change_role(session=db_session, actor=first, user_id=second.id, role="marketing")
    with pytest.raises(ValidationError):
        staff.change_role(session=db_session, actor=first, user_id=first.id, role="learner")


def test_unknown_role_is_refused(db_session: Session, make_user: UserFactory) -> None:
    admin, learner = make_user(role="admin"), make_user()
    with pytest.raises(ValidationError, match="Unknown role"):
        staff.change_role(session=db_session, actor=admin, user_id=learner.id, role="superuser")


def test_user_list_searches_and_paginates_for_support(db_session: Session, make_user: UserFactory) -> None:
    support = make_user("support@example.com", role="support")
    for i in range(7):
        make_user(f"pupil{i}@example.com", name=f"Pupil {i}")
    make_user("other@example.com", name="Zhang Wei")
    page1 = staff.list_users(session=db_session, actor=support, search="PUPIL", page=1, page_size=5)
    page2 = staff.list_users(session=db_session, actor=support, search="pupil", page=2, page_size=5)
    assert page1.total == 7 and page1.pages == 2 and len(page1.items) == 5 and len(page2.items) == 2
    assert {u.email for u in page1.items} | {u.email for u in page2.items} == {
        f"pupil{i}@example.com" for i in range(7)
    }
    by_name = staff.list_users(session=db_session, actor=support, search="zhang")
    assert [u.email for u in by_name.items] == ["other@example.com"]
    assert staff.list_users(session=db_session, actor=support, search="%").total == 0
    assert staff.list_users(session=db_session, actor=support, role="support").total == 1


def test_learners_and_marketing_cannot_list_users(db_session: Session, make_user: UserFactory) -> None:
    for role in ("learner", "marketing"):
        with pytest.raises(PermissionDeniedError):
            staff.list_users(session=db_session, actor=make_user(role=role))
    with pytest.raises(AuthenticationError):
        staff.list_users(session=db_session, actor=None)


def test_create_admin_creates_then_promotes(db_session: Session, make_user: UserFactory) -> None:
    created = staff.create_admin(
        session=db_session, email="Boss@Example.com", password="a long admin phrase 7"
    )
    assert created.created and created.user.role == "admin" and created.user.email == "boss@example.com"
    learner = make_user("ana@example.com")
    promoted = staff.create_admin(session=db_session, email="ana@example.com", password=None)
    assert not promoted.created and promoted.user.id == learner.id and promoted.user.role == "admin"
    assert promoted.user.has_password
    actions = [e.action for e in db_session.exec(select(AuditEvent)).all()]
    assert "admin.created" in actions and "role.changed" in actions


def test_create_admin_without_password_makes_a_passwordless_account(db_session: Session) -> None:
    result = staff.create_admin(session=db_session, email="ops@example.com", password=None)
    assert result.created and not result.user.has_password


def test_audit_log_is_readable_by_support_not_learners(db_session: Session, make_user: UserFactory) -> None:
    support, learner = make_user(role="support"), make_user()
    page = staff.list_audit_log(session=db_session, actor=support, action="user.signed_up")
    assert page.total == 2 and page.items[0].id > page.items[1].id
    with pytest.raises(PermissionDeniedError):
        staff.list_audit_log(session=db_session, actor=learner)
