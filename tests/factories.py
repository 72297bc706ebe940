"""Test data built through the services, the way the app builds it (one place, not one per folder)."""

from __future__ import annotations

from sayzhong.accounts import service as accounts
from sayzhong.db import session_scope

PASSWORD = "learning tones daily"


def signed_in_learner(email: str = "mei@example.org", *, password: str = PASSWORD) -> str:
    """Sign up a learner in the configured database (committed) and return a live session token."""
    with session_scope() as session:
        accounts.sign_up(session=session, email=email, password=password, display_name="Mei")
    with session_scope() as session:
        result = accounts.authenticate(
            session=session, email=email, password=password, ip="127.0.0.1", user_agent="tests"
        )
    return result.unwrap()[1]
