"""Page-load guards answered from a worker's memory (issue 16), against a real redis-server on
loopback: which writes end a remembered answer, what the cached guards read, and a dead Redis."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, update
from sqlmodel import SQLModel, col, select

from sayzhong import guard_cache
from sayzhong.accounts.models import User, UserSession
from sayzhong.db import get_engine, session_scope
from sayzhong.legal import service as legal
from sayzhong.models import load_all_models
from sayzhong.settings import Settings, reset_settings_cache
from state.home import home_guard
from state.practice import plan_guard
from state.session import GuardedRead, _resolve_guard
from tests.factories import committed_attempt, signed_in_learner
from tests.support.redis_server import running_redis

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC).timestamp()


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    with running_redis(tmp_path / "redis") as url:
        yield url


@pytest.fixture
def cached(settings: Settings, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The guard cache on (REDIS_URL set); every load below is at one fixed instant (`Guard`)."""
    monkeypatch.setenv("REDIS_URL", redis_url)
    reset_settings_cache()
    load_all_models()
    SQLModel.metadata.create_all(get_engine())
    guard_cache.reset()
    yield
    guard_cache.reset()


class Guard:
    """One tab's page-load guard for `page` through the cache, counting database reads."""

    def __init__(self, token: str, page: str, gate: bool = True, guarded: GuardedRead[Any] | None = None):
        self.token, self.page, self.gate, self.guarded = token, page, gate, guarded
        self.reads = 0

    async def _read(self) -> guard_cache.Answer:
        self.reads += 1
        return await asyncio.to_thread(_resolve_guard, self.token, self.gate, self.guarded)

    def load(self) -> guard_cache.Answer:
        return asyncio.run(guard_cache.resolve(self.token, self.page, self._read, clock=lambda: NOW))

    def reads_for(self, loads: int) -> int:
        before = self.reads
        for _ in range(loads):
            self.load()
        return self.reads - before


def _user_id(email: str) -> int:
    with session_scope() as session:
        user_id = session.exec(select(User.id).where(col(User.email) == email)).one()
        assert user_id is not None
        return user_id


@pytest.mark.usefixtures("cached")
def test_a_remembered_answer_serves_until_the_learners_rows_change() -> None:
    token = signed_in_learner("lin@example.org")
    other = signed_in_learner("bo@example.org")
    lin = _user_id("lin@example.org")
    home = Guard(token, "gate")
    # The first load learns whose token it is; the second reads generations first, then remembers.
    assert home.reads_for(2) == 2
    assert home.reads_for(5) == 0

    # Someone else's write changes nothing for Lin.
    with session_scope() as session:
        bo = session.exec(select(User).where(col(User.email) == "bo@example.org")).one()
        bo.display_name = "Bo"
        session.add(bo)
    assert home.reads_for(3) == 0

    # A write rolled back changes nothing either.
    with pytest.raises(RuntimeError), session_scope() as session:
        me = session.get(User, lin)
        assert me is not None
        me.display_name = "Never"
        session.add(me)
        session.flush()
        raise RuntimeError("the handler failed")
    assert home.reads_for(2) == 0

    # Lin's own account changes: the next load reads the database, and shows the change.
    with session_scope() as session:
        me = session.get(User, lin)
        assert me is not None
        me.display_name = "Lin L."
        session.add(me)
    answer = home.load()
    assert home.reads == 3 and answer.user is not None and answer.user.display_name == "Lin L."
    assert home.reads_for(3) == 0

    # The guard's own once-a-minute slide of the session's last-seen time ends nothing (it only
    # moves the idle deadline later); any other change to the session does.
    with session_scope() as session:
        row = session.exec(select(UserSession).where(col(UserSession.user_id) == lin)).one()
        row.last_seen_at = datetime.fromtimestamp(NOW, UTC)
        session.add(row)
    assert home.reads_for(2) == 0
    with session_scope() as session:
        row = session.exec(select(UserSession).where(col(UserSession.user_id) == lin)).one()
        row.user_agent = "another browser"
        session.add(row)
    assert home.reads_for(2) == 1

    # A row of another guard table that names Lin (a take: the home page's figures).
    committed_attempt(lin)
    assert home.reads_for(3) == 1

    # A bulk statement on a guard table, whose rows the ORM never sees, ends everyone's answers.
    bo_home = Guard(other, "gate")
    bo_home.reads_for(2)
    with session_scope() as session:
        session.execute(update(UserSession).where(col(UserSession.user_id) == -1).values(ip="x"))
    assert home.reads_for(2) == 1 and bo_home.reads_for(2) == 1


@pytest.mark.usefixtures("cached")
def test_signing_out_ends_the_remembered_answer_at_once() -> None:
    from sayzhong.accounts import sign_in

    token = signed_in_learner("lin@example.org")
    home = Guard(token, "gate")
    home.reads_for(2)
    assert home.load().user is not None and home.reads == 2
    with session_scope() as session:
        sign_in.sign_out(session=session, token=token)
    assert home.load().user is None
    assert home.reads == 3


@pytest.mark.usefixtures("cached")
def test_the_cached_pages_read_only_guard_tables_and_each_names_its_learner() -> None:
    """Every table the cacheable guards read is in GUARD_TABLES (so a write to it ends the answers),
    recorded from the statements they send for a learner with a history, and each of those tables
    has a `user_id` column (or is the account itself) to say whose answer a flushed row ends."""
    token = signed_in_learner("lin@example.org")
    lin = _user_id("lin@example.org")
    for _ in range(6):  # enough takes, and an account old enough, for the NPS question's reads
        committed_attempt(lin)
    with session_scope() as session:
        session.execute(
            update(User).where(col(User.id) == lin).values(created_at=datetime(2026, 10, 1, tzinfo=UTC))
        )
        legal.record_sign_up_acceptance(session=session, user_id=lin)
    tables: set[str] = set()

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        tables.update(t.lower() for t in re.findall(r'\b(?:FROM|JOIN)\s+"?(\w+)', statement, re.I))

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", record)
    try:
        now = datetime.fromtimestamp(NOW, UTC)
        for gate, guarded in ((False, None), (True, None), (True, plan_guard()), (True, home_guard(now))):
            answer = _resolve_guard(token, gate, guarded)
            assert answer.user is not None and answer.redirect is None
            assert (answer.data is not None) == (guarded is not None)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert {"user_account", "user_session"} <= tables
    assert tables <= guard_cache.GUARD_TABLES, tables - guard_cache.GUARD_TABLES
    metadata = SQLModel.metadata.tables
    for name in guard_cache.GUARD_TABLES:
        assert name in metadata, f"{name}: no such table"
        assert name == guard_cache.ACCOUNT_TABLE or "user_id" in metadata[name].c, name


def test_without_redis_every_load_reads_the_database(settings: Settings) -> None:
    load_all_models()
    SQLModel.metadata.create_all(get_engine())
    assert not settings.redis_url and not guard_cache.enabled()
    token = signed_in_learner("lin@example.org")
    assert Guard(token, "gate").reads_for(4) == 4


def test_a_dead_redis_means_database_reads_never_an_error(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sayzhong.ops.metrics import GUARD_CACHE

    with running_redis(tmp_path / "redis") as url:
        monkeypatch.setenv("REDIS_URL", url)
        reset_settings_cache()
        load_all_models()
        SQLModel.metadata.create_all(get_engine())
        guard_cache.reset()
        token = signed_in_learner("lin@example.org")
        home = Guard(token, "gate")
        assert home.reads_for(3) == 2
    errors = GUARD_CACHE.labels("error")._value.get()
    # Redis is gone: every load reads the database; commits still succeed (the bump is counted).
    assert home.reads_for(3) == 3
    assert GUARD_CACHE.labels("error")._value.get() == errors + 3
    with session_scope() as session:
        me = session.exec(select(User)).first()
        assert me is not None
        me.display_name = "Still saved"
        session.add(me)
    with session_scope() as session:
        assert session.exec(select(User.display_name)).first() == "Still saved"
    guard_cache._cache_for.cache_clear()


@pytest.mark.usefixtures("cached")
def test_the_operators_reset_ends_every_remembered_answer(capsys: pytest.CaptureFixture[str]) -> None:
    """After a change made outside the app (psql), `python -m sayzhong guard-cache-reset`."""
    import argparse

    from sayzhong.ops.cli import guard_cache_reset

    guards = [Guard(signed_in_learner(f"{name}@example.org"), "gate") for name in ("lin", "bo")]
    assert [g.reads_for(3) for g in guards] == [2, 2]
    assert guard_cache_reset(argparse.Namespace()) == 0
    assert "stale now" in capsys.readouterr().out
    assert [g.reads_for(3) for g in guards] == [1, 1]


@pytest.mark.usefixtures("cached")
def test_a_flushed_redis_ends_every_answer_remembered_before(redis_url: str) -> None:
    """Redis lost its counters (flushed, or a new cache): no answer remembered before may match the
    counters that start again, even after the learner's counter comes back to the same value."""
    import redis

    token = signed_in_learner("lin@example.org")
    lin = _user_id("lin@example.org")
    home = Guard(token, "gate")
    assert home.reads_for(3) == 2
    client = redis.Redis.from_url(redis_url)
    before = client.get(guard_cache.GEN_ALL)
    client.flushall()
    guard_cache.generations().bump({lin})  # type: ignore[union-attr]
    assert client.get(guard_cache.GEN_ALL) not in (None, before)
    assert home.reads_for(1) == 1
    client.flushall()
    # Nothing bumped since: the first check finds no shared generation and starts one.
    assert home.reads_for(1) == 1 and client.get(guard_cache.GEN_ALL) is not None
    assert home.reads_for(3) == 1
