"""Score formulas, verdict thresholds and engine choice (the result JSON on real speech is tested in
tests/integration/pronunciation/test_pron_engine.py)."""

from __future__ import annotations

import pytest

from sayzhong.pronunciation import scoring
from sayzhong.pronunciation.classifier import Thresholds
from sayzhong.pronunciation.offline import OfflineAssessor
from sayzhong.pronunciation.service import assess_pronunciation
from sayzhong.settings import Settings
from sayzhong.wiring import get_assessor


@pytest.fixture
def offline_settings() -> Settings:
    return Settings(azure_speech_key="", azure_speech_region="", azure_speech_host="")


def test_engine_choice(offline_settings: Settings) -> None:
    assert isinstance(get_assessor(offline_settings), OfflineAssessor)
    azure = Settings(azure_speech_key="k", azure_speech_region="westeurope")
    assert get_assessor(azure).name == "azure"


def test_unknown_engine_is_refused(offline_settings: Settings) -> None:
    from sayzhong.errors import ValidationError

    with pytest.raises(ValidationError):
        assess_pronunciation(audio=b"RIFF", text="ni2", engine="magic", settings=offline_settings)


@pytest.mark.parametrize(
    ("rate", "expected"), [(0.3, 0.0), (1.5, 100.0), (4.0, 100.0), (7.0, 100.0), (12.0, 0.0), (0.9, 50.0)]
)
def test_rate_score(rate: float, expected: float) -> None:
    assert scoring.rate_score(rate) == pytest.approx(expected)


def test_score_formulas() -> None:
    th = Thresholds(wrong=0.1, correct=0.3)
    # The verdict thresholds fall on fixed marks of the 0-100 tone score.
    assert [scoring.tone_score(p, th) for p in (0.0, 0.05, 0.1, 0.2, 0.3, 1.0)] == [0, 20, 40, 55, 70, 100]
    assert [scoring.tone_verdict(p, th) for p in (0.05, 0.1, 0.29, 0.3, 0.9)] == [
        "wrong",
        "uncertain",
        "uncertain",
        "correct",
        "correct",
    ]
    assert scoring.pron_score(80, 100, 100) == 88
    assert scoring.fluency_score(4, 1.0, 2) == 70
