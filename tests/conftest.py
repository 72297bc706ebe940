"""Shared fixtures.

`settings` points DATA_DIR at a temporary folder and ENV at test. `db_session` gives a session on a
fresh schema: SQLite by default, or the PostgreSQL server named by SAYZHONG_TEST_DATABASE_URL (set by
scripts/test.sh for the PostgreSQL pass). Each test runs inside a transaction that is rolled back.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, event
from sqlmodel import Session, SQLModel, create_engine

from sayzhong import settings as settings_mod
from sayzhong.models import load_all_models


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[settings_mod.Settings]:
    monkeypatch.setenv("ENV", "test")
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    db_url = os.environ.get("SAYZHONG_TEST_DATABASE_URL")
    if db_url:
        monkeypatch.setenv("DATABASE_URL", db_url)
    else:
        monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'test.db'}")
    settings_mod.reset_settings_cache()
    yield settings_mod.get_settings()
    settings_mod.reset_settings_cache()


@pytest.fixture(scope="session")
def _schema_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    load_all_models()
    url = os.environ.get("SAYZHONG_TEST_DATABASE_URL")
    if url:
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
        engine = create_engine(url)
        SQLModel.metadata.drop_all(engine)
    else:
        path = tmp_path_factory.mktemp("db") / "schema.db"
        engine = create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False})
    SQLModel.metadata.create_all(engine)
    yield engine
    if url:
        SQLModel.metadata.drop_all(engine)
    engine.dispose()


@pytest.fixture
def db_session(_schema_engine: Engine) -> Iterator[Session]:
    """A session whose work is rolled back after the test (services may call flush, not commit)."""
    connection = _schema_engine.connect()
    transaction = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    if _schema_engine.dialect.name == "sqlite":
        # pysqlite needs explicit SAVEPOINT handling to nest transactions
        @event.listens_for(connection, "begin")
        def _do_begin(conn):  # type: ignore[no-untyped-def]
            conn.exec_driver_sql("BEGIN")

    try:
        yield session
    finally:
        session.close()
        if transaction.is_active:
            transaction.rollback()
        connection.close()
