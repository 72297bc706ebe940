"""Staff DSR queue: 30-day deadline, identity verification before any action, audited steps,
the same export/erasure machinery, staff-only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session

from sayzhong.accounts.models import User
from sayzhong.audit import list_audit_events
from sayzhong.db import utcnow
from sayzhong.errors import PermissionDeniedError, ValidationError
from sayzhong.privacy import dsr, erasure, export
from tests.factories import UserFactory


def test_queue_deadline_verification_and_actions(db_session: Session, make_user: UserFactory) -> None:
    staff = make_user(role="support")
    learner = make_user("locked.out@example.org")
    view = dsr.create_request(
        session=db_session,
        actor=staff,
        actor_id=staff.id,
        kind="access",
        requester_email="Locked.Out@example.org",
        details="I lost my password; please send my data.",
        received_at=utcnow() - timedelta(days=31),
    )
    assert view.user_id == learner.id and view.overdue and view.days_left() < 0
    with pytest.raises(ValidationError):
        dsr.require_verified(session=db_session, request_id=view.id)  # no action before verification
    with pytest.raises(ValidationError):
        dsr.verify_identity(
            session=db_session, actor=staff, actor_id=staff.id, request_id=view.id, method="ok"
        )
    dsr.verify_identity(
        session=db_session,
        actor=staff,
        actor_id=staff.id,
        request_id=view.id,
        method="replied from the address",
    )
    _v, user_id = dsr.require_verified(session=db_session, request_id=view.id)
    export.request_export(
        session=db_session, user_id=user_id, requested_by="staff"
    )  # unverified address is ok here
    erasure.request_erasure(session=db_session, user_id=user_id, reauthenticated=True, requested_by="staff")
    dsr.record_action(session=db_session, actor_id=staff.id, request_id=view.id, action="export")
    closed = dsr.close_request(
        session=db_session, actor=staff, actor_id=staff.id, request_id=view.id, resolution="sent the export"
    )
    assert closed.status == "done" and closed.closed_at is not None
    assert dsr.list_requests(session=db_session, actor=staff) == []
    assert len(dsr.list_requests(session=db_session, actor=staff, include_closed=True)) == 1
    actions = {e.action for e in list_audit_events(session=db_session, actor_id=staff.id).items}
    assert {"dsr.created", "dsr.identity_verified", "dsr.action", "dsr.closed"} <= actions
    assert db_session.get(User, learner.id) is not None  # grace period first


def test_only_support_and_admin_staff(db_session: Session, make_user: UserFactory) -> None:
    for role in ("learner", "marketing"):
        user = make_user(role=role)
        with pytest.raises(PermissionDeniedError):
            dsr.list_requests(session=db_session, actor=user)
        with pytest.raises(PermissionDeniedError):
            dsr.create_request(
                session=db_session,
                actor=user,
                actor_id=user.id,
                kind="access",
                requester_email="a@example.org",
            )
    admin = make_user(role="admin")
    with pytest.raises(ValidationError):
        dsr.create_request(
            session=db_session,
            actor=admin,
            actor_id=admin.id,
            kind="delete-everything",
            requester_email="a@example.org",
        )
