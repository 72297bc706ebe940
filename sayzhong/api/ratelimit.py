"""Per-token request budgets: an in-process token bucket.

Each key (an API token id, or a client address for unauthenticated failures) holds up to
`capacity` requests and regains `refill_per_s` per second. State lives in the worker's memory:
with several workers each enforces its own budget, which bounds abuse without a shared store.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    retry_after_s: int
    """Whole seconds until one request is available again (0 when allowed)."""
    remaining: int


class TokenBucketLimiter:
    def __init__(
        self,
        *,
        capacity: float,
        refill_per_s: float,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 10_000,
    ) -> None:
        if capacity < 1 or refill_per_s <= 0:
            raise ValueError("capacity must be >= 1 and refill_per_s > 0")
        self.capacity = float(capacity)
        self.refill_per_s = float(refill_per_s)
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str, cost: float = 1.0) -> RateDecision:
        """Spend `cost` from the key's bucket if it holds enough; otherwise say how long to wait."""
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.refill_per_s)
            if tokens >= cost:
                tokens -= cost
                self._store(key, tokens, now)
                return RateDecision(True, 0, int(tokens))
            self._store(key, tokens, now)
            wait = (cost - tokens) / self.refill_per_s
            return RateDecision(False, max(1, math.ceil(wait)), 0)

    def _store(self, key: str, tokens: float, now: float) -> None:
        if key not in self._buckets and len(self._buckets) >= self._max_keys:
            # Forget full buckets first: they carry no state a fresh bucket would not have.
            full = [
                k
                for k, (t, last) in self._buckets.items()
                if t + (now - last) * self.refill_per_s >= self.capacity
            ]
            for k in full or list(self._buckets)[: self._max_keys // 10]:
                del self._buckets[k]
        self._buckets[key] = (tokens, now)

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()
