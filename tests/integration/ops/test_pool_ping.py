"""Pooled database connections are checked before use only after sitting idle (issue 16: a ping
on every checkout cost each page load a round trip). A connection that died while idle is replaced
unseen; one that died within the idle window fails its statement once, and the pool starts afresh
— on PostgreSQL (the server ends the backend) and SQLite (the connection is closed) alike."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError

from sayzhong import db
from sayzhong.settings import Settings


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    """A one-connection pool with the app's idle ping, on the test's database."""
    engine = create_engine(settings.effective_database_url, pool_size=1, max_overflow=0)
    db._ping_when_idle(engine)
    yield engine
    engine.dispose()


def _use(engine: Engine) -> Any:
    """One unit of work; returns the raw connection it ran on."""
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar() == 1
        return conn.connection.dbapi_connection


def _kill(settings: Settings, raw: Any) -> None:
    if isinstance(raw, psycopg.Connection):
        pid = raw.info.backend_pid
        dsn = settings.effective_database_url.split("?")[0].replace("+psycopg", "", 1)
        with psycopg.connect(dsn, autocommit=True) as admin:
            assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone() == (True,)
    else:
        raw.close()


def test_a_connection_that_died_idle_is_replaced_unseen(
    engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _use(engine)
    _kill(settings, first)
    monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 0.0)  # every checkout counts as idle
    assert _use(engine) is not first  # the ping failed: a new connection, no error


def test_a_connection_that_died_in_use_fails_once_then_the_pool_starts_afresh(
    engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "PING_AFTER_IDLE_S", float("inf"))  # never pinged
    first = _use(engine)
    assert _use(engine) is first  # reused without a ping
    _kill(settings, first)
    with pytest.raises(DBAPIError) as failed:
        _use(engine)
    assert failed.value.connection_invalidated
    assert _use(engine) is not first
