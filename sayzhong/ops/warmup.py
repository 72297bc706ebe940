"""Load the scoring models when a web worker starts, not on its first learner's take.

The load test showed every worker's first takes waiting seconds while the tone networks, the
aligner and the word-segmentation dictionary loaded. Loading them in a thread at start-up moves that
cost before the worker serves traffic; the engine itself is unchanged (the loaders are cached).
"""

from __future__ import annotations

import asyncio
import logging
import time

log = logging.getLogger(__name__)


def load_scoring_models() -> float:
    """Load (and cache) what scoring needs; returns the seconds it took."""
    from sayzhong.pronunciation import aligner, classifier
    from sayzhong.pronunciation.text import expected_syllables

    start = time.perf_counter()
    classifier.load_model()
    if aligner.MODEL_PATH.exists():
        aligner.load_aligner()
    expected_syllables("你好，我想学中文。")  # loads the segmentation dictionary
    return time.perf_counter() - start


async def warm_up_scoring() -> None:
    """A Reflex lifespan task (registered in sayzhong/sayzhong.py)."""
    try:
        seconds = await asyncio.to_thread(load_scoring_models)
    except Exception:
        log.exception("warm-up: scoring models failed to load; they will load on the first take")
        return
    log.info("warm-up: scoring models loaded in %.1f s", seconds)
    # Everything a worker keeps for life is loaded now: keep it out of later collections.
    from sayzhong.ops.gc_tuning import freeze_startup_heap

    freeze_startup_heap()
