"""Fixtures for support tests: test settings, seeded help articles, a learner's stored take."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlmodel import Session

from sayzhong.practice import storage
from sayzhong.practice.models import Attempt
from sayzhong.settings import Settings
from sayzhong.support.help import seed_articles
from sayzhong.support.offline import SqliteFtsHelpSearch
from sayzhong.support.ports import HelpSearchIndex

WEBM = b"\x1a\x45\xdf\xa3" + b"\x00" * 200


@pytest.fixture(autouse=True)
def _test_settings(settings: Settings) -> Settings:
    return settings


@pytest.fixture
def articles(db_session: Session) -> int:
    return seed_articles(session=db_session)


@pytest.fixture
def search_index(db_session: Session) -> HelpSearchIndex:
    """The adapter for the database under test: FTS5 on SQLite, full-text search on PostgreSQL."""
    if db_session.get_bind().dialect.name == "postgresql":
        from sayzhong.integrations.postgres_search import PostgresHelpSearch

        return PostgresHelpSearch()
    return SqliteFtsHelpSearch()


@pytest.fixture
def make_take(db_session: Session) -> Callable[[int], int]:
    """`make_take(user_id)` stores a take and its attempt (as scoring would) and returns the attempt id."""

    def factory(user_id: int) -> int:
        stored = storage.save_take(user_id=user_id, data=WEBM)
        row = Attempt(
            user_id=user_id,
            item_id="drill.t1-1.jintian",
            mode="practice",
            text="今天",
            engine="offline",
            audio_path=stored.relative_path,
            audio_content_type="audio/webm",
            audio_bytes=len(WEBM),
        )
        db_session.add(row)
        db_session.flush()
        return row.id or 0

    return factory
