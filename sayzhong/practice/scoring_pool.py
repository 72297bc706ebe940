"""Scoring in worker processes, so a burst of uploads cannot hold the GIL against everyone else.

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

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache
from typing import Any

from sayzhong.pronunciation.profile import SpeakerProfile
from sayzhong.settings import Settings, get_settings


def _start_worker() -> None:
    from sayzhong.ops.warmup import load_scoring_models

    load_scoring_models()


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
    return PooledAssessor(processes) if processes > 0 else assess_pronunciation
