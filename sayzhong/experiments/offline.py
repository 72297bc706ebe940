"""Local bucketing: SHA-256 of "<experiment key>:<unit id>" mapped onto the variants' weights.

Deterministic across processes, machines and Python versions (never Python's salted `hash()`), and
independent between experiments because the key is part of the hashed text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def bucket_point(key: str, unit_id: str) -> float:
    """A uniform point in [0, 1) for this unit in this experiment (first 60 bits of the digest)."""
    digest = hashlib.sha256(f"{key}:{unit_id}".encode()).digest()
    return (int.from_bytes(digest[:8], "big") >> 4) / float(1 << 60)


def pick(point: float, variants: Sequence[tuple[str, int]]) -> str:
    """The variant whose cumulative weight range contains `point`."""
    total = sum(weight for _, weight in variants)
    if total <= 0:
        raise ValueError("variant weights must add up to more than zero")
    edge = 0.0
    for name, weight in variants:
        edge += weight / total
        if point < edge:
            return name
    return variants[-1][0]


class HashBucketing:
    """Default variant source: the same unit always gets the same variant of the same experiment."""

    name = "local"

    def variant(self, *, key: str, unit_id: str, variants: Sequence[tuple[str, int]]) -> str | None:
        return pick(bucket_point(key, unit_id), variants)
