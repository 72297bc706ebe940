"""Read-only units of work (issue 16: page loads): `read_scope` reads outside a transaction — no
BEGIN or COMMIT round trip — and refuses every write before it is sent; the page guard runs there
and falls back to a transaction for the writes it sometimes makes (sliding a session's last-seen
time), on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import Session, SQLModel, col, select

from sayzhong.accounts.models import User, UserSession
from sayzhong.accounts.sessions import hash_token
from sayzhong.db import WriteNeeded, as_utc, get_engine, read_scope, session_scope
from sayzhong.models import load_all_models
from sayzhong.settings import Settings
from tests.factories import signed_in_learner


@pytest.fixture
def token(settings: Settings) -> str:
    load_all_models()
    SQLModel.metadata.create_all(get_engine())
    return signed_in_learner("lin@example.org")


def _name() -> str:
    with session_scope() as session:
        return session.exec(select(User.display_name)).one()


def _in_transaction(session: Session) -> bool:
    dbapi = session.connection().connection.dbapi_connection
    if hasattr(dbapi, "info"):  # psycopg
        import psycopg

        return dbapi.info.transaction_status != psycopg.pq.TransactionStatus.IDLE
    return bool(dbapi.in_transaction)  # sqlite3


def test_read_scope_reads_outside_a_transaction_and_refuses_every_write(token: str) -> None:
    with read_scope() as session:
        user = session.exec(select(User)).one()
        assert user.email == "lin@example.org"
        assert not _in_transaction(session)

    # A flush is refused before it is sent.
    with pytest.raises(WriteNeeded), read_scope() as session:
        user = session.exec(select(User)).one()
        user.display_name = "Changed"
        session.add(user)
        session.flush()
    # So is a write statement.
    with pytest.raises(WriteNeeded), read_scope() as session:
        session.execute(update(User).values(display_name="Changed"))
    assert _name() == "Mei"

    # The pooled connection goes back transactional: a unit of work that fails is rolled back.
    with pytest.raises(RuntimeError), session_scope() as session:
        assert _in_transaction(session) is False  # nothing begun yet
        session.execute(update(User).values(display_name="Changed"))
        assert _in_transaction(session)
        raise RuntimeError("the handler failed")
    assert _name() == "Mei"


def test_the_page_guard_reads_outside_a_transaction_and_writes_in_one(
    token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sayzhong.accounts import sessions
    from state.session import _resolve_cookie

    mine = col(UserSession.token_hash) == hash_token(token)

    def last_seen() -> datetime:
        with session_scope() as session:
            return as_utc(session.exec(select(UserSession).where(mine)).one().last_seen_at)

    # Every instant here is fixed, relative to when the session was last seen: no clock is read.
    seen = last_seen()
    monkeypatch.setattr(sessions, "utcnow", lambda: seen + sessions._LAST_SEEN_RESOLUTION / 2)
    user, _, _ = _resolve_cookie(token, True)
    assert user is not None and user.email == "lin@example.org"
    _resolve_cookie(token, True)
    assert last_seen() == seen  # fresh: nothing written

    # Ten minutes idle (at a fixed instant): the guard slides last-seen to it, in a transaction.
    with session_scope() as session:
        session.execute(update(UserSession).where(mine).values(last_seen_at=seen - timedelta(minutes=10)))
    later = seen + timedelta(minutes=1)
    monkeypatch.setattr(sessions, "utcnow", lambda: later)
    user, _, _ = _resolve_cookie(token, False)
    assert user is not None and user.email == "lin@example.org"
    assert last_seen() == later

    # A revoked session is no one, read without a write.
    with session_scope() as session:
        session.execute(update(UserSession).where(mine).values(revoked_at=seen))
    assert _resolve_cookie(token, True) == (None, None, None)
