"""Roles, access checks, the staff user list and the audited role change."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlmodel import Session, select

from sayzhong.accounts import access, staff, users
from sayzhong.accounts.access import Role
from sayzhong.audit import AuditEvent
from sayzhong.errors import AuthenticationError, PermissionDeniedError, ValidationError
from tests.factories import UserFactory, with_two_factor


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


def test_staff_only_checks_refuse_staff_without_two_factor(make_user: UserFactory) -> None:
    """Issue 9: the services enforce two-factor for staff, not only the page guards."""
    for role in ("support", "marketing", "analyst", "admin"):
        without = make_user(role=role, two_factor=False)
        with pytest.raises(PermissionDeniedError) as info:
            access.require_role(without, *access.STAFF_ROLES)
        assert info.value.code == "two_factor_required" and "two-factor" in info.value.user_message
        with pytest.raises(PermissionDeniedError):
            access.require_staff(without)
        access.require_role(make_user(role=role), *access.STAFF_ROLES)  # enrolled: allowed
    # The wrong role is still "forbidden", whatever the two-factor state.
    with pytest.raises(PermissionDeniedError) as info:
        access.require_admin(make_user(role="support", two_factor=False))
    assert info.value.code == "forbidden"
    # A check that also admits learners is not staff-only: no two-factor needed for it.
    access.require_role(make_user(role="support", two_factor=False), *access.ALL_ROLES)
    access.require_role(make_user(), Role.LEARNER)


def test_staff_services_refuse_an_actor_without_two_factor(
    db_session: Session, make_user: UserFactory
) -> None:
    from sayzhong.billing import service as billing
    from sayzhong.growth import referrals
    from sayzhong.notifications import preferences
    from sayzhong.notifications import service as notifications

    learner = make_user("ana@example.com")
    admin = make_user("boss@example.com", role="admin", two_factor=False)
    support = make_user("help@example.com", role="support", two_factor=False)
    refused = [
        lambda: staff.list_users(session=db_session, actor=support),
        lambda: staff.change_role(session=db_session, actor=admin, user_id=learner.id, role="support"),
        lambda: notifications.list_outbox(session=db_session, actor=admin),
        lambda: referrals.staff_referrals(session=db_session, actor=support),
        lambda: preferences.list_suppressions(session=db_session, actor=support),
        lambda: billing.grant_plus(
            session=db_session, actor=admin, email="ana@example.com", days=7, reason="goodwill"
        ),
    ]
    for call in refused:
        with pytest.raises(PermissionDeniedError) as info:
            call()
        assert info.value.code == "two_factor_required"
    assert users.get_user(session=db_session, user_id=learner.id).role == "learner"
    assert db_session.exec(select(AuditEvent).where(AuditEvent.action == "role.changed")).all() == []
    # Once enrolled, the same calls go through.
    enrolled = users.get_user(session=db_session, user_id=support.id)
    assert not enrolled.two_factor_enabled
    assert staff.list_users(session=db_session, actor=with_two_factor(db_session, support)).total == 3


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
