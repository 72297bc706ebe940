"""The garbage collector in a web worker: measured, and kept off the objects that live forever.

Every collection stops all threads; a full one walks every container object the process holds. A
worker holds the app's compiled pages and state classes, the curriculum and the scoring models —
hundreds of thousands of objects that live as long as the process — beside its tabs' UI states.
The load test saw full collections of ~170 ms land on page loads (issue 16). So, once a worker has
started and loaded what it keeps, `freeze_startup_heap` moves everything alive into the
collector's permanent generation (`gc.freeze`): later collections walk only what came after; and
`tune_gc` keeps each pause short (see its thresholds).
`observe_gc` times each pause; `record_gc_pauses` (a lifespan task) moves the times into
`sayzhong_gc_pause_seconds` by generation every few seconds. Not from the collector's callback
itself: a collection can start while the thread holds the metrics library's lock (one per process
in multiprocess mode), and observing from there would wait on that lock for ever.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections import deque
from typing import Any

log = logging.getLogger(__name__)

YOUNG_THRESHOLD = 7_000
"""Allocations between young collections (CPython's default: 700). A page load allocates a few
thousand objects; ten times the default collects once every few page loads, not several times in
each, and each young collection still walks only a few thousand objects."""
MIDDLE_THRESHOLD = 3
"""Young collections between collections of the middle generation (default 10). Each of those walks
what survived the young ones since the last: a third as many, a third of the pause (≈ 10 ms instead
of ≈ 40 ms under 500 learners' page loads)."""
OLD_THRESHOLD = 30
"""Middle collections between full ones (default 10): a full collection still comes after about as
many young ones as with CPython's defaults scaled by ten (90 against 100), so the memory held by
garbage that only a full collection frees stays where it was."""

RECORD_EVERY_S = 5.0

_started: dict[int, float] = {}
_pauses: deque[tuple[int, float]] = deque(maxlen=100_000)
"""(generation, seconds) of the collections not recorded yet; appending takes no lock."""


def _on_gc(phase: str, info: dict[str, Any]) -> None:
    generation = int(info.get("generation", 0))
    if phase == "start":
        _started[generation] = time.perf_counter()
        return
    began = _started.pop(generation, None)
    if began is not None:
        _pauses.append((generation, time.perf_counter() - began))


def flush_gc_pauses() -> int:
    """Record the pauses timed since the last call in the metric; returns how many."""
    from sayzhong.ops.metrics import GC_PAUSE

    recorded = 0
    while _pauses:
        generation, seconds = _pauses.popleft()
        GC_PAUSE.labels(generation=str(generation)).observe(seconds)
        recorded += 1
    return recorded


async def record_gc_pauses() -> None:
    """A Reflex lifespan task (sayzhong/sayzhong.py): the pauses into the metric, every few seconds."""
    while True:
        await asyncio.sleep(RECORD_EVERY_S)
        flush_gc_pauses()


def observe_gc() -> None:
    """Record every collection's pause (idempotent)."""
    if _on_gc not in gc.callbacks:
        gc.callbacks.append(_on_gc)


def tune_gc() -> None:
    """The web worker's collector settings: young collections less often, middle ones smaller."""
    gc.set_threshold(YOUNG_THRESHOLD, MIDDLE_THRESHOLD, OLD_THRESHOLD)


def freeze_startup_heap() -> int:
    """Collect once, then move every object alive now into the permanent generation, which later
    collections skip. Returns how many objects were frozen."""
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    from sayzhong.ops.metrics import GC_FROZEN

    GC_FROZEN.set(frozen)
    log.info("gc: %d start-up objects frozen out of later collections", frozen)
    return frozen
