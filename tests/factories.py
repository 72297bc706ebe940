"""Test data built through the services, the way the app builds it — one place, not one per folder.

`UserFactory`, `AttemptFactory` and `ProfileFactory` work inside a test's `db_session` (flushed,
rolled back with the test); the `make_user`, `make_attempt` and `make_profile` fixtures in
tests/conftest.py hand them out. `learner_with_api_token` and `signed_in_learner` commit through
`session_scope()` for tests that drive the HTTP app, which opens its own sessions.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from sayzhong.accounts import sign_in, users
from sayzhong.accounts.models import User
from sayzhong.accounts.schemas import UserInfo
from sayzhong.db import session_scope, utcnow
from sayzhong.practice import service as practice
from sayzhong.practice.schemas import AttemptView, SpeakerProfileSummary
from sayzhong.pronunciation.profile import SpeakerProfile
from tests.support.practice_fakes import WAV_BYTES, FakeAssessor, result, syllable

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
        analytics_consent: bool = True,
        two_factor: bool | None = None,
    ) -> UserInfo:
        n = next(self._numbers)
        user = users.sign_up(
            session=self._session,
            email=email or f"{self._email_prefix}{n}@example.com",
            password=password,
            display_name=name or f"Learner {n}",
        )
        if analytics_consent:
            # Like a learner who pressed "Accept all": funnel events pass the consent gate (issue 11).
            from sayzhong.privacy import consent

            consent.record_consent(
                session=self._session,
                visitor_id=None,
                user_id=user.id,
                analytics=True,
                marketing=False,
                source="banner",
            )
        if timezone is not None or goal_minutes is not None:
            user = users.update_profile(
                session=self._session, user_id=user.id, timezone=timezone, daily_goal_minutes=goal_minutes
            )
        if role != "learner" or two_factor:
            # change_role needs an acting admin; the first staff member of a test has none to ask.
            # Staff act only with two-factor sign-in on (issue 9: the services refuse them otherwise),
            # so staff get it unless a test asks for `two_factor=False`.
            row = self._session.get(User, user.id)
            assert row is not None
            row.role = role
            row.two_factor_enabled = (role != "learner") if two_factor is None else two_factor
            self._session.add(row)
            self._session.flush()
            user = users.get_user(session=self._session, user_id=user.id)
        return user


def with_two_factor(session: Session, user: UserInfo) -> UserInfo:
    """The staff member as they may act: two-factor sign-in on (issue 9; staff services refuse
    them otherwise). For staff made outside `UserFactory` (create_admin, change_role)."""
    row = session.get(User, user.id)
    assert row is not None
    row.two_factor_enabled = True
    session.add(row)
    session.flush()
    return users.get_user(session=session, user_id=user.id)


ALL_RIGHT = result([syllable("你", "ni3", 2, 2), syllable("好", "hao3", 3, 3)])
"""The engine's result for 你好 said with every tone right (the default of `AttemptFactory`)."""
PROFILE = SpeakerProfile(median_st=14.0, range_st=9.0, median_hz=224.5, n_recordings=4, n_syllables=16)
"""A plausible calibrated voice (the default of `ProfileFactory`)."""


class AttemptFactory:
    """Attempts scored and stored by `practice.score_attempt`, with the engine's answer given.

    The engine is the only stand-in: `engine_result` (an Azure-shaped result, see
    tests/support/practice_fakes.py) reaches the service through its `assessor=` keyword, so
    storage, statistics, XP, reviews and events run as they do for a real take.
    """

    def __init__(self, session: Session) -> None:
        self._session = session

    def __call__(
        self,
        user_id: int,
        engine_result: dict[str, Any] | None = None,
        *,
        item_id: str = "greetings.hello",
        mode: str = "practice",
        now: datetime | None = None,
        audio: bytes = WAV_BYTES,
        content_type: str = "audio/wav",
        idempotency_key: str | None = None,
        engine: str = "auto",
        assessor: Any = None,
    ) -> AttemptView:
        return practice.score_attempt(
            session=self._session,
            user_id=user_id,
            item_id=item_id,
            audio=audio,
            content_type=content_type,
            mode=mode,
            idempotency_key=idempotency_key,
            engine=engine,
            assessor=assessor or FakeAssessor(engine_result or ALL_RIGHT),
            now=now,
        )


class ProfileFactory:
    """Speaker profiles stored by `practice.save_speaker_profile` (calibration), with the profile given.

    The profile builder (which analyses real calibration takes) is the stand-in; the service stores
    it, marks the mic check passed and records the funnel event as it does after a real calibration.
    """

    def __init__(self, session: Session) -> None:
        self._session = session

    def __call__(
        self,
        user_id: int,
        profile: SpeakerProfile = PROFILE,
        *,
        samples: list[tuple[bytes, str]] | None = None,
    ) -> SpeakerProfileSummary:
        return practice.save_speaker_profile(
            session=self._session,
            user_id=user_id,
            samples=[(WAV_BYTES, "妈麻马骂")] if samples is None else samples,
            builder=lambda _samples: profile,
        )


def learner_with_api_token(
    email: str = "mei@example.org",
    *,
    scopes: str = "practice:read practice:write",
    password: str = PASSWORD,
    plus: bool = False,
) -> tuple[int, str]:
    """Sign up a learner (committed) and create an API access token: (user id, raw token).

    The API is the terminal client's door, a Plus feature (issue 12): `plus=True` gives the learner
    a 30-day Plus grant, as staff would, so API and client tests can call it."""
    from sayzhong.api import tokens

    with session_scope() as session:
        user = users.sign_up(session=session, email=email, password=password, display_name="Mei")
        _info, raw = tokens.create_token(session=session, user_id=user.id, name="tests", scopes=scopes)
        if plus:
            from sayzhong.billing.models import BillingGrant

            session.add(BillingGrant(user_id=user.id, ends_at=utcnow() + timedelta(days=30), reason="tests"))
    return user.id, raw


def signed_in_learner(email: str = "mei@example.org", *, password: str = PASSWORD) -> str:
    """Sign up a learner in the configured database (committed) and return a live session token."""
    with session_scope() as session:
        users.sign_up(session=session, email=email, password=password, display_name="Mei")
    return session_token(email, password=password)


def session_token(email: str, *, password: str = PASSWORD) -> str:
    """Sign an existing learner in (committed) and return the session token a browser would hold."""
    with session_scope() as session:
        result = sign_in.authenticate(
            session=session, email=email, password=password, ip="127.0.0.1", user_agent="tests"
        )
    return result.unwrap()[1]


def committed_attempt(
    user_id: int, engine_result: dict[str, Any] | None = None, **kwargs: Any
) -> AttemptView:
    """An attempt built by `AttemptFactory` and committed (for tests that drive a server)."""
    with session_scope() as session:
        return AttemptFactory(session)(user_id, engine_result, **kwargs)
