"""Web workers load the scoring models at start-up (a Reflex lifespan task), and every scoring path
waits for that load instead of loading (and importing) the engine in two threads at once."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from collections.abc import Callable

import pytest

from sayzhong.settings import REPO_ROOT


def test_the_worker_warm_up_loads_every_scoring_model() -> None:
    from sayzhong.ops.warmup import load_scoring_models
    from sayzhong.pronunciation import aligner, classifier

    load_scoring_models()
    assert classifier.load_model.cache_info().currsize >= 1
    assert aligner.load_aligner.cache_info().currsize >= 1


# In a fresh interpreter (this one imported everything long ago), set up as a web worker.
_FIRST_TAKES = """
import sys
from sayzhong.http.app import create_http_app
from sayzhong.ops.warmup import ensure_scoring_ready
from sayzhong.practice.scoring_pool import default_assessor
from tests.support.pron_synth import synth_samples, synth_wav_bytes, to_webm

wav, webm = synth_wav_bytes([2, 3]), to_webm(synth_samples([2, 3]))
create_http_app()  # what a web worker has imported when it starts serving
ensure_scoring_ready()
before = set(sys.modules)
for take in (wav, webm):
    result = default_assessor()(audio=take, text="你好", reading="ni3 hao3")
    assert result["RecognitionStatus"] == "Success", result
print("\\n".join(sorted(set(sys.modules) - before)))
"""


def test_after_the_warm_up_a_take_imports_nothing_new(settings: object) -> None:
    """Whatever the engine imports inside functions is imported by the warm-up, in one thread —
    so two scoring threads never import SciPy (or anything else) at the same time."""
    done = subprocess.run(
        [sys.executable, "-c", _FIRST_TAKES], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    imported_by_a_take = done.stdout.split()
    assert imported_by_a_take == []


class _CountingLock:
    """The real lock, counting the callers that have reached it (a test can wait for them)."""

    def __init__(self, lock: threading.Lock) -> None:
        self.lock = lock
        self.callers = 0
        self._counting = threading.Lock()  # `+=` is not atomic between threads

    def __enter__(self) -> None:
        with self._counting:
            self.callers += 1
        self.lock.acquire()

    def __exit__(self, *_exc: object) -> None:
        self.lock.release()


def _until(reached: Callable[[], bool], threads: list[threading.Thread]) -> None:
    """Until `reached()`; fails as soon as every thread that could bring it about has ended, so a
    broken lock fails the test instead of hanging it. No time limit: nothing here is timed."""
    tick = threading.Event()  # never set: `wait` is only a pause between looks
    while not reached():
        assert any(t.is_alive() for t in threads), "the threads ended before the state the test waits for"
        tick.wait(0.005)


LOAD_RESULT = 3.7  # what a fake load reports; compared as a value, never timed


def test_concurrent_first_takes_wait_for_one_load(monkeypatch: pytest.MonkeyPatch) -> None:
    from sayzhong.ops import warmup

    loads: list[str] = []
    loading, finish = threading.Event(), threading.Event()

    def held_load() -> float:  # stays "loading" until the test lets it finish
        loads.append(threading.current_thread().name)
        loading.set()
        finish.wait()  # the test sets it, also when it fails (finally below)
        return LOAD_RESULT

    arrived = _CountingLock(warmup._ready_lock)
    monkeypatch.setattr(warmup, "load_scoring_models", held_load)
    monkeypatch.setattr(warmup, "_ready_lock", arrived)
    warmup._loaded_once.cache_clear()
    try:
        first = threading.Thread(target=warmup.ensure_scoring_ready, name="scoring-0")
        first.start()
        _until(loading.is_set, [first])
        # The first take is loading the engine; three more arrive meanwhile and must wait for it.
        others = [
            threading.Thread(target=warmup.ensure_scoring_ready, name=f"scoring-{i}") for i in (1, 2, 3)
        ]
        for thread in others:
            thread.start()
        # All three reach the lock while the first still loads (or, were the lock broken, start a
        # second load: the assertion below then fails instead of the test hanging).
        _until(lambda: arrived.callers >= 4 or len(loads) > 1, others)
        assert loads == ["scoring-0"]
        finish.set()
        for thread in (first, *others):
            thread.join()
        assert loads == ["scoring-0"]
        # Later callers get the load's result, without a second load.
        assert warmup.ensure_scoring_ready() == LOAD_RESULT
        assert loads == ["scoring-0"]
    finally:
        finish.set()
        warmup._loaded_once.cache_clear()


def test_a_failed_load_is_tried_again(monkeypatch: pytest.MonkeyPatch) -> None:
    from sayzhong.ops import warmup

    attempts: list[int] = []

    def flaky_load() -> float:
        attempts.append(1)
        if len(attempts) == 1:
            raise OSError("model file on a volume still mounting")
        return LOAD_RESULT

    monkeypatch.setattr(warmup, "load_scoring_models", flaky_load)
    warmup._loaded_once.cache_clear()
    try:
        with pytest.raises(OSError):
            warmup.ensure_scoring_ready()
        assert warmup.ensure_scoring_ready() == LOAD_RESULT
        assert len(attempts) == 2
    finally:
        warmup._loaded_once.cache_clear()


@pytest.mark.parametrize("fails", [False, True], ids=["loads", "fails"])
def test_the_warm_up_holds_readiness_until_it_ends(monkeypatch: pytest.MonkeyPatch, fails: bool) -> None:
    """While the worker's warm-up runs, it is listed as a start-up load (so /readyz is 503); when it
    ends it is not, even when it failed (the first take retries the load)."""
    from sayzhong.ops import gc_tuning, warmup

    seen_while_loading: list[tuple[str, ...]] = []
    frozen: list[bool] = []

    def load() -> float:
        seen_while_loading.append(warmup.loads_in_progress())
        if fails:
            raise OSError("model file on a volume still mounting")
        return LOAD_RESULT

    monkeypatch.setattr(warmup, "ensure_scoring_ready", load)
    monkeypatch.setattr(gc_tuning, "freeze_startup_heap", lambda: frozen.append(True))
    assert warmup.loads_in_progress() == ()
    asyncio.run(warmup.warm_up_scoring())
    assert seen_while_loading == [("scoring",)]
    assert warmup.loads_in_progress() == ()
    assert frozen == ([] if fails else [True])
