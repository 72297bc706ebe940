"""The result JSON contract (Azure shape + tone extension), scores and engine choice."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from sayzhong.pronunciation import scoring
from sayzhong.pronunciation.profile import build_profile
from sayzhong.pronunciation.service import OfflineAssessor, assess_pronunciation, get_assessor
from sayzhong.settings import Settings


@pytest.fixture
def offline_settings() -> Settings:
    return Settings(azure_speech_key="", azure_speech_region="", azure_speech_host="")


def syllables(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for w in result["NBest"][0]["Words"] for s in w["Syllables"]]


def test_result_follows_the_azure_shape_with_tone_extension(
    synth_wav: Callable[..., bytes], offline_settings: Settings
) -> None:
    result = assess_pronunciation(audio=synth_wav([3, 1, 4, 2]), text="我想喝茶", settings=offline_settings)
    json.dumps(result)  # JSON-serialisable
    assert result["RecognitionStatus"] == "Success"
    assert result["Engine"] == "offline"
    assert result["SpeakerProfileUsed"] is False
    assert result["Normalisation"] == "utterance"
    assert result["AzureFallbackReason"] is None
    best = result["NBest"][0]
    pa = best["PronunciationAssessment"]
    for key in ("AccuracyScore", "FluencyScore", "CompletenessScore", "PronScore", "ToneScore"):
        assert isinstance(pa[key], int) and 0 <= pa[key] <= 100
    assert [w["Word"] for w in best["Words"]] == ["我", "想", "喝茶"]
    assert all(w["Phonemes"] == [] for w in best["Words"])
    syls = syllables(result)
    assert [s["Syllable"] for s in syls] == ["wo3", "xiang3", "he1", "cha2"]
    assert [s["ExpectedTone"] for s in syls] == [2, 3, 1, 2]
    assert [s["AcceptedTones"] for s in syls] == [[2, 3], [3], [1], [2]]
    offsets = [s["Offset"] for s in syls]
    assert offsets == sorted(offsets)
    assert all(isinstance(s["Offset"], int) and s["Duration"] > 1_000_000 for s in syls)  # 100-ns ticks
    for s in syls:
        assert set(s) >= {"ExpectedTone", "DetectedTone", "ToneScore", "ToneConfidence", "Contour"}
        assert s["DetectedTone"] in (None, 1, 2, 3, 4)
        assert 0 <= s["ToneScore"] <= 100
        assert 0.0 <= s["ToneConfidence"] <= 1.0
        assert s["Contour"]["Scale"] == "chao"
        assert all(1.0 <= level <= 5.0 for _, level in s["Contour"]["Learner"])
        assert all(1.0 <= level <= 5.0 for _, level in s["Contour"]["Target"])
        assert s["PronunciationAssessment"]["ErrorType"] in ("None", "Mispronunciation", "Omission")


def test_wrong_tone_is_flagged(synth_wav: Callable[..., bytes], offline_settings: Settings) -> None:
    # 我想喝茶 should be 2 3 1 2; say 喝 with a falling tone.
    result = assess_pronunciation(
        audio=synth_wav([2, 3, 4, 2]), text="wo3 xiang3 he1 cha2", settings=offline_settings
    )
    syls = syllables(result)
    assert [s["ToneVerdict"] for s in syls] == ["correct", "correct", "wrong", "correct"]
    assert syls[2]["DetectedTone"] == 4
    assert syls[2]["PronunciationAssessment"]["ErrorType"] == "Mispronunciation"
    assert syls[2]["ToneScore"] < 25 < syls[0]["ToneScore"]


def test_neutral_tone_is_not_judged(synth_wav: Callable[..., bytes], offline_settings: Settings) -> None:
    result = assess_pronunciation(audio=synth_wav([1, 3]), text="妈妈", settings=offline_settings)
    second = syllables(result)[1]
    assert second["ExpectedTone"] == 5
    assert second["ToneVerdict"] == "not_judged"
    assert second["ToneScore"] is None and second["DetectedTone"] is None


def test_profile_is_used_and_reported(synth_wav: Callable[..., bytes], offline_settings: Settings) -> None:
    profile = build_profile([(synth_wav([1, 2, 3, 4], median_hz=120.0), "ma1 ma2 ma3 ma4")])
    result = assess_pronunciation(
        audio=synth_wav([4], median_hz=120.0), text="mà", profile=profile, settings=offline_settings
    )
    assert result["SpeakerProfileUsed"] is True
    assert result["Normalisation"] == "profile"
    assert syllables(result)[0]["DetectedTone"] == 4


def test_engine_choice(offline_settings: Settings) -> None:
    assert isinstance(get_assessor(offline_settings), OfflineAssessor)
    azure = Settings(azure_speech_key="k", azure_speech_region="westeurope")
    assert get_assessor(azure).name == "azure"


def test_azure_engine_without_configuration_falls_back(
    synth_wav: Callable[..., bytes], offline_settings: Settings
) -> None:
    result = assess_pronunciation(
        audio=synth_wav([2, 3]), text="你好", engine="azure", settings=offline_settings
    )
    assert result["Engine"] == "offline"
    assert result["AzureFallbackReason"] == "not_configured"


def test_unknown_engine_is_refused(synth_wav: Callable[..., bytes], offline_settings: Settings) -> None:
    from sayzhong.errors import ValidationError

    with pytest.raises(ValidationError):
        assess_pronunciation(audio=synth_wav([2]), text="ni2", engine="magic", settings=offline_settings)


@pytest.mark.parametrize(
    ("rate", "expected"), [(0.3, 0.0), (1.5, 100.0), (4.0, 100.0), (7.0, 100.0), (12.0, 0.0), (0.9, 50.0)]
)
def test_rate_score(rate: float, expected: float) -> None:
    assert scoring.rate_score(rate) == pytest.approx(expected)


def test_score_formulas() -> None:
    assert scoring.tone_score(0.87) == 87
    assert scoring.is_tone_error(0.1) and not scoring.is_tone_error(0.5)
    assert scoring.pron_score(80, 100, 100) == 88
    assert scoring.fluency_score(4, 1.0, 2) == 70


def test_concurrent_calls_give_the_same_results(offline_settings: Settings) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from tests.support.pron_synth import synth_samples, to_wav

    jobs = [
        (to_wav(synth_samples([2, 3, 1, 2], median_hz=hz)), text)
        for hz in (120.0, 180.0, 240.0)
        for text in ("我想喝茶", "wo3 xiang3 he1 cha2")
    ]

    def run(job: tuple[bytes, str]) -> dict[str, Any]:
        return assess_pronunciation(audio=job[0], text=job[1], settings=offline_settings)

    sequential = [run(j) for j in jobs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        parallel = list(pool.map(run, jobs * 2))
    assert parallel == sequential * 2


def _azure(words: list[tuple[str, float, str]]) -> dict[str, Any]:
    return {
        "NBest": [
            {
                "Lexical": "x",
                "PronunciationAssessment": {"AccuracyScore": 70, "FluencyScore": 80, "CompletenessScore": 75},
                "Words": [
                    {"Word": w, "PronunciationAssessment": {"AccuracyScore": acc, "ErrorType": err}}
                    for w, acc, err in words
                ],
            }
        ]
    }


def test_azure_merge_skips_insertions_and_keeps_omissions(
    synth_wav: Callable[..., bytes], offline_settings: Settings
) -> None:
    from sayzhong.pronunciation.service import merge_azure

    offline = assess_pronunciation(audio=synth_wav([3, 1, 4, 2]), text="我想喝茶", settings=offline_settings)
    merged = merge_azure(
        offline,
        _azure([("我", 90, "None"), ("啊", 50, "Insertion"), ("想", 0, "Omission"), ("喝茶", 60, "None")]),
    )
    syls = syllables(merged)
    assert merged["Engine"] == "azure+offline"
    assert [s["AzureAccuracyScore"] for s in syls] == [90, 0, 60, 60]
    assert syls[1]["PronunciationAssessment"]["ErrorType"] == "Omission"
    assert syls[0]["PronunciationAssessment"]["AccuracyScore"] == round(0.5 * 90 + 0.5 * syls[0]["ToneScore"])
    pa = merged["NBest"][0]["PronunciationAssessment"]
    assert (pa["FluencyScore"], pa["CompletenessScore"]) == (80, 75)


def test_azure_merge_of_a_broken_result_keeps_offline(
    synth_wav: Callable[..., bytes], offline_settings: Settings
) -> None:
    from sayzhong.pronunciation.service import merge_azure

    offline = assess_pronunciation(audio=synth_wav([2, 3]), text="你好", settings=offline_settings)
    merged = merge_azure(offline, {"NBest": []})
    assert merged["Engine"] == "offline"
    assert merged["AzureFallbackReason"] == "malformed_result"
