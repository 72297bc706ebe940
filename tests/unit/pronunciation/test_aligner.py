"""Forced aligner on formant-synthesised vowels (zero-initial syllables a, yi, wu) and pure logic.

The synthetic speech is crude (an impulse train through three formant resonators), but it is
speech-like enough for MFCC models: /a/, /i/ and /u/ differ in F1/F2 as in a real voice.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import lfilter

from sayzhong.pronunciation import acoustic
from sayzhong.pronunciation.aligner import (
    PRESENCE_THRESHOLD,
    Alignment,
    align_text,
    load_aligner,
    raw_align,
    structured_posteriors,
    syllable_unit_lists,
)
from sayzhong.pronunciation.phones import final_units, split_pinyin, syllable_units
from sayzhong.pronunciation.text import expected_syllables

SR = 16_000
FORMANTS = {"a": (800, 1250, 2600), "i": (300, 2300, 3000), "u": (320, 750, 2400)}


def vowel(v: str, dur: float, f0: float = 120.0) -> np.ndarray:
    n = int(dur * SR)
    t = np.arange(n) / SR
    phase = np.cumsum(f0 * (1 + 0.05 * np.sin(2 * np.pi * 2 * t))) / SR
    y = lfilter([1.0], [1.0, -0.95], np.diff(np.floor(phase), prepend=0.0))
    for freq, bw in zip(FORMANTS[v], (80, 100, 150), strict=True):
        r = np.exp(-np.pi * bw / SR)
        y = lfilter([1 - r], [1, -2 * r * np.cos(2 * np.pi * freq / SR), r * r], y)
    env = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.03)
    return np.asarray(0.3 * y * env / np.max(np.abs(y)))


def silence(dur: float, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 1e-4, int(dur * SR))


def take(*parts: np.ndarray) -> np.ndarray:
    return np.concatenate(parts).astype(np.float32)


def align(samples: np.ndarray, text: str) -> Alignment:
    return align_text(samples, SR, expected_syllables(text))


AIU = take(silence(0.3), vowel("a", 0.3), silence(0.05), vowel("i", 0.3), silence(0.05), vowel("u", 0.3))


def test_spans_are_ordered_non_overlapping_and_inside_the_audio() -> None:
    samples = take(AIU, silence(0.3))
    al = align(samples, "a1 yi1 wu1")
    duration = samples.size / SR
    assert len(al.syllables) == 3
    prev_end = 0.0
    for s in al.syllables:
        assert prev_end - 1e-9 <= s.start_s <= s.final_start_s < s.end_s <= duration + 0.02
        prev_end = s.end_s
    # Each syllable covers the middle of its vowel.
    for s, centre in zip(al.syllables, (0.45, 0.8, 1.15), strict=True):
        assert s.start_s <= centre <= s.end_s


def test_correct_vowels_are_said() -> None:
    al = align(take(AIU, silence(0.3)), "a1 yi1 wu1")
    assert al.status == "ok"
    assert all(s.said and s.presence >= PRESENCE_THRESHOLD for s in al.syllables)
    assert al.utterance_presence >= 0.5


def test_a_pause_between_words_holds_the_boundary() -> None:
    pause_start = 0.3 + 0.3 + 0.05 + 0.3
    samples = take(
        silence(0.3),
        vowel("a", 0.3),
        silence(0.05),
        vowel("i", 0.3),
        silence(0.6),
        vowel("u", 0.3),
        silence(0.3),
    )
    al = align(samples, "a1 yi1 wu1")
    assert al.syllables[1].end_s <= pause_start + 0.06
    assert al.syllables[2].start_s >= pause_start + 0.6 - 0.06


@pytest.mark.parametrize("level", [0.0, 1e-3, 1e-2])
def test_silence_or_steady_noise_is_no_speech(level: float) -> None:
    samples = (
        np.random.default_rng(3).normal(0, level, 2 * SR).astype(np.float32)
        if level
        else np.zeros(2 * SR, np.float32)
    )
    al = align(samples, "ni3 hao3")
    assert al.status == "no_speech"
    assert not any(s.said for s in al.syllables)
    assert al.utterance_presence == 0.0


def test_only_the_first_syllable_said_is_partial() -> None:
    al = align(take(silence(0.3), vowel("a", 0.35), silence(0.5)), "a1 wu1")
    assert al.syllables[0].said
    assert not al.syllables[1].said
    assert al.status == "partial"


def test_a_different_text_is_not_said() -> None:
    al = align(take(AIU, silence(0.3)), "shi4 zi4 ri4")
    assert al.status == "different_text"
    assert not any(s.said for s in al.syllables)
    assert al.utterance_presence < 0.5


def test_very_short_audio_for_a_long_text_still_gives_one_span_per_syllable() -> None:
    al = align(take(silence(0.05), vowel("a", 0.1)), "wo3 xiang3 qu4 bei3 jing1 kan4 kan4")
    assert len(al.syllables) == 7
    starts = [s.start_s for s in al.syllables]
    assert starts == sorted(starts)


def test_rejects_other_sample_rates_and_empty_texts() -> None:
    with pytest.raises(ValueError, match="16000"):
        align_text(np.zeros(8000, np.float32), 8000, expected_syllables("a1"))
    with pytest.raises(ValueError):
        align_text(np.zeros(8000, np.float32), SR, [])


def test_model_loads_once_and_is_small() -> None:
    assert load_aligner() is load_aligner()
    from sayzhong.pronunciation.aligner import MODEL_PATH

    assert MODEL_PATH.stat().st_size < 2_000_000
    assert load_aligner().config["feature_key"] == acoustic.PARAMS_KEY


# --- pure logic ---------------------------------------------------------------------------------

CFG = {"tau": 1.0, "prior_none": 0.0, "prior_part": -2.0, "prior_skip": -4.0}


def test_structured_posterior_keeps_a_clear_prefix_and_drops_the_rest() -> None:
    said, whole, _ = structured_posteriors(np.array([5.0, 5.0, 5.0, -6.0, -6.0]), CFG)
    assert list(said >= 0.5) == [True, True, True, False, False]
    assert whole < 0.5


def test_structured_posterior_does_not_believe_scattered_chance_matches() -> None:
    said, whole, nothing = structured_posteriors(np.array([1.5, -4.0, 1.5, -4.0, 1.5, -4.0]), CFG)
    assert not (said >= 0.5).any()
    assert nothing > whole


def test_structured_posterior_all_good_is_all_said() -> None:
    said, whole, _ = structured_posteriors(np.array([3.0, 0.5, 3.0]), CFG)
    assert (said >= 0.5).all() and whole > 0.5


@pytest.mark.parametrize(
    ("pinyin", "units"),
    [
        ("zhuang", (("zh",), ("u", "a", "ng_c"))),
        ("yuan", ((), ("v", "E", "n_c"))),
        ("luu", (("l",), ("v",))),
        ("jue", (("j",), ("v", "E"))),
        ("shi", (("sh",), ("ir",))),
        ("si", (("s",), ("ii",))),
        ("you", ((), ("i", "o", "u"))),
        ("gui", (("g",), ("u", "E", "i"))),
        ("er", ((), ("er",))),
    ],
)
def test_pinyin_to_units(pinyin: str, units: tuple[tuple[str, ...], tuple[str, ...]]) -> None:
    assert syllable_units(*split_pinyin(pinyin)) == units


def test_expected_syllable_finals_all_decompose() -> None:
    for s in expected_syllables("我想去北京看看女儿绿色的衣服 学习 中文 一点五倍"):
        assert final_units(s.initial, s.final)
    with pytest.raises(ValueError):
        final_units("b", "xyz")


def test_the_aligner_dithers_digital_silence_the_same_way_every_time() -> None:
    """Exact zeros get one 16-bit step of noise, so a silent frame has a noise floor's spectrum
    instead of the log floor's flat line, and the same take aligns the same way every time."""
    take = np.concatenate([np.zeros(8000), 0.3 * np.sin(2 * np.pi * 220 * np.arange(8000) / 16000)])
    assert np.array_equal(acoustic.dithered(take), acoustic.dithered(take))
    model, units = load_aligner(), syllable_unit_lists(expected_syllables("a1"))
    first, again = raw_align(model, take, units), raw_align(model, take, units)
    assert np.array_equal(first.features, again.features) and first.spans == again.spans
    plain = raw_align(model, take, units, dither=False)
    assert not np.array_equal(first.features, plain.features)  # the run-time path really dithers
    silent = acoustic.mfcc_static(acoustic.dithered(np.zeros(8000)))
    assert np.isfinite(silent).all()
    assert silent[:, 0].max() > np.log(1e-10) + 5  # energy above the log floor: the dither's
    assert np.ptp(silent[:, 1:], axis=0).min() > 0.01  # cepstra vary from frame to frame, as noise does
    noise = np.abs(acoustic.dithered(np.zeros(16000)))
    assert 0.5 / 32768 < float(np.mean(noise)) < 1.5 / 32768  # one step, not audible noise
