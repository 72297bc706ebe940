"""The web worker's garbage collector: each pause is measured by generation, young collections run
less often, and what a worker keeps for life is frozen out of later collections (issue 16)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from prometheus_client import REGISTRY

from sayzhong.ops import gc_tuning
from sayzhong.ops.metrics import GC_PAUSE


@pytest.fixture
def restored_gc() -> Iterator[None]:
    threshold = gc.get_threshold()
    callbacks = list(gc.callbacks)
    yield
    gc.set_threshold(*threshold)
    gc.callbacks[:] = callbacks
    gc.unfreeze()


def _collections_recorded(generation: int) -> float:
    """How many collections of `generation` the pause histogram has counted (a count, never a
    duration: how long a pause lasted is for the benchmarks, not for tests)."""
    for family in GC_PAUSE.collect():
        for sample in family.samples:
            if sample.name.endswith("_count") and sample.labels == {"generation": str(generation)}:
                return sample.value
    return 0.0


def test_every_collection_is_measured_by_generation_once(restored_gc: None) -> None:
    gc_tuning.observe_gc()
    gc_tuning.observe_gc()  # a second call adds no second callback
    assert gc.callbacks.count(gc_tuning._on_gc) == 1
    gc_tuning.flush_gc_pauses()
    before = {g: _collections_recorded(g) for g in (0, 2)}
    gc.disable()  # only the collections made here
    try:
        gc.collect(0)
        gc.collect(2)
        gc.collect(2)
        assert _collections_recorded(2) == before[2]  # seen by the callback, counted only when flushed
        assert gc_tuning.flush_gc_pauses() == 3
    finally:
        gc.enable()
    assert _collections_recorded(0) == before[0] + 1
    assert _collections_recorded(2) == before[2] + 2


def test_young_collections_run_less_often_middle_ones_are_smaller_and_full_ones_no_more_often(
    restored_gc: None,
) -> None:
    gc.set_threshold(700, 10, 10)  # CPython's defaults
    gc_tuning.tune_gc()
    young, middle, old = gc.get_threshold()
    assert (young, middle, old) == (
        gc_tuning.YOUNG_THRESHOLD,
        gc_tuning.MIDDLE_THRESHOLD,
        gc_tuning.OLD_THRESHOLD,
    )
    assert young > 700 and middle < 10
    # A full collection comes after about as many young ones as with the defaults scaled to `young`.
    assert 0.8 * 10 * 10 <= middle * old <= 10 * 10


def test_the_start_up_heap_is_frozen_and_later_objects_are_still_collected(restored_gc: None) -> None:
    class Node:
        def __init__(self) -> None:
            self.me = self  # a cycle: only the collector frees it

    kept = Node()
    frozen = gc_tuning.freeze_startup_heap()
    assert frozen == gc.get_freeze_count() > 0
    assert REGISTRY.get_sample_value("sayzhong_gc_frozen_objects") == frozen
    assert not any(o is kept for o in gc.get_objects())  # the frozen are skipped by collections
    later = Node()
    assert any(o is later for o in gc.get_objects())
    del later
    assert gc.collect() >= 1  # the cycle made after the freeze is found and freed
