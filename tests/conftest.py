"""Shared fixtures.

`settings` points DATA_DIR at a temporary folder and ENV at test. `db_session` gives a session on a
fresh schema: SQLite by default, or the PostgreSQL server named by SAYZHONG_TEST_DATABASE_URL (set by
scripts/test.sh for the PostgreSQL pass). Each test runs inside a transaction that is rolled back.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, SQLModel, create_engine

from sayzhong import settings as settings_mod
from sayzhong.db import dispose_engines
from sayzhong.models import load_all_models
from tests.factories import AttemptFactory, ProfileFactory, UserFactory


@pytest.fixture
def settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[settings_mod.Settings]:
    """Test settings on an empty database of their own: a SQLite file, or a fresh PostgreSQL schema.

    A unit test not marked `db` gets a database that cannot be opened, so "unit = pure" is checked.
    """
    monkeypatch.setenv("ENV", "test")
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    db_url = os.environ.get("SAYZHONG_TEST_DATABASE_URL")
    schema = None
    if _is_pure_unit_test(request.node):
        monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'no-database-in-unit-tests' / 'x.db'}")
    elif db_url:
        schema = f"t_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(db_url, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        sep = "&" if "?" in db_url else "?"
        monkeypatch.setenv("DATABASE_URL", f"{db_url}{sep}options=-csearch_path%3D{schema}")
    else:
        monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'test.db'}")
    settings_mod.reset_settings_cache()
    yield settings_mod.get_settings()
    settings_mod.reset_settings_cache()
    dispose_engines()
    if db_url and schema:
        with psycopg.connect(db_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _is_pure_unit_test(item: pytest.Item) -> bool:
    return "/tests/unit/" in str(getattr(item, "path", "")) and item.get_closest_marker("db") is None


@pytest.fixture(scope="session")
def _pg_engine() -> Iterator[Engine | None]:
    url = os.environ.get("SAYZHONG_TEST_DATABASE_URL")
    if not url:
        yield None
        return
    load_all_models()
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    SQLModel.metadata.drop_all(engine)
    SQLModel.metadata.create_all(engine)
    yield engine
    SQLModel.metadata.drop_all(engine)
    engine.dispose()


@pytest.fixture(scope="session")
def _sqlite_schema(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty SQLite database with the whole schema, made once a run: each test's database starts
    as a copy of this file (creating the 89 tables took most of a database test's time)."""
    load_all_models()
    path = tmp_path_factory.mktemp("schema") / "empty.db"
    engine = create_engine(f"sqlite:///{path}")
    SQLModel.metadata.create_all(engine)
    engine.dispose()
    return path


@pytest.fixture
def db_session(
    _pg_engine: Engine | None, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Session]:
    """A session on a clean schema. Services flush, never commit; the test's work is discarded.

    SQLite: a fresh database file per test (a copy of the empty schema). PostgreSQL: one schema per
    run, each test inside a transaction that is rolled back (session.commit() only releases a savepoint).
    """
    load_all_models()
    if _pg_engine is None:
        database = tmp_path / "unit.db"
        shutil.copyfile(request.getfixturevalue("_sqlite_schema"), database)
        engine = create_engine(f"sqlite:///{database}", connect_args={"check_same_thread": False})
        with Session(engine, expire_on_commit=False) as session:
            yield session
        engine.dispose()
        return
    connection = _pg_engine.connect()
    transaction = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()
        transaction.rollback()
        connection.close()


@pytest.fixture
def make_user(db_session: Session) -> UserFactory:
    """Users built through the accounts service in this test's session (see tests/factories.py)."""
    return UserFactory(db_session)


@pytest.fixture
def make_attempt(db_session: Session) -> AttemptFactory:
    """Attempts scored through the practice service in this test's session (see tests/factories.py)."""
    return AttemptFactory(db_session)


@pytest.fixture
def make_profile(db_session: Session) -> ProfileFactory:
    """Speaker profiles stored through the practice service in this test's session."""
    return ProfileFactory(db_session)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that touch the database are marked `db` so the PostgreSQL pass can select them."""
    for item in items:
        names = getattr(item, "fixturenames", ())
        in_integration = "/tests/integration/" in str(getattr(item, "path", ""))
        if "db_session" in names or (in_integration and "settings" in names):
            item.add_marker(pytest.mark.db)
