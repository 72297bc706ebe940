"""Fixtures for API tests: test settings and learners built through the accounts service."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlmodel import Session

from sayzhong.accounts import service as accounts
from sayzhong.accounts.schemas import UserInfo
from sayzhong.settings import Settings


@pytest.fixture(autouse=True)
def _test_settings(settings: Settings) -> Settings:
    return settings


@pytest.fixture
def make_user(db_session: Session) -> Callable[..., UserInfo]:
    counter = iter(range(1, 10_000))

    def _make(email: str | None = None) -> UserInfo:
        return accounts.sign_up(
            session=db_session,
            email=email or f"api-learner{next(counter)}@example.com",
            password="correct horse battery staple",
            display_name="Learner",
        )

    return _make
