"""The worker's memory of page-load guards (sayzhong/guard_cache.py): what it keeps, for how long,
and what ends an answer, at instants given to it (the cache never reads a clock itself)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sayzhong.accounts.schemas import UserInfo
from sayzhong.guard_cache import Answer, GuardCache

AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC).timestamp()
GENS = ("3", "7")
TTL_S = 120  # the cache period every test below configures (GUARD_CACHE_SECONDS)


def _user(user_id: int = 5) -> UserInfo:
    return UserInfo(
        id=user_id,
        email="mei@example.org",
        display_name="Mei",
        timezone="Asia/Shanghai",
        daily_goal_minutes=10,
        role="learner",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        has_password=True,
        email_verified=True,
        two_factor_enabled=False,
    )


def _answer(user: UserInfo | None = None, ends_in_s: float = 3600) -> Answer:
    ends = datetime.fromtimestamp(AT + ends_in_s, UTC)
    return Answer(user or _user(), None, ("figures",), ends)


def test_an_answer_is_kept_only_once_the_token_is_known_to_belong_to_its_account() -> None:
    cache = GuardCache(ttl_s=TTL_S)
    # First load: whose token this is was unknown, so no generations were read before the read.
    cache.store("tok", "home", _answer(), None, AT)
    assert cache.user_of("tok") == 5 and len(cache) == 0
    cache.store("tok", "home", _answer(), GENS, AT)
    assert cache.lookup("tok", "home", GENS, AT + 1) == _answer()
    assert cache.lookup("tok", "plan", GENS, AT + 1) is None  # another page, another answer


def test_an_answer_ends_with_a_new_generation_the_cache_period_or_the_session() -> None:
    cache = GuardCache(ttl_s=TTL_S)
    cache.store("tok", "home", _answer(), None, AT)
    cache.store("tok", "home", _answer(), GENS, AT)
    assert cache.lookup("tok", "home", ("3", "8"), AT + 1) is None  # the learner's rows changed
    assert cache.lookup("tok", "home", GENS, AT + 1) is None  # and it is gone for good

    cache.store("tok", "home", _answer(), GENS, AT)
    assert cache.lookup("tok", "home", GENS, AT + TTL_S - 0.1) is not None  # instants given, not waited for
    assert cache.lookup("tok", "home", GENS, AT + TTL_S) is None  # the period has ended

    cache.store("tok", "home", _answer(ends_in_s=30), GENS, AT)
    assert cache.lookup("tok", "home", GENS, AT + 29) is not None
    assert cache.lookup("tok", "home", GENS, AT + 30) is None  # the session's own end comes first

    cache.store("tok", "home", _answer(ends_in_s=-1), GENS, AT)
    assert len(cache) == 0  # a session already over is never kept


def test_a_token_answered_by_another_account_or_by_no_one_is_not_kept() -> None:
    cache = GuardCache(ttl_s=TTL_S)
    cache.store("tok", "home", _answer(), None, AT)
    # Generations were read for account 5, but the database answered for account 6.
    cache.store("tok", "home", _answer(_user(6)), GENS, AT)
    assert len(cache) == 0 and cache.user_of("tok") == 6
    cache.store("tok", "home", _answer(_user(6)), GENS, AT)
    assert len(cache) == 1
    # The session ended (signed out, revoked): the token and its answers are forgotten.
    cache.store("tok", "home", Answer(None, None, None, None), GENS, AT)
    assert len(cache) == 0 and cache.user_of("tok") is None


@pytest.mark.parametrize("limit", [1, 3])
def test_the_least_recently_used_answers_leave_first(limit: int) -> None:
    cache = GuardCache(ttl_s=TTL_S, max_entries=limit)
    for i in range(limit + 2):
        cache.store(f"tok{i}", "home", _answer(), None, AT)
        cache.store(f"tok{i}", "home", _answer(), GENS, AT)
    assert len(cache) == limit
    assert cache.lookup("tok0", "home", GENS, AT) is None
    assert cache.lookup(f"tok{limit + 1}", "home", GENS, AT) is not None
    assert cache.user_of("tok0") is None


def test_the_idle_timeout_must_outlast_two_cache_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    from sayzhong.settings import Settings

    monkeypatch.setenv("SESSION_IDLE_TIMEOUT_MINUTES", "3")
    monkeypatch.setenv("GUARD_CACHE_SECONDS", str(TTL_S))
    with pytest.raises(ValidationError, match="at most half of SESSION_IDLE_TIMEOUT_MINUTES"):
        Settings()
    monkeypatch.setenv("GUARD_CACHE_SECONDS", "90")
    assert Settings().guard_cache_seconds == 90
