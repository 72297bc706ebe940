"""Web workers load the scoring models at start-up (a Reflex lifespan task), and every scoring path
waits for that load instead of loading (and importing) the engine in two threads at once."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

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


def test_concurrent_first_takes_wait_for_one_load(monkeypatch: pytest.MonkeyPatch) -> None:
    from sayzhong.ops import warmup

    loads: list[str] = []

    def slow_load() -> float:
        loads.append(threading.current_thread().name)
        time.sleep(0.2)  # long enough for the other threads to arrive while it loads
        return 0.2

    monkeypatch.setattr(warmup, "load_scoring_models", slow_load)
    warmup._loaded_once.cache_clear()
    try:
        threads = [
            threading.Thread(target=warmup.ensure_scoring_ready, name=f"scoring-{i}") for i in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(loads) == 1
        assert warmup.ensure_scoring_ready() == 0.2  # later callers: the load's result, no second load
        assert len(loads) == 1
    finally:
        warmup._loaded_once.cache_clear()


def test_a_failed_load_is_tried_again(monkeypatch: pytest.MonkeyPatch) -> None:
    from sayzhong.ops import warmup

    attempts: list[int] = []

    def flaky_load() -> float:
        attempts.append(1)
        if len(attempts) == 1:
            raise OSError("model file on a volume still mounting")
        return 1.0

    monkeypatch.setattr(warmup, "load_scoring_models", flaky_load)
    warmup._loaded_once.cache_clear()
    try:
        with pytest.raises(OSError):
            warmup.ensure_scoring_ready()
        assert warmup.ensure_scoring_ready() == 1.0
        assert len(attempts) == 2
    finally:
        warmup._loaded_once.cache_clear()
