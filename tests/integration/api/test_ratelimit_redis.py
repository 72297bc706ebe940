"""API rate limits hold across worker processes: Redis-backed buckets (a real redis-server on
loopback) shared by two API server processes, and the in-process buckets they replace."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from liveserver import LiveServer
from pydantic import ValidationError as SettingsError
from sqlmodel import SQLModel

from sayzhong import wiring
from sayzhong.api.ratelimit import TokenBucketLimiter
from sayzhong.db import get_engine
from sayzhong.integrations.redis_ratelimit import RedisTokenBucketLimiter, redis_client
from sayzhong.models import load_all_models
from sayzhong.settings import Settings
from tests.support.redis_server import running_redis


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    with running_redis(tmp_path / "redis") as url:
        yield url


def test_redis_bucket_allows_a_burst_then_refuses_with_retry_after(redis_url: str) -> None:
    limiter = RedisTokenBucketLimiter(client=redis_client(redis_url), name="t", capacity=3, refill_per_s=0.01)
    assert [limiter.take("a").allowed for _ in range(3)] == [True, True, True]
    refused = limiter.take("a")
    assert not refused.allowed and refused.retry_after_s >= 99  # one token takes 100 s to come back
    assert limiter.take("b").allowed  # keys have their own buckets
    limiter.reset()
    assert limiter.take("a").allowed


def test_two_limiter_instances_share_one_budget_through_redis(redis_url: str) -> None:
    one = RedisTokenBucketLimiter(client=redis_client(redis_url), name="t", capacity=4, refill_per_s=0.001)
    two = RedisTokenBucketLimiter(client=redis_client(redis_url), name="t", capacity=4, refill_per_s=0.001)
    verdicts = [(one if i % 2 else two).take("k").allowed for i in range(8)]
    assert verdicts.count(True) == 4


def test_a_dead_redis_falls_back_to_this_process_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with running_redis(tmp_path / "redis") as url:
        limiter = RedisTokenBucketLimiter(client=redis_client(url), name="t", capacity=2, refill_per_s=0.001)
        assert limiter.take("k").allowed
    # The server is gone: requests are still limited (per process), never an exception.
    with caplog.at_level(logging.WARNING):
        verdicts = [limiter.take("k").allowed for _ in range(3)]
    assert verdicts == [True, True, False]
    assert "Redis is unreachable" in caplog.text


def test_wiring_chooses_redis_only_when_redis_url_is_set(redis_url: str) -> None:
    shared = wiring.get_api_limits(Settings(env="test", redis_url=redis_url))
    assert isinstance(shared.per_token, RedisTokenBucketLimiter)
    assert isinstance(shared.auth_failures, RedisTokenBucketLimiter)
    local = wiring.get_api_limits(Settings(env="test", redis_url=""))
    assert type(local.per_token) is TokenBucketLimiter
    # Same budgets either way.
    assert (shared.per_token.capacity, shared.per_token.refill_per_s) == (
        local.per_token.capacity,
        local.per_token.refill_per_s,
    )


def test_several_workers_without_redis_are_refused_in_production_and_warned_about_elsewhere(
    caplog: pytest.LogCaptureFixture,
) -> None:
    prod = {"env": "prod", "secret_key": "x" * 40, "smtp_host": "smtp.example.org"}
    with pytest.raises(SettingsError, match=r"GRANIAN_WORKERS=4 .* REDIS_URL is not set"):
        Settings(**prod, granian_workers=4)
    Settings(**prod, granian_workers=4, redis_url="redis://cache:6379/0")  # accepted
    Settings(**prod, granian_workers=1)  # one worker: the in-process limiter is right
    with caplog.at_level(logging.WARNING):
        wiring.get_api_limits(Settings(env="dev", granian_workers=3))
    assert "GRANIAN_WORKERS=3 without REDIS_URL" in caplog.text


def _failed_auth_statuses(servers: list[LiveServer], n: int) -> list[int]:
    """`n` requests with a wrong token, alternating between the servers (all from 127.0.0.1)."""
    statuses = []
    for i in range(n):
        response = requests.get(
            f"{servers[i % len(servers)].url}/api/v1/me",
            headers={"Authorization": "Bearer szp_not-a-real-token"},
            timeout=10,
        )
        statuses.append(response.status_code)
    return statuses


@pytest.mark.slow
@pytest.mark.parametrize("shared", [True, False], ids=["redis", "in-process"])
def test_the_limit_is_global_across_two_api_worker_processes(
    settings: Settings, tmp_path: Path, redis_url: str, shared: bool
) -> None:
    load_all_models()
    SQLModel.metadata.create_all(get_engine())
    env = {
        "ENV": "test",
        "DATABASE_URL": settings.effective_database_url,
        "DATA_DIR": str(settings.data_dir),
        "LIVESERVER_LIMITS": "wiring",
        "REDIS_URL": redis_url if shared else "",
    }
    servers = [LiveServer(env=env, log_path=tmp_path / f"worker{i}.log") for i in range(2)]
    capacity = wiring.get_api_limits(Settings(env="test")).auth_failures
    try:
        for server in servers:
            server.start()
        statuses = _failed_auth_statuses(servers, int(2 * capacity.capacity))
    finally:
        for server in servers:
            server.stop()
    assert set(statuses) <= {401, 429}
    answered = statuses.count(401)
    if shared:
        # One budget for both processes: at least its capacity, and fewer than two budgets' worth
        # (what refills while the requests run stays far below a second capacity).
        assert capacity.capacity <= answered < 2 * capacity.capacity
        assert statuses[-1] == 429
    else:
        # The control: each process has its own budget, so together they allow twice as much.
        assert answered == 2 * capacity.capacity
