"""Tone classification on known contours, speaker normalisation and the speaker profile."""

from __future__ import annotations

import numpy as np
import pytest

from sayzhong.pronunciation.analysis import analyse
from sayzhong.pronunciation.audio import decode_audio
from sayzhong.pronunciation.classifier import load_model
from sayzhong.pronunciation.features import SyllablePitch, phrase_features, tone_features
from sayzhong.pronunciation.pitch import hz_to_st
from sayzhong.pronunciation.profile import ProfileError, SpeakerProfile, build_profile
from sayzhong.pronunciation.text import ExpectedSyllable, expected_syllables
from tests.support.pron_synth import synth_samples, to_wav


def ma(tones: list[int]) -> list[ExpectedSyllable]:
    """Expected syllables "ma1 ma2 …" for a synthetic take with these tones."""
    return expected_syllables(" ".join(f"ma{t}" for t in tones))


CONTOURS = {
    1: np.full(25, 4.0),
    2: np.linspace(-2.0, 4.0, 25),
    3: np.concatenate([np.linspace(-3.0, -6.0, 15), np.linspace(-6.0, -2.0, 10)]),
    4: np.linspace(5.0, -5.0, 25),
}


def single(values: np.ndarray, tone: int, *, ref: float, level: bool) -> np.ndarray:
    feats = phrase_features(
        [SyllablePitch(values, 0.9, values.size * 0.01)], [tone], ref_st=ref, range_st=10.0, level=level
    )[0]
    assert feats is not None
    return feats


def test_model_recognises_textbook_contours() -> None:
    # The networks learnt from real finals, which are not textbook shapes; still, the textbook
    # contours of the four tones must mostly read as those tones, with and without a level.
    model = load_model()
    hits = []
    for kind in ("level", "shape"):
        for tone in (1, 2, 3, 4):
            probs = model.predict(
                single(CONTOURS[tone] + 20.0, tone, ref=20.0, level=kind != "shape"), kind=kind
            )
            assert probs.shape == (4,) and probs.sum() == pytest.approx(1.0)
            hits.append(int(np.argmax(probs)) + 1 == tone)
    assert sum(hits) >= 6, hits


def test_level_model_uses_pitch_relative_to_the_speaker() -> None:
    # The same flat contour is a high tone 1 for a low voice and not for a voice that sits higher.
    flat = np.full(25, 12.0)
    model = load_model()
    low_speaker = model.predict(single(flat, 1, ref=8.0, level=True), kind="level")
    high_speaker = model.predict(single(flat, 1, ref=18.0, level=True), kind="level")
    assert int(np.argmax(low_speaker)) + 1 == 1
    assert low_speaker[0] > high_speaker[0]


def test_too_little_voicing_is_undecidable() -> None:
    assert (
        tone_features(np.array([10.0, 11.0]), ref_st=10, range_st=10, voiced_fraction=0.1, level=True) is None
    )


def test_normalisation_mode_depends_on_profile_and_length() -> None:
    one = decode_audio(to_wav(synth_samples([2])))
    four = decode_audio(to_wav(synth_samples([1, 2, 3, 4])))
    prof = SpeakerProfile(float(hz_to_st(200.0)), 10.0, 200.0, 1, 1)
    assert analyse(one, ma([2]), use_aligner=False).normalisation.mode == "shape-only"
    two = decode_audio(to_wav(synth_samples([2, 4])))
    assert analyse(two, ma([2, 4]), use_aligner=False).normalisation.mode == "utterance"
    assert analyse(four, ma([1, 2, 3, 4]), use_aligner=False).normalisation.mode == "utterance"
    assert analyse(one, ma([2]), prof, use_aligner=False).normalisation.mode == "profile"


def test_build_profile_finds_the_speaker_pitch() -> None:
    low = build_profile([(to_wav(synth_samples([1, 2, 3, 4], median_hz=110.0)), "ma1 ma2 ma3 ma4")])
    high = build_profile([(to_wav(synth_samples([1, 2, 3, 4], median_hz=220.0)), "妈麻马骂")])
    assert high.median_st - low.median_st == pytest.approx(12.0, abs=1.5)
    assert 4.0 < low.range_st < 16.0
    # A buzz is not speech to the aligner, so no syllable is placed; per-tone statistics from real
    # speech are checked in tests/integration/pronunciation/test_pron_engine.py.
    assert low.n_syllables == 0 and low.tone_stats == {}


def test_profile_round_trips_through_json() -> None:
    import json

    prof = build_profile([(to_wav(synth_samples([1, 4])), "ma1 ma4")])
    again = SpeakerProfile.from_dict(json.loads(json.dumps(prof.to_dict())))
    assert again == prof


@pytest.mark.parametrize(
    "bad",
    [{}, {"format": "other"}, {"format": "sayzhong-speaker-profile/1", "median_st": "x", "range_st": 9}],
)
def test_damaged_profile_is_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ProfileError):
        SpeakerProfile.from_dict(bad)


def test_profile_needs_recordings() -> None:
    with pytest.raises(ProfileError):
        build_profile([])


@pytest.mark.parametrize("snr_db", [40.0, 20.0, 10.0])
@pytest.mark.parametrize("median_hz", [200.0, 110.0])
def test_pitch_survives_noise_and_mains_hum(snr_db: float, median_hz: float) -> None:
    from tests.support.pron_synth import SR

    tones = [3, 1, 4, 2]
    speech = synth_samples(tones, median_hz=median_hz)
    x = np.concatenate([np.zeros(SR // 2, np.float32), speech, np.zeros(SR // 2, np.float32)])
    clean = analyse(decode_audio(to_wav(x)), ma(tones), use_aligner=False)
    rng = np.random.default_rng(0)
    power = float(np.mean(speech[np.abs(speech) > 0.01] ** 2))
    noise = rng.normal(0, np.sqrt(power / 10 ** (snr_db / 10)), x.size)
    hum = 0.01 * np.sin(2 * np.pi * 50 * np.arange(x.size) / SR)
    noisy = analyse(decode_audio(to_wav((x + noise + hum).astype(np.float32))), ma(tones), use_aligner=False)
    assert noisy.contours is not None and clean.contours is not None
    # The same voiced stretches are found, their contours keep their level, and the judgement agrees.
    for a, b in zip(clean.contours, noisy.contours, strict=True):
        assert abs(float(a.times[0]) - float(b.times[0])) < 0.06
        assert abs(float(np.median(a.values_st)) - float(np.median(b.values_st))) < 1.0
    agree = [a.detected == b.detected for a, b in zip(clean.judgements, noisy.judgements, strict=True)]
    assert sum(agree) >= 3


def test_profile_error_names_the_bad_recording() -> None:
    from sayzhong.pronunciation.audio import AudioSilentError

    good = to_wav(synth_samples([1, 4]))
    silent = to_wav(np.zeros(16_000, np.float32))
    with pytest.raises(AudioSilentError) as info:
        build_profile([(good, "ma1 ma4"), (silent, "ma1")])
    assert info.value.user_message.startswith("Recording 2:")
    assert info.value.code == "audio_silent"
