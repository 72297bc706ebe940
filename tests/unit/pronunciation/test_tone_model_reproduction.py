"""Retraining reproduces a tone model within tolerance, not byte for byte (tiny synthetic models).

`scripts/train_tone_model.py --check` applies `compare_models` to the full model; these tests show
what it accepts and what it refuses, on networks small enough to train in milliseconds.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pytest

from sayzhong.pronunciation.classifier import (
    KINDS,
    Thresholds,
    ToneModel,
    compare_models,
    train_network,
)
from sayzhong.pronunciation.features import FEATURE_NAMES

REPO = Path(__file__).resolve().parents[3]


def _data(seed: int = 7, n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, n)
    centres = rng.normal(0, 2.0, (4, len(FEATURE_NAMES)))
    return centres[y] + rng.normal(0, 1.0, (n, len(FEATURE_NAMES))), y


def _model(x: np.ndarray, y: np.ndarray, *, seed: int = 3) -> ToneModel:
    nets = {kind: [train_network(x, y, hidden=8, epochs=6, batch=64, seed=seed)] for kind in KINDS}
    return ToneModel(nets, {}, {"level/short": Thresholds(0.1, 0.3)})


def test_retraining_on_one_machine_gives_the_same_weights() -> None:
    x, y = _data()
    result = compare_models(_model(x, y), _model(x, y), {"level": x})
    assert result.max_weight_rdiff == 0.0 and result.top1_agreement == 1.0 and result.reproduced


def test_rounding_differences_like_another_cpus_are_reproduced_within_tolerance() -> None:
    """Another CPU sums in another order: inputs one unit in the last place apart stand in for it."""
    x, y = _data()
    other = np.nextafter(x, np.inf)
    result = compare_models(_model(x, y), _model(other, y), {kind: x for kind in KINDS})
    assert result.max_weight_rdiff > 0.0  # not byte-identical …
    assert result.reproduced, result.problems  # … but the same model
    assert result.top1_agreement >= 0.98 and result.n_benchmark == 3 * len(x)


def test_a_different_model_is_not_accepted() -> None:
    x, y = _data()
    committed = _model(x, y)
    reseeded = compare_models(committed, _model(x, y, seed=4), {"level": x})
    assert not reseeded.reproduced
    assert any("weights differ" in p for p in reseeded.problems)
    shuffled = compare_models(committed, _model(x, np.roll(y, 1), seed=3), {"level": x})
    assert any("top-1 tone agrees" in p for p in shuffled.problems), shuffled.problems
    recalibrated = ToneModel(committed.nets, {}, {"level/short": Thresholds(0.1, 0.4)})
    assert compare_models(committed, recalibrated, {"level": x}).problems == [
        "a threshold differs by 0.1000 (allowed 0.03)"
    ]


def test_the_feature_cache_key_changes_with_the_recordings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sayzhong.pronunciation.corpora import Utterance

    monkeypatch.syspath_prepend(str(REPO / "scripts"))
    train = importlib.import_module("train_tone_model")
    take = tmp_path / "ma1.mp3"
    take.write_bytes(b"first take")
    utts = [Utterance(corpus="syllable", path=take, text="ma1", speaker="s1", sex="f")]
    before = train.data_hash(utts)
    assert train.data_hash(utts) == before
    take.write_bytes(b"re-recorded")
    assert train.data_hash(utts) != before
    relabelled = [Utterance(corpus="syllable", path=take, text="ma2", speaker="s1", sex="f")]
    assert train.data_hash(relabelled) != train.data_hash(utts)


@pytest.mark.parametrize("kind", ["tempo", "pitch_up", "noise", "reverb", "opus"])
def test_every_training_copy_is_the_same_on_every_run(kind: str) -> None:
    """A fresh pipeline pass must rebuild the same records. Praat's time stretch drew unseeded
    random numbers, so its copies (and the model trained on them) differed from run to run."""
    from sayzhong.pronunciation.corpora import augment

    t = np.arange(16000) / 16000
    voice = (0.3 * np.sin(2 * np.pi * (140 + 30 * t) * t)).astype(np.float32)
    first = augment(voice, kind, np.random.default_rng(11))
    again = augment(voice, kind, np.random.default_rng(11))
    assert first.size > 0 and np.array_equal(first, again)
    other = augment(voice, kind, np.random.default_rng(12))
    assert not np.array_equal(first, other)  # the seed still varies the copy
