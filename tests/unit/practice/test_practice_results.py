"""Reading stored result JSON stays safe when fields are missing or malformed."""

from __future__ import annotations

from sayzhong.practice.results import parse_result
from tests.support.practice_fakes import result, syllable


def test_empty_or_garbage_results_parse_to_neutral_values() -> None:
    for raw in ({}, {"NBest": "nope"}, {"NBest": [None]}, {"NBest": [{"Words": [{"Syllables": [1, "x"]}]}]}):
        parsed = parse_result(raw)
        assert parsed.syllables == () and parsed.pron == 0.0 and parsed.tone is None
        assert parsed.engine == "unknown" and parsed.speaker_profile_used is None


def test_scores_are_clamped_and_tones_validated() -> None:
    raw = result([syllable("好", "hao3", 3, 3)])
    assessment = raw["NBest"][0]["PronunciationAssessment"]
    assessment.update({"PronScore": 140, "AccuracyScore": -3, "FluencyScore": "n/a", "ToneScore": None})
    syl = raw["NBest"][0]["Words"][0]["Syllables"][0]
    syl.update({"DetectedTone": 9, "ToneVerdict": None, "ToneConfidence": 87})
    parsed = parse_result(raw)
    assert (parsed.pron, parsed.accuracy, parsed.fluency) == (100.0, 0.0, 0.0)
    assert parsed.tone == 92.0  # falls back to the mean of judged syllables
    only = parsed.syllables[0]
    assert only.detected_tone is None and only.verdict == "unclear" and only.confidence == 0.87


def test_bare_contour_levels_are_accepted_without_times() -> None:
    raw = result([syllable("好", "hao3", 3, 3)])
    raw["NBest"][0]["Words"][0]["Syllables"][0]["Contour"] = {"Learner": [2.0, None, 1.5], "Target": []}
    only = parse_result(raw).syllables[0]
    assert only.learner_contour == (2.0, 1.5) and only.learner_times_ms == ()
    assert only.target_contour == ()


def test_syllables_without_an_expected_tone_are_skipped_and_positions_stay_dense() -> None:
    raw = result([syllable("你", "ni3", 2, 2), syllable("好", "hao3", 3, 3)])
    raw["NBest"][0]["Words"][0]["Syllables"][0]["ExpectedTone"] = None
    parsed = parse_result(raw)
    assert [(s.position, s.grapheme) for s in parsed.syllables] == [(0, "好")]


def test_results_are_made_json_safe_before_storing() -> None:
    import numpy as np

    from sayzhong.practice.results import json_safe

    raw = {"a": np.int64(3), "b": [np.float32(0.5), float("nan")], "c": (1, True), "d": {"e": np.bool_(True)}}
    assert json_safe(raw) == {"a": 3, "b": [0.5, None], "c": [1, True], "d": {"e": True}}
