from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import Session, col, select

from sayzhong.accounts import sign_in
from sayzhong.accounts.models import User, UserSession
from sayzhong.accounts.schemas import UserInfo
from sayzhong.accounts.sessions import hash_token, purge_ended_sessions
from sayzhong.audit import AuditEvent
from sayzhong.db import as_utc, utcnow
from sayzhong.errors import NotFoundError
from sayzhong.settings import Settings
from tests.factories import UserFactory


def _token_for(db_session: Session, user: UserInfo, ip: str = "203.0.113.9") -> str:
    return sign_in.start_session(session=db_session, user_id=user.id, ip=ip, user_agent="Firefox")


def _row(db_session: Session, token: str) -> UserSession:
    return db_session.exec(select(UserSession).where(UserSession.token_hash == hash_token(token))).one()


def test_only_a_hash_of_the_token_is_stored(db_session: Session, make_user: UserFactory) -> None:
    token = _token_for(db_session, make_user())
    stored = db_session.exec(select(UserSession)).one()
    assert stored.token_hash == hash_token(token) and token not in stored.token_hash


def test_tampered_unknown_empty_or_oversized_tokens_resolve_to_nothing(
    db_session: Session, make_user: UserFactory
) -> None:
    token = _token_for(db_session, make_user())
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in (tampered, "garbage", "", None, token + "x" * 300):
        assert sign_in.resolve_session(session=db_session, token=bad) is None
    assert sign_in.resolve_session(session=db_session, token=token) is not None


def test_session_ends_after_the_idle_timeout(
    db_session: Session, make_user: UserFactory, settings: Settings
) -> None:
    token = _token_for(db_session, make_user())
    row = _row(db_session, token)
    row.last_seen_at = utcnow() - timedelta(minutes=settings.session_idle_timeout_minutes, seconds=1)
    db_session.add(row)
    db_session.flush()
    assert sign_in.resolve_session(session=db_session, token=token) is None


def test_session_ends_at_the_absolute_timeout_even_when_active(
    db_session: Session, make_user: UserFactory, settings: Settings
) -> None:
    token = _token_for(db_session, make_user())
    info = sign_in.resolve_session(session=db_session, token=token)
    assert info is not None
    assert info.expires_at - info.created_at == timedelta(hours=settings.session_absolute_timeout_hours)
    row = _row(db_session, token)
    row.expires_at = utcnow() - timedelta(seconds=1)
    row.last_seen_at = utcnow()
    db_session.add(row)
    db_session.flush()
    assert sign_in.resolve_session(session=db_session, token=token) is None


def test_activity_slides_last_seen_forward(db_session: Session, make_user: UserFactory) -> None:
    token = _token_for(db_session, make_user())
    row = _row(db_session, token)
    earlier = utcnow() - timedelta(minutes=30)
    row.last_seen_at = earlier
    db_session.add(row)
    db_session.flush()
    info = sign_in.resolve_session(session=db_session, token=token)
    assert info is not None and info.last_seen_at > earlier + timedelta(minutes=29)
    assert as_utc(_row(db_session, token).last_seen_at) > earlier + timedelta(minutes=29)


def test_sign_out_revokes_server_side_and_is_audited(db_session: Session, make_user: UserFactory) -> None:
    user = make_user()
    token = _token_for(db_session, user)
    sign_in.sign_out(session=db_session, token=token, ip="203.0.113.9")
    assert sign_in.resolve_session(session=db_session, token=token) is None
    assert _row(db_session, token).revoked_at is not None
    event = db_session.exec(select(AuditEvent).where(AuditEvent.action == "sign_out")).one()
    assert event.actor_id == user.id


def test_sign_out_with_an_unknown_token_is_harmless(db_session: Session) -> None:
    sign_in.sign_out(session=db_session, token="no-such-token")
    sign_in.sign_out(session=db_session, token=None)


def test_list_sessions_marks_the_current_one_and_hides_ended_ones(
    db_session: Session, make_user: UserFactory
) -> None:
    user = make_user()
    current = _token_for(db_session, user, ip="203.0.113.1")
    other = _token_for(db_session, user, ip="203.0.113.2")
    ended = _token_for(db_session, user, ip="203.0.113.3")
    sign_in.sign_out(session=db_session, token=ended)
    listed = sign_in.list_sessions(session=db_session, user_id=user.id, current_token=current)
    assert sorted(s.ip or "" for s in listed) == ["203.0.113.1", "203.0.113.2"]
    assert [s.ip for s in listed if s.is_current] == ["203.0.113.1"]
    assert other


def test_revoke_other_sessions_keeps_only_the_current_one(
    db_session: Session, make_user: UserFactory
) -> None:
    user = make_user()
    someone_else = make_user()
    current = _token_for(db_session, user)
    others = [_token_for(db_session, user) for _ in range(3)]
    bystander = _token_for(db_session, someone_else)
    assert sign_in.revoke_other_sessions(session=db_session, user_id=user.id, keep_token=current) == 3
    assert sign_in.resolve_session(session=db_session, token=current) is not None
    assert all(sign_in.resolve_session(session=db_session, token=t) is None for t in others)
    assert sign_in.resolve_session(session=db_session, token=bystander) is not None


def test_revoking_one_session_by_id_only_works_for_its_owner(
    db_session: Session, make_user: UserFactory
) -> None:
    owner, intruder = make_user(), make_user()
    token = _token_for(db_session, owner)
    session_id = _row(db_session, token).id
    assert session_id is not None
    with pytest.raises(NotFoundError):
        sign_in.revoke_session(session=db_session, user_id=intruder.id, session_id=session_id)
    assert sign_in.resolve_session(session=db_session, token=token) is not None
    sign_in.revoke_session(session=db_session, user_id=owner.id, session_id=session_id)
    assert sign_in.resolve_session(session=db_session, token=token) is None


def test_role_changes_show_up_on_the_next_resolve(db_session: Session, make_user: UserFactory) -> None:
    user = make_user()
    token = _token_for(db_session, user)
    db_session.execute(update(User).where(col(User.id) == user.id).values(role="support"))
    info = sign_in.resolve_session(session=db_session, token=token)
    assert info is not None and info.user.role == "support" and info.user.is_staff


def test_purge_removes_long_ended_sessions_only(db_session: Session, make_user: UserFactory) -> None:
    user = make_user()
    live = _token_for(db_session, user)
    old = _token_for(db_session, user)
    row = _row(db_session, old)
    row.revoked_at = utcnow() - timedelta(days=40)
    db_session.add(row)
    db_session.flush()
    assert purge_ended_sessions(session=db_session) == 1
    assert sign_in.resolve_session(session=db_session, token=live) is not None
