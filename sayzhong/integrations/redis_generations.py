"""The guard cache's generation counters in Redis (sayzhong/guard_cache.py): one per learner and
one for everyone, read on the event loop before a remembered page-load guard is served, incremented
by whichever process committed a write. Bounded waits: a Redis that does not answer means database
reads; a bump that fails is logged and counted, never raised after a commit."""

from __future__ import annotations

import asyncio
import logging
import secrets
import threading
from typing import Any

from sayzhong.guard_cache import EVERYONE, GEN_ALL, gen_key
from sayzhong.integrations.redis_ratelimit import redis_client

log = logging.getLogger(__name__)

READ_TIMEOUT_S = 2.0
"""The generation check runs on the worker's event loop, so its timer also counts the loop's own
lag: at 0.25 s a saturated worker (500 tabs on one, bench run 11) timed out hundreds of checks whose
answers had arrived, and each timed-out connection was dropped and opened again."""


class RedisGenerations:
    """The generation counters in Redis: read on the event loop (redis.asyncio), bumped from the
    thread that committed (redis-py), both with short timeouts."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._async: Any = None
        self._async_loop: asyncio.AbstractEventLoop | None = None
        self._sync: Any = None
        self._lock = threading.Lock()

    def _client(self) -> Any:
        loop = asyncio.get_running_loop()
        if self._async is None or self._async_loop is not loop:
            import redis.asyncio

            self._async = redis.asyncio.Redis.from_url(
                self.url,
                socket_timeout=READ_TIMEOUT_S,
                socket_connect_timeout=READ_TIMEOUT_S,
                decode_responses=True,
            )
            self._async_loop = loop
        return self._async

    async def read(self, user_id: int) -> tuple[str | None, str | None] | None:
        """(everyone's generation, this learner's), or None when Redis did not answer — or had no
        shared generation: a new or flushed Redis, which forgot every learner's counter too. That
        one starts again from a random number, so no answer remembered before can match it."""
        try:
            client = self._client()
            everyone, mine = await client.mget(GEN_ALL, gen_key(user_id))
            if everyone is None:
                await client.set(GEN_ALL, secrets.randbelow(2**62), nx=True)
                return None
        except Exception as exc:  # any Redis or socket error: the guard reads the database instead
            log.warning("guard cache: Redis did not answer the generation check (%s)", type(exc).__name__)
            return None
        return everyone, mine

    def bump(self, user_ids: set[int]) -> None:
        """Increment the generations of `user_ids` (`EVERYONE`: the shared one). Never raises."""
        from sayzhong.ops.metrics import GUARD_CACHE_BUMPS_FAILED

        with self._lock:
            if self._sync is None:
                self._sync = redis_client(self.url)
            client = self._sync
        try:
            pipe = client.pipeline(transaction=False)
            # A new or flushed Redis: the shared generation starts from a random number (as in
            # `read`), never from 1 again, which an answer remembered before the flush could match.
            pipe.set(GEN_ALL, secrets.randbelow(2**62), nx=True)
            for user_id in sorted(user_ids):
                pipe.incr(GEN_ALL if user_id == EVERYONE else gen_key(user_id))
            pipe.execute()
        except Exception as exc:  # a commit has happened: the bump is best effort, and counted
            GUARD_CACHE_BUMPS_FAILED.inc()
            log.warning("guard cache: a generation bump did not reach Redis (%s)", type(exc).__name__)
