"""Database engine and sessions.

SQLite by default (a file under DATA_DIR), PostgreSQL when DATABASE_URL says so. Services take a
`Session` argument and never commit; the caller (a state handler, a route or a job) owns the unit of
work through `session_scope()`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import ORMExecuteState
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel import Session, create_engine

from sayzhong.settings import get_settings

MAX_DB_ID = 2**31 - 1
"""Largest primary key: ids are 32-bit INTEGER on PostgreSQL, so a larger one in a URL is simply absent."""


def utcnow() -> datetime:
    """Timezone-aware UTC now. All timestamps in SayZhong are aware UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were stored as UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def _engine_for(url: str) -> Engine:
    # Handlers run in worker threads: create each pool exactly once.
    with _engines_lock:
        if url not in _engines:
            _engines[url] = _create_engine(url)
        return _engines[url]


def _create_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            # Deleted rows are overwritten, not left readable in the file (account erasure, issue 11).
            cur.execute("PRAGMA secure_delete=ON")
            cur.close()

        return engine
    engine = create_engine(url, pool_size=10, max_overflow=10)
    _ping_when_idle(engine)
    return engine


PING_AFTER_IDLE_S = 10.0
"""A pooled connection unused this long is checked before use (`_ping_when_idle`)."""


def _ping_when_idle(engine: Engine) -> None:
    """`pool_pre_ping`, for connections that have sat idle: a round trip before every checkout cost
    each page load a tenth of its database time. A connection used in the last `PING_AFTER_IDLE_S`
    goes out unchecked; if the server went away in that window, the statement fails, SQLAlchemy sees
    the disconnect and discards every connection of the pool, and the next unit of work connects
    afresh (one failed request per worker in a failover, as for a statement in flight)."""

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_conn: object, record: ConnectionPoolEntry) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_conn: DBAPIConnection, record: ConnectionPoolEntry, _proxy: object) -> None:
        if time.monotonic() - record.info.get("idle_since", 0.0) < PING_AFTER_IDLE_S:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:  # the dialect's disconnect errors and anything else: not usable
            raise DisconnectionError("the pooled connection failed its ping") from exc
        if not alive:
            raise DisconnectionError("the pooled connection failed its ping")


def dispose_engines() -> None:
    """Close every pooled connection (tests switch databases; jobs fork)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _read_engines.clear()


def get_engine() -> Engine:
    settings = get_settings()
    if settings.effective_database_url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return _engine_for(settings.effective_database_url)


class WriteNeeded(Exception):
    """A `read_scope` unit of work reached a write; nothing was sent. Run it again in `session_scope`."""


_READ_ONLY = "sayzhong.read_only"
_read_engines: dict[str, Engine] = {}


def _refuse_writes(session: OrmSession) -> None:
    if session.info.get(_READ_ONLY):
        raise WriteNeeded("a read-only unit of work tried to write")


@event.listens_for(OrmSession, "before_flush")
def _no_flush_in_read_scope(session: OrmSession, _context: object, _instances: object) -> None:
    _refuse_writes(session)


@event.listens_for(OrmSession, "do_orm_execute")
def _no_write_statement_in_read_scope(state: ORMExecuteState) -> None:
    if not state.is_select:
        _refuse_writes(state.session)


@contextmanager
def read_scope() -> Iterator[Session]:
    """A unit of work that only reads, outside a transaction (autocommit: no BEGIN and no COMMIT
    round trip), for the hottest reads — every signed-in page load's guard. Each statement sees the
    data committed when it starts, as in PostgreSQL's default READ COMMITTED. A write (a flush or a
    statement other than SELECT) raises `WriteNeeded` before anything is sent: the caller runs the
    work again in `session_scope()` (which they can also do from the start when a write is likely)."""
    engine = get_engine()
    url = str(engine.url)
    bind = _read_engines.get(url)
    if bind is None:
        # Shares the engine's pool: the connection is autocommit while checked out, reset on return.
        bind = _read_engines.setdefault(url, engine.execution_options(isolation_level="AUTOCOMMIT"))
    with Session(bind, expire_on_commit=False) as session:
        session.info[_READ_ONLY] = True
        yield session


@contextmanager
def session_scope() -> Iterator[Session]:
    """One unit of work: commits on success, rolls back on error."""
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


# Committed writes end the page-load answers web workers remember (registers its session events).
from sayzhong import guard_cache as _guard_cache  # noqa: E402,F401
