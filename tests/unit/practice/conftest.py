"""Fixtures for practice tests: users as plain rows and a fake assessor (see practice_fakes)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from practice_fakes import FakeAssessor
from sqlmodel import Session

from sayzhong.accounts.models import User
from sayzhong.settings import Settings


@pytest.fixture(autouse=True)
def _test_settings(settings: Settings) -> Settings:
    return settings


@pytest.fixture
def make_user(db_session: Session) -> Callable[..., int]:
    counter = iter(range(1, 10_000))

    def _make(*, timezone: str = "UTC", goal_minutes: int = 10) -> int:
        n = next(counter)
        row = User(
            email=f"learner{n}@example.com",
            display_name=f"Learner {n}",
            timezone=timezone,
            daily_goal_minutes=goal_minutes,
        )
        db_session.add(row)
        db_session.flush()
        assert row.id is not None
        return row.id

    return _make


@pytest.fixture
def fake_assessor() -> FakeAssessor:
    return FakeAssessor()
