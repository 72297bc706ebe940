"""Database engine and sessions.

SQLite by default (a file under DATA_DIR), PostgreSQL when DATABASE_URL says so. Services take a
`Session` argument and never commit; the caller (a state handler, a route or a job) owns the unit of
work through `session_scope()`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import event
from sqlalchemy.engine import Engine
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
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def dispose_engines() -> None:
    """Close every pooled connection (tests switch databases; jobs fork)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def get_engine() -> Engine:
    settings = get_settings()
    if settings.effective_database_url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return _engine_for(settings.effective_database_url)


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
