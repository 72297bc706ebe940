"""Where takes are scored: scoring threads of their own, optionally handing the engine to processes.

`run_scoring` runs a take's unit of work (entitlement, engine, storing) on this worker's scoring
threads (`SCORING_THREADS`, default 2). Before, it ran on asyncio's default thread pool — a handful of
threads (cores + 4) that the pages' event handlers also use for every database call — so sixteen
uploads at once took every thread and the other learners' pages waited behind them (issue 16). Now
uploads queue here in arrival order (none refused; the queue length is the `sayzhong_scoring_queue`
gauge) and at most SCORING_THREADS of them contend for the GIL at a time.

Scoring in worker processes, so a burst of uploads cannot hold the GIL against everyone else:

The load test (issue 16) showed scoring is CPU-bound Python: uploads scaled with the GIL, not the
cores, and other learners' page events slowed six-fold while takes were scored in threads. With
`SCORING_PROCESSES=N` each web worker scores in N processes of its own (started with `spawn`, never
forked from a threaded server; each loads the models once at start). Only the engine call moves: the
take is still stored, counted and timed by the request that received it, so what the learner sees and
what is stored are unchanged. Errors keep their code across the process boundary (errors.py).

Limits: spans and Azure fallback counters raised inside a scoring process belong to that process —
its counters reach /metrics in multiprocess mode (PROMETHEUS_MULTIPROC_DIR, as in production), its
spans start a trace of their own. The default (0) scores in the request's thread, as before.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from functools import lru_cache
from typing import Any, TypeVar

from sayzhong.pronunciation.profile import SpeakerProfile
from sayzhong.settings import Settings, get_settings

T = TypeVar("T")


@lru_cache(maxsize=4)
def scoring_threads(threads: int) -> ThreadPoolExecutor:
    """This worker's scoring threads (one executor per size, created on first use)."""
    return ThreadPoolExecutor(max_workers=threads, thread_name_prefix="scoring")


async def run_scoring(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """`fn(*args, **kwargs)` on the scoring threads, in the caller's context (trace, request id)."""
    from sayzhong.ops import metrics

    context = contextvars.copy_context()
    call = functools.partial(context.run, fn, *args, **kwargs)
    waiting = [True]
    lock = threading.Lock()

    def leave_queue() -> None:  # exactly once: when its turn comes, or when it is given up
        with lock:
            if waiting[0]:
                waiting[0] = False
                metrics.SCORING_QUEUE.dec()

    def counted() -> T:
        leave_queue()
        return call()

    metrics.SCORING_QUEUE.inc()
    try:
        # A caller cancelled while waiting drops its take from the queue (nothing stored, nothing
        # lost: the client never got an answer and retries); one already running is scored and stored.
        return await asyncio.get_running_loop().run_in_executor(
            scoring_threads(get_settings().scoring_threads), counted
        )
    finally:
        leave_queue()


def _start_worker() -> None:
    from sayzhong.ops.warmup import ensure_scoring_ready

    ensure_scoring_ready()


@lru_cache(maxsize=4)
def scoring_pool(processes: int) -> ProcessPoolExecutor:
    """One pool per web worker process (cached), started on first use."""
    return ProcessPoolExecutor(
        max_workers=processes, mp_context=multiprocessing.get_context("spawn"), initializer=_start_worker
    )


class PooledAssessor:
    """`assess_pronunciation` run in the scoring pool; the calling thread waits without the GIL."""

    def __init__(self, processes: int) -> None:
        self.processes = processes

    def __call__(
        self,
        *,
        audio: bytes,
        text: str,
        reading: str | None = None,
        profile: SpeakerProfile | None = None,
        engine: str = "auto",
    ) -> dict[str, Any]:
        from sayzhong.practice.service import assess_pronunciation

        future = scoring_pool(self.processes).submit(
            assess_pronunciation, audio=audio, text=text, reading=reading, profile=profile, engine=engine
        )
        result: dict[str, Any] = future.result()
        return result


def default_assessor(settings: Settings | None = None) -> Any:
    """The engine call `score_attempt` uses when the caller names none."""
    from sayzhong.practice.service import assess_pronunciation

    processes = (settings or get_settings()).scoring_processes
    if processes > 0:
        return PooledAssessor(processes)
    # Scored in this thread: the engine's models and imports are loaded once, by one thread
    # (two threads importing SciPy at once can fail; warmup.py).
    from sayzhong.ops.warmup import ensure_scoring_ready

    ensure_scoring_ready()
    return assess_pronunciation
