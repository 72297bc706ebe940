"""Canned engine results for practice tests (the Azure-shaped JSON of sayzhong.pronunciation).

`FakeAssessor` stands in for `assess_pronunciation` through the `assessor=` keyword of
`score_attempt` (dependency injection, not a patch of production code).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

WAV_BYTES = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 64


def syllable(
    grapheme: str,
    pinyin: str,
    expected: int,
    detected: int | None,
    *,
    score: float | None = None,
    verdict: str | None = None,
) -> dict[str, Any]:
    if verdict in ("not_said", "uncertain"):
        tone_score = None if verdict == "not_said" else 55
        conf = None if verdict == "not_said" else 0.5
    elif expected == 5:
        verdict, tone_score, conf = "not_judged", None, None
    elif detected is None:
        verdict, tone_score, conf = "undecidable", 0, 0.0
    elif detected == expected:
        verdict, tone_score, conf = "correct", 92 if score is None else score, 0.9
    else:
        verdict, tone_score, conf = "wrong", 12 if score is None else score, 0.8
    return {
        "Syllable": pinyin,
        "Grapheme": grapheme,
        "Offset": 0,
        "Duration": 2_000_000,
        "PronunciationAssessment": {"AccuracyScore": tone_score or 0, "ErrorType": "None"},
        "ExpectedTone": expected,
        "DictionaryTone": expected,
        "DetectedTone": detected,
        "ToneScore": tone_score,
        "ToneConfidence": conf,
        "ToneVerdict": verdict,
        "Contour": {
            "Scale": "chao",
            "TimeUnit": "ms",
            "Learner": [[0, 3.0], [100, 3.5], [200, 4.1]],
            "Target": [[0, 3.0], [200, 5.0]],
        },
    }


def result(
    syllables: Sequence[dict[str, Any]],
    *,
    pron: float = 85,
    engine: str = "offline",
    profile_used: bool = False,
    status: str | None = None,
) -> dict[str, Any]:
    judged = [s["ToneScore"] for s in syllables if s["ToneScore"] is not None]
    extra: dict[str, Any] = {}
    if status is not None:  # the engine's check that the phrase was said (schema 2)
        extra["Utterance"] = {"Status": status, "Message": f"status {status}", "MissingSyllables": []}
    return {
        **extra,
        "SchemaVersion": 1,
        "RecognitionStatus": "Success",
        "Engine": engine,
        "Normalisation": "profile" if profile_used else "utterance",
        "SpeakerProfileUsed": profile_used,
        "Duration": 15_000_000,
        "AudioDuration": 20_000_000,
        "NBest": [
            {
                "PronunciationAssessment": {
                    "AccuracyScore": pron,
                    "FluencyScore": 90,
                    "CompletenessScore": 100,
                    "PronScore": pron,
                    "ToneScore": round(sum(judged) / len(judged)) if judged else None,
                },
                "Words": [{"Word": s["Grapheme"], "Syllables": [s]} for s in syllables],
            }
        ],
    }


@dataclass
class FakeAssessor:
    """Returns `next_result` (or a correct reading of 你好) and records every call."""

    next_result: dict[str, Any] | None = None
    error: Exception | None = None
    calls: list[dict[str, Any]] = field(default_factory=list)

    def __call__(
        self,
        *,
        audio: bytes,
        text: str,
        reading: str | None = None,
        profile: Any = None,
        engine: str = "auto",
    ) -> dict[str, Any]:
        self.calls.append(
            {"audio": audio, "text": text, "reading": reading, "profile": profile, "engine": engine}
        )
        if self.error is not None:
            raise self.error
        if self.next_result is not None:
            return self.next_result
        return result([syllable("你", "ni3", 2, 2), syllable("好", "hao3", 3, 3)])
