"""The Azure adapter with the REAL Speech SDK against a local fake service on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from azure_fake import FakeAzure, azure_result

from sayzhong.integrations.azure_speech import AzureSpeechAssessor
from sayzhong.pronunciation.audio import decode_audio
from sayzhong.pronunciation.ports import AssessorUnavailableError
from sayzhong.pronunciation.service import assess_pronunciation
from sayzhong.pronunciation.text import expected_syllables
from sayzhong.settings import Settings
from tests.support.human_speech import syllable_take
from tests.support.ports import free_port

TEXT = "我想喝茶"
TAKE = syllable_take("wo2 xiang3 he1 cha2")  # a native speaker, syllable by syllable


@pytest.fixture
def fake(request: pytest.FixtureRequest) -> Iterator[FakeAzure]:
    mode = getattr(request, "param", "normal")
    server = FakeAzure(
        mode=mode, result=azure_result([("我", 90.0), ("想", 70.0), ("喝茶", 40.0)], display=TEXT)
    ).start()
    yield server
    server.stop()


def settings_for(fake: FakeAzure, timeout_s: float = 4.0) -> Settings:
    return Settings(azure_speech_key="test-key", azure_speech_host=fake.host, azure_timeout_s=timeout_s)


def syllables(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for w in result["NBest"][0]["Words"] for s in w["Syllables"]]


def test_normal_result_is_merged_with_offline_tones(fake: FakeAzure) -> None:
    result = assess_pronunciation(audio=TAKE, text=TEXT, settings=settings_for(fake))
    assert result["Engine"] == "azure+offline"
    assert result["AzureFallbackReason"] is None
    # The SDK sent the scripted-assessment settings and the PCM audio to our server.
    pa = fake.contexts[0]["phraseDetection"]["enrichment"]["pronunciationAssessment"]
    assert pa["referenceText"] == TEXT
    assert pa["gradingSystem"] == "HundredMark"
    assert pa["granularity"] == "Phoneme"
    assert pa["enableMiscue"] is True
    assert fake.audio_bytes > 16_000  # about a second of 16-bit PCM at least
    assert "language=zh-CN" in fake.paths[0]
    best = result["NBest"][0]
    assert best["PronunciationAssessment"]["FluencyScore"] == 91  # from Azure
    syls = syllables(result)
    assert [s["AzureAccuracyScore"] for s in syls] == [90, 70, 40, 40]
    # Tones still come from the offline engine; accuracy blends both.
    assert [s["ToneVerdict"] for s in syls] == ["correct"] * 4
    assert all(s["DetectedTone"] in (None, *s["AcceptedTones"]) for s in syls)
    third = syls[2]
    assert third["PronunciationAssessment"]["AccuracyScore"] == round(0.5 * 40 + 0.5 * third["ToneScore"])
    assert [len(w["Phonemes"]) for w in best["Words"]] == [2, 2, 2]


@pytest.mark.parametrize("fake", ["cancel"], indirect=True)
def test_cancellation_falls_back_to_offline(fake: FakeAzure) -> None:
    result = assess_pronunciation(audio=TAKE, text=TEXT, settings=settings_for(fake))
    assert result["Engine"] == "offline"
    assert result["AzureFallbackReason"] == "canceled"
    assert all(s["ToneVerdict"] in ("correct", "uncertain", "wrong") for s in syllables(result))


@pytest.mark.parametrize("fake", ["slow"], indirect=True)
def test_slow_server_hits_the_time_budget(fake: FakeAzure) -> None:
    result = assess_pronunciation(audio=TAKE, text=TEXT, settings=settings_for(fake, timeout_s=1.0))
    assert result["Engine"] == "offline"
    assert result["AzureFallbackReason"] == "timeout"


@pytest.mark.parametrize("fake", ["malformed"], indirect=True)
def test_malformed_json_falls_back(fake: FakeAzure) -> None:
    result = assess_pronunciation(audio=TAKE, text=TEXT, settings=settings_for(fake))
    assert result["Engine"] == "offline"
    assert result["AzureFallbackReason"] == "malformed_result"


def _best(result: dict[str, Any]) -> dict[str, Any]:
    return result["NBest"][0]  # type: ignore[no-any-return]


def _word(result: dict[str, Any]) -> dict[str, Any]:
    return _best(result)["Words"][1]  # type: ignore[no-any-return]


CORRUPTIONS: dict[str, Callable[[dict[str, Any]], None]] = {
    "fluency_not_a_number": lambda r: _best(r)["PronunciationAssessment"].update(FluencyScore="excellent"),
    "pron_score_not_a_number": lambda r: _best(r)["PronunciationAssessment"].update(PronScore="85"),
    "word_score_nan_string": lambda r: _word(r)["PronunciationAssessment"].update(AccuracyScore="NaN"),
    "word_score_null": lambda r: _word(r)["PronunciationAssessment"].update(AccuracyScore=None),
    "word_score_boolean": lambda r: _word(r)["PronunciationAssessment"].update(AccuracyScore=True),
    "word_score_out_of_range": lambda r: _word(r)["PronunciationAssessment"].update(AccuracyScore=250),
    "word_is_not_text": lambda r: _word(r).update(Word=["想"]),
    "phonemes_not_a_list": lambda r: _word(r).update(Phonemes=5),
    "phoneme_score_not_a_number": lambda r: _word(r)["Phonemes"][0]["PronunciationAssessment"].update(
        AccuracyScore="good"
    ),
    "error_type_not_text": lambda r: _word(r)["PronunciationAssessment"].update(ErrorType=3),
}


@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
def test_malformed_scores_fall_back_to_offline_instead_of_raising(corruption: str) -> None:
    broken = azure_result([("我", 90.0), ("想", 70.0), ("喝茶", 40.0)], display=TEXT)
    CORRUPTIONS[corruption](broken)
    server = FakeAzure(result=broken).start()
    try:
        assessor = AzureSpeechAssessor(key="test-key", host=server.host)
        with pytest.raises(AssessorUnavailableError) as refused:
            assessor.assess(
                audio=decode_audio(TAKE),
                text=TEXT,
                expected=expected_syllables(TEXT),
            )
        assert refused.value.reason == "malformed_result"
        result = assess_pronunciation(audio=TAKE, text=TEXT, settings=settings_for(server))
    finally:
        server.stop()
    assert result["Engine"] == "offline"
    assert result["AzureFallbackReason"] == "malformed_result"


def test_adapter_raises_with_a_reason_when_nothing_listens() -> None:
    port = free_port()  # nobody listens there
    assessor = AzureSpeechAssessor(key="k", host=f"ws://127.0.0.1:{port}", timeout_s=8.0)
    audio = decode_audio(syllable_take("ni2 hao3"))
    with pytest.raises(AssessorUnavailableError) as info:
        assessor.assess(audio=audio, text="你好", expected=expected_syllables("你好"))
    assert info.value.reason in ("connection_failure", "canceled")


def test_pinyin_text_is_not_sent_to_azure(fake: FakeAzure) -> None:
    result = assess_pronunciation(
        audio=syllable_take("ni2 hao3"), text="ni3 hao3", settings=settings_for(fake)
    )
    assert result["AzureFallbackReason"] == "pinyin_text"
    assert fake.contexts == []


def test_key_is_not_in_repr() -> None:
    assert "secret" not in repr(AzureSpeechAssessor(key="secret", region="westeurope"))
