"""Load the scoring models when a web worker starts, not on its first learner's take.

The load test showed every worker's first takes waiting seconds while the tone networks, the
aligner and the word-segmentation dictionary loaded. Loading them in a thread at start-up moves that
cost before the worker serves traffic; the engine itself is unchanged (the loaders are cached).

It also imports what the engine imports on first use (its modules, SciPy's signal filters, Praat,
PyAV: about 500 modules). Two scoring threads taking a fresh worker's first takes used to import
them at the same time, and a package with circular imports (SciPy) imported by two threads at once
can fail half-initialised (CI once answered a fresh replica's first take with a 500 in exactly that
situation). `ensure_scoring_ready` loads everything once, in one thread, before any take is scored in
this process; the others wait for it. The imports themselves go through `import_whole`
(sayzhong/lazy_imports.py), the same guard every other lazy import of those packages uses, so the
warm-up's SciPy cannot race an experiments job's SciPy either.

While a start-up load runs, `/readyz` answers 503 ("warming"), so a load balancer or Kubernetes keeps
a fresh replica out of rotation until it can serve a learner quickly. CI once saw a fresh replica's
first sign-up wait more than five seconds behind the import of those ~500 modules.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from sayzhong.lazy_imports import import_whole

log = logging.getLogger(__name__)


ENGINE_IMPORTS = (
    "sayzhong.pronunciation.service",  # the engine's own modules (alignment, analysis, results)
    "scipy.signal",  # pitch.py: the high-pass filter before pitch tracking
    "scipy.fft",  # acoustic.py: the aligner's MFCCs
    "parselmouth",  # pitch.py: Praat's pitch tracker
    "parselmouth.praat",
    "av",  # audio.py: decoding WebM/Ogg/MP4 takes
)
"""Modules the engine imports inside functions, so imported on a worker's first take unless here."""

_ready_lock = threading.Lock()


class _StartupLoads:
    """The names of this process's start-up loads that are still running (a thread-safe set)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: set[str] = set()

    def begin(self, name: str) -> None:
        with self._lock:
            self._running.add(name)

    def end(self, name: str) -> None:
        with self._lock:
            self._running.discard(name)

    def running(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(sorted(self._running))


_startup_loads = _StartupLoads()


def loads_in_progress() -> tuple[str, ...]:
    """Start-up loads this process is still running; `/readyz` is 503 until this is empty. A process
    that never started one (a CLI, a test client without the Reflex lifespan) is ready at once."""
    return _startup_loads.running()


@contextmanager
def startup_load(name: str) -> Iterator[None]:
    """Count the body as a start-up load: readiness waits for it, failed or not (a load that fails
    is retried on first use, so it must not keep the replica out of rotation for ever).

    Use it first thing in a lifespan task. Reflex schedules those tasks before the server accepts
    connections, so the load is counted before any readiness probe can be answered."""
    _startup_loads.begin(name)
    try:
        yield
    finally:
        _startup_loads.end(name)


def load_scoring_models() -> float:
    """Load (and cache) what scoring needs; returns the seconds it took."""
    from sayzhong.pronunciation import aligner, classifier
    from sayzhong.pronunciation.text import expected_syllables

    start = time.perf_counter()
    import_whole(*ENGINE_IMPORTS)
    classifier.load_model()
    if aligner.MODEL_PATH.exists():
        aligner.load_aligner()
    expected_syllables("你好，我想学中文。")  # loads the segmentation dictionary
    return time.perf_counter() - start


def ensure_scoring_ready() -> float:
    """`load_scoring_models` once per process: the first caller loads, callers meanwhile wait for
    it, later calls return at once. Returns the seconds the load took. A load that failed is tried
    again by the next caller."""
    with _ready_lock:
        return _loaded_once()


@lru_cache(maxsize=1)
def _loaded_once() -> float:
    return load_scoring_models()


async def warm_up_scoring() -> None:
    """A Reflex lifespan task (registered in sayzhong/sayzhong.py)."""
    with startup_load("scoring"):
        try:
            seconds = await asyncio.to_thread(ensure_scoring_ready)
        except Exception:
            log.exception("warm-up: scoring models failed to load; they will load on the first take")
            return
        log.info("warm-up: scoring models loaded in %.1f s", seconds)
        # Everything a worker keeps for life is loaded now: keep it out of later collections.
        from sayzhong.ops.gc_tuning import freeze_startup_heap

        freeze_startup_heap()
