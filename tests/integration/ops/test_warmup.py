"""Web workers load the scoring models at start-up (a Reflex lifespan task)."""

from __future__ import annotations


def test_the_worker_warm_up_loads_every_scoring_model() -> None:
    from sayzhong.ops.warmup import load_scoring_models
    from sayzhong.pronunciation import aligner, classifier

    load_scoring_models()
    assert classifier.load_model.cache_info().currsize >= 1
    assert aligner.load_aligner.cache_info().currsize >= 1
