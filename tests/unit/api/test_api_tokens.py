"""Personal access tokens: shown once, stored hashed, scoped, expiring and revocable."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from sayzhong.accounts.schemas import UserInfo
from sayzhong.api import tokens
from sayzhong.api.models import ApiToken
from sayzhong.audit import AuditEvent
from sayzhong.errors import AuthenticationError, NotFoundError, PermissionDeniedError, ValidationError

MakeUser = Callable[..., UserInfo]


def test_created_token_is_shown_once_and_only_its_hash_is_stored(
    db_session: Session, make_user: MakeUser
) -> None:
    user = make_user()
    info, raw = tokens.create_token(session=db_session, user_id=user.id, name="laptop", expires_in_days=30)
    assert raw.startswith("szp_") and len(raw) >= 40
    row = db_session.exec(select(ApiToken)).one()
    assert raw not in (row.token_hash, row.prefix, row.name)
    assert row.token_hash == tokens.hash_token(raw)
    assert raw.startswith(info.prefix) and len(info.prefix) < len(raw) // 2
    assert info.scopes == ("practice:read", "practice:write")
    assert info.status == "active"
    assert timedelta(days=29) < info.expires_at - info.created_at <= timedelta(days=30)
    audit = db_session.exec(select(AuditEvent).where(AuditEvent.action == "api_token.created")).one()
    assert audit.actor_id == user.id and raw not in str(audit.detail)


def test_authenticate_returns_the_user_and_scopes(db_session: Session, make_user: MakeUser) -> None:
    user = make_user()
    _info, raw = tokens.create_token(session=db_session, user_id=user.id, name="cli", scopes="practice:read")
    auth = tokens.authenticate_token(session=db_session, token=raw)
    assert auth.user.id == user.id
    assert auth.scopes == frozenset({"practice:read"})
    assert auth.token.last_used_at is not None


def test_each_token_is_unique(db_session: Session, make_user: MakeUser) -> None:
    user = make_user()
    raws = {tokens.create_token(session=db_session, user_id=user.id, name=f"t{i}")[1] for i in range(5)}
    assert len(raws) == 5


@pytest.mark.parametrize("raw", [None, "", "szp_short", "not-a-token", "szp_" + "x" * 40, "Bearer szp_abc"])
def test_missing_malformed_or_unknown_tokens_are_refused(
    db_session: Session, make_user: MakeUser, raw: str | None
) -> None:
    tokens.create_token(session=db_session, user_id=make_user().id, name="real")
    with pytest.raises(AuthenticationError) as caught:
        tokens.authenticate_token(session=db_session, token=raw)
    assert caught.value.code in {"token_missing", "token_invalid"}
    assert caught.value.http_status == 401


def test_expired_token_is_refused_with_its_own_code(db_session: Session, make_user: MakeUser) -> None:
    user = make_user()
    info, raw = tokens.create_token(session=db_session, user_id=user.id, name="old", expires_in_days=1)
    row = db_session.get(ApiToken, info.id)
    assert row is not None
    row.expires_at = row.created_at - timedelta(seconds=1)
    db_session.add(row)
    db_session.flush()
    with pytest.raises(tokens.TokenExpiredError) as caught:
        tokens.authenticate_token(session=db_session, token=raw)
    assert caught.value.code == "token_expired"
    assert tokens.list_tokens(session=db_session, user_id=user.id)[0].status == "expired"


def test_revoked_token_is_refused_and_revoking_twice_is_harmless(
    db_session: Session, make_user: MakeUser
) -> None:
    user = make_user()
    info, raw = tokens.create_token(session=db_session, user_id=user.id, name="lost laptop")
    revoked = tokens.revoke_token(session=db_session, user_id=user.id, token_id=info.id)
    assert revoked.status == "revoked"
    again = tokens.revoke_token(session=db_session, user_id=user.id, token_id=info.id)
    assert again.revoked_at == revoked.revoked_at
    with pytest.raises(tokens.TokenRevokedError):
        tokens.authenticate_token(session=db_session, token=raw)
    assert tokens.list_tokens(session=db_session, user_id=user.id) == []
    assert [t.id for t in tokens.list_tokens(session=db_session, user_id=user.id, include_revoked=True)] == [
        info.id
    ]


def test_a_user_cannot_revoke_someone_elses_token(db_session: Session, make_user: MakeUser) -> None:
    owner, other = make_user(), make_user()
    info, raw = tokens.create_token(session=db_session, user_id=owner.id, name="mine")
    with pytest.raises(NotFoundError):
        tokens.revoke_token(session=db_session, user_id=other.id, token_id=info.id)
    assert tokens.authenticate_token(session=db_session, token=raw).user.id == owner.id


def test_revoke_all_tokens_ends_every_active_token(db_session: Session, make_user: MakeUser) -> None:
    user = make_user()
    raws = [tokens.create_token(session=db_session, user_id=user.id, name=f"t{i}")[1] for i in range(3)]
    assert tokens.revoke_all_tokens(session=db_session, user_id=user.id) == 3
    for raw in raws:
        with pytest.raises(tokens.TokenRevokedError):
            tokens.authenticate_token(session=db_session, token=raw)


def test_scope_check_refuses_a_read_only_token_for_writing(db_session: Session, make_user: MakeUser) -> None:
    _info, raw = tokens.create_token(
        session=db_session, user_id=make_user().id, name="ro", scopes=["practice:read"]
    )
    auth = tokens.authenticate_token(session=db_session, token=raw)
    tokens.require_scope(auth, tokens.SCOPE_READ)
    with pytest.raises(PermissionDeniedError) as caught:
        tokens.require_scope(auth, tokens.SCOPE_WRITE)
    assert caught.value.code == "insufficient_scope" and caught.value.http_status == 403


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"name": "  "}, "token_name_missing"),
        ({"name": "x" * 61}, "token_name_too_long"),
        ({"scopes": "practice:read admin"}, "unknown_scope"),
        ({"scopes": []}, "scopes_missing"),
        ({"expires_in_days": 0}, "token_expiry_invalid"),
        ({"expires_in_days": 366}, "token_expiry_invalid"),
    ],
)
def test_invalid_token_requests_are_refused(
    db_session: Session, make_user: MakeUser, kwargs: dict[str, object], code: str
) -> None:
    args: dict[str, object] = {"name": "ok", **kwargs}
    with pytest.raises(ValidationError) as caught:
        tokens.create_token(session=db_session, user_id=make_user().id, **args)  # type: ignore[arg-type]
    assert caught.value.code == code


def test_number_of_active_tokens_is_capped(db_session: Session, make_user: MakeUser) -> None:
    user = make_user()
    for i in range(tokens.MAX_ACTIVE_TOKENS_PER_USER):
        tokens.create_token(session=db_session, user_id=user.id, name=f"t{i}")
    with pytest.raises(ValidationError) as caught:
        tokens.create_token(session=db_session, user_id=user.id, name="one too many")
    assert caught.value.code == "token_limit_reached"


def test_tokens_of_a_deleted_user_stop_working(db_session: Session, make_user: MakeUser) -> None:
    from sayzhong.accounts.models import User

    user = make_user()
    _info, raw = tokens.create_token(session=db_session, user_id=user.id, name="t")
    db_session.delete(db_session.get(User, user.id))
    db_session.flush()
    with pytest.raises(AuthenticationError):
        tokens.authenticate_token(session=db_session, token=raw)


def test_tokens_ended_long_ago_are_purged(db_session: Session, make_user: MakeUser) -> None:
    user = make_user()
    live, _ = tokens.create_token(session=db_session, user_id=user.id, name="live")
    old_expired, _ = tokens.create_token(session=db_session, user_id=user.id, name="old expired")
    old_revoked, _ = tokens.create_token(session=db_session, user_id=user.id, name="old revoked")
    fresh_revoked, _ = tokens.create_token(session=db_session, user_id=user.id, name="just revoked")
    long_ago = tokens.utcnow() - timedelta(days=31)
    for token_id, field in ((old_expired.id, "expires_at"), (old_revoked.id, "revoked_at")):
        row = db_session.get(ApiToken, token_id)
        assert row is not None
        setattr(row, field, long_ago)
        db_session.add(row)
    tokens.revoke_token(session=db_session, user_id=user.id, token_id=fresh_revoked.id)
    db_session.flush()
    assert tokens.purge_ended_tokens(session=db_session) == 2
    remaining = {t.id for t in tokens.list_tokens(session=db_session, user_id=user.id, include_revoked=True)}
    assert remaining == {live.id, fresh_revoked.id}
