"""The API's token buckets kept in Redis, so every web worker process spends from one budget.

Same algorithm and parameters as the in-process `TokenBucketLimiter` (it subclasses it), but each
bucket is a Redis hash updated by one Lua script: read, refill by the time passed, spend, write —
atomic across processes and machines, and timed by the Redis server's clock so workers whose
clocks differ still agree. Buckets expire once they would be full again.

If Redis cannot be reached the limiter says so in the log and falls back to this process's own
buckets for a few seconds (each worker then limits on its own, as with one worker), rather than
failing the request: the rate limit is a guard, not the service.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from sayzhong.api.ratelimit import RateDecision, TokenBucketLimiter

log = logging.getLogger(__name__)

RETRY_REDIS_AFTER_S = 5.0
SOCKET_TIMEOUT_S = 0.5

_TAKE = """
local capacity = tonumber(ARGV[1])
local refill = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = capacity
  at = now
end
tokens = math.min(capacity, tokens + math.max(0, now - at) * refill)
local allowed = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) / refill * 1000) + 1000)
return {allowed, tostring(tokens)}
"""


def redis_client(url: str) -> Any:
    """A redis-py client with short timeouts (a slow Redis must not hold requests up)."""
    import redis

    return redis.Redis.from_url(
        url, socket_timeout=SOCKET_TIMEOUT_S, socket_connect_timeout=SOCKET_TIMEOUT_S, decode_responses=True
    )


class RedisTokenBucketLimiter(TokenBucketLimiter):
    def __init__(self, *, client: Any, name: str, capacity: float, refill_per_s: float) -> None:
        super().__init__(capacity=capacity, refill_per_s=refill_per_s)
        self._client = client
        self._prefix = f"sayzhong:ratelimit:{name}:"
        self._script = client.register_script(_TAKE)
        self._redis_down_until = 0.0

    @classmethod
    def like(cls, limiter: TokenBucketLimiter, *, client: Any, name: str) -> RedisTokenBucketLimiter:
        """The same budget as `limiter` (capacity and refill), shared through Redis under `name`."""
        return cls(client=client, name=name, capacity=limiter.capacity, refill_per_s=limiter.refill_per_s)

    def take(self, key: str, cost: float = 1.0) -> RateDecision:
        if time.monotonic() < self._redis_down_until:
            return super().take(key, cost)
        import redis

        try:
            allowed, tokens_text = self._script(
                keys=[self._prefix + key], args=[self.capacity, self.refill_per_s, cost]
            )
        except redis.RedisError as exc:
            log.warning(
                "Rate limits: Redis is unreachable (%s); this worker limits on its own for %.0f s.",
                exc,
                RETRY_REDIS_AFTER_S,
            )
            self._redis_down_until = time.monotonic() + RETRY_REDIS_AFTER_S
            return super().take(key, cost)
        tokens = float(tokens_text)
        if int(allowed):
            return RateDecision(True, 0, int(tokens))
        wait = (cost - tokens) / self.refill_per_s
        return RateDecision(False, max(1, math.ceil(wait)), 0)

    def reset(self) -> None:
        """Forget every bucket of this limiter (tests and operators)."""
        super().reset()
        for key in self._client.scan_iter(match=self._prefix + "*", count=500):
            self._client.delete(key)
