"""Test data built through the services, the way the app builds it — one place, not one per folder.

`UserFactory` works inside a test's `db_session` (flushed, rolled back with the test); the
`make_user` fixture in tests/conftest.py hands one out. `signed_in_learner` commits through
`session_scope()` for tests that drive the HTTP app, which opens its own sessions.
"""

from __future__ import annotations

import itertools

from sqlmodel import Session

from sayzhong.accounts import sign_in, users
from sayzhong.accounts.models import User
from sayzhong.accounts.schemas import UserInfo
from sayzhong.db import session_scope

GOOD_PASSWORD = "correct horse battery staple"
PASSWORD = "learning tones daily"


class UserFactory:
    """Sign up users with `users.sign_up` (unique e-mails unless given), then adjust them."""

    def __init__(self, session: Session, *, email_prefix: str = "learner") -> None:
        self._session = session
        self._email_prefix = email_prefix
        self._numbers = itertools.count(1)

    def __call__(
        self,
        email: str | None = None,
        *,
        password: str = GOOD_PASSWORD,
        role: str = "learner",
        name: str | None = None,
        timezone: str | None = None,
        goal_minutes: int | None = None,
    ) -> UserInfo:
        n = next(self._numbers)
        user = users.sign_up(
            session=self._session,
            email=email or f"{self._email_prefix}{n}@example.com",
            password=password,
            display_name=name or f"Learner {n}",
        )
        if timezone is not None or goal_minutes is not None:
            user = users.update_profile(
                session=self._session, user_id=user.id, timezone=timezone, daily_goal_minutes=goal_minutes
            )
        if role != "learner":
            # change_role needs an acting admin; the first staff member of a test has none to ask.
            row = self._session.get(User, user.id)
            assert row is not None
            row.role = role
            self._session.add(row)
            self._session.flush()
            user = users.get_user(session=self._session, user_id=user.id)
        return user


def learner_with_api_token(
    email: str = "mei@example.org", *, scopes: str = "practice:read practice:write", password: str = PASSWORD
) -> tuple[int, str]:
    """Sign up a learner (committed) and create an API access token: (user id, raw token)."""
    from sayzhong.api import tokens

    with session_scope() as session:
        user = users.sign_up(session=session, email=email, password=password, display_name="Mei")
        _info, raw = tokens.create_token(session=session, user_id=user.id, name="tests", scopes=scopes)
    return user.id, raw


def signed_in_learner(email: str = "mei@example.org", *, password: str = PASSWORD) -> str:
    """Sign up a learner in the configured database (committed) and return a live session token."""
    with session_scope() as session:
        users.sign_up(session=session, email=email, password=password, display_name="Mei")
    with session_scope() as session:
        result = sign_in.authenticate(
            session=session, email=email, password=password, ip="127.0.0.1", user_agent="tests"
        )
    return result.unwrap()[1]
