"""The per-token request budget (a token bucket with an injected clock)."""

from __future__ import annotations

from sayzhong.api.ratelimit import TokenBucketLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_a_burst_then_refuses_with_retry_after() -> None:
    clock = FakeClock()
    limiter = TokenBucketLimiter(capacity=3, refill_per_s=0.5, clock=clock)
    assert [limiter.take("a").allowed for _ in range(3)] == [True, True, True]
    refused = limiter.take("a")
    assert not refused.allowed and refused.retry_after_s == 2


def test_bucket_refills_over_time_up_to_its_capacity() -> None:
    clock = FakeClock()
    limiter = TokenBucketLimiter(capacity=2, refill_per_s=1, clock=clock)
    limiter.take("a")
    limiter.take("a")
    clock.now += 1
    assert limiter.take("a").allowed
    assert not limiter.take("a").allowed
    clock.now += 100
    assert [limiter.take("a").allowed for _ in range(3)] == [True, True, False]


def test_keys_have_separate_buckets() -> None:
    limiter = TokenBucketLimiter(capacity=1, refill_per_s=0.01, clock=FakeClock())
    assert limiter.take("a").allowed
    assert not limiter.take("a").allowed
    assert limiter.take("b").allowed


def test_costly_requests_spend_more() -> None:
    limiter = TokenBucketLimiter(capacity=10, refill_per_s=1, clock=FakeClock())
    assert limiter.take("a", cost=6).allowed
    refused = limiter.take("a", cost=6)
    assert not refused.allowed and refused.retry_after_s == 2


def test_memory_is_bounded() -> None:
    clock = FakeClock()
    limiter = TokenBucketLimiter(capacity=1, refill_per_s=1, clock=clock, max_keys=100)
    for i in range(1000):
        limiter.take(f"k{i}")
    assert len(limiter._buckets) <= 100
