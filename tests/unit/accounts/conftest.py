"""Fixtures for accounts tests: test settings for every test, and users built through the services."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlmodel import Session

from sayzhong.accounts import service
from sayzhong.accounts.schemas import UserInfo
from sayzhong.settings import Settings

GOOD_PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _test_settings(settings: Settings) -> Settings:
    return settings


@pytest.fixture
def make_user(db_session: Session) -> Callable[..., UserInfo]:
    counter = iter(range(1, 10_000))

    def _make(
        email: str | None = None,
        *,
        password: str = GOOD_PASSWORD,
        role: str = "learner",
        name: str = "Learner",
    ) -> UserInfo:
        user = service.sign_up(
            session=db_session,
            email=email or f"learner{next(counter)}@example.com",
            password=password,
            display_name=name,
        )
        if role != "learner":
            from sayzhong.accounts.models import User

            row = db_session.get(User, user.id)
            assert row is not None
            row.role = role
            db_session.add(row)
            db_session.flush()
            user = service.get_user(session=db_session, user_id=user.id)
        return user

    return _make
