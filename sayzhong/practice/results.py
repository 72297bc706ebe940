"""Reading the engine's Azure-shaped result JSON into plain values.

The pronunciation engine returns Azure's pronunciation-assessment shape
(`NBest[0].PronunciationAssessment`, `NBest[0].Words[].Syllables[]`) with a tone extension on
every syllable (`ExpectedTone`, `DetectedTone`, `ToneScore`, `ToneConfidence`, `Contour`). The
parser is tolerant: a missing or malformed field becomes a neutral value instead of an error,
because the stored JSON of old attempts must stay readable as the engine evolves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sayzhong.practice.hints import NEUTRAL

VERDICTS = ("correct", "wrong_tone", "unclear", "neutral", "not_said")
DECIDED = ("correct", "wrong_tone")
"""Only confident verdicts count: statistics, review scheduling and progress read these."""
NOT_SAID_STATUSES = ("no_speech", "different_text")
"""Utterance statuses meaning the expected phrase was not said: the take is kept, never counted."""


@dataclass(frozen=True, slots=True)
class ParsedSyllable:
    position: int
    grapheme: str
    pinyin: str
    expected_tone: int
    detected_tone: int | None
    tone_score: float
    confidence: float
    verdict: str
    learner_contour: tuple[float, ...]
    target_contour: tuple[float, ...]
    learner_times_ms: tuple[float, ...]
    target_times_ms: tuple[float, ...]
    neutral_check: str | None = None
    """For a neutral-tone syllable: "light" (fine) or "long" (stressed), when the engine says."""

    @property
    def judged(self) -> bool:
        return self.expected_tone != NEUTRAL


@dataclass(frozen=True, slots=True)
class ParsedResult:
    engine: str
    accuracy: float
    fluency: float
    completeness: float
    pron: float
    tone: float | None
    duration_s: float | None
    speaker_profile_used: bool | None
    """What the result says about calibration; None when it does not say."""
    syllables: tuple[ParsedSyllable, ...]
    said_status: str = "ok"
    """``ok``, ``no_speech``, ``different_text``, ``partial`` or ``extra_speech`` (engine's check
    that the expected phrase was said); old results without the check read as ``ok``."""
    said_message: str | None = None
    warnings: tuple[str, ...] = ()

    @property
    def counted(self) -> bool:
        """False when the phrase was not said: such a take is stored but feeds nothing."""
        return self.said_status not in NOT_SAID_STATUSES


# The engine's own ToneVerdict wins: it flags an error from the probability of the *expected*
# tone, so a syllable can be "correct" although another tone scored slightly higher.
_ENGINE_VERDICTS = {
    "correct": "correct",
    "wrong": "wrong_tone",
    "wrong_tone": "wrong_tone",
    "undecidable": "unclear",
    "unclear": "unclear",
    "uncertain": "unclear",
    "not_judged": "neutral",
    "neutral": "neutral",
    "not_said": "not_said",
}


def verdict_for(expected: int, detected: int | None, engine_verdict: Any = None) -> str:
    if str(engine_verdict).lower() == "not_said":
        return "not_said"
    if expected == NEUTRAL:
        return "neutral"
    mapped = _ENGINE_VERDICTS.get(str(engine_verdict).lower()) if engine_verdict is not None else None
    if mapped is not None and mapped != "neutral":
        return mapped
    if detected is None:
        return "unclear"
    return "correct" if detected == expected else "wrong_tone"


def _score(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    if math.isnan(number):
        return 0.0
    return round(min(max(number, 0.0), 100.0), 1)


def _tone(value: Any, *, allow_neutral: bool) -> int | None:
    try:
        tone = int(value)
    except (TypeError, ValueError):
        return None
    top = NEUTRAL if allow_neutral else 4
    return tone if 1 <= tone <= top else None


def _get(data: Any, *names: str) -> Any:
    """First present key among `names`, case-insensitively (engines differ in casing)."""
    if not isinstance(data, dict):
        return None
    for name in names:
        if name in data:
            return data[name]
    lowered = {str(k).lower(): v for k, v in data.items()}
    for name in names:
        if name.lower() in lowered:
            return lowered[name.lower()]
    return None


def _point_value(point: Any) -> float | None:
    if isinstance(point, bool):
        return None
    if isinstance(point, int | float):
        value: Any = point
    elif isinstance(point, list | tuple) and point:
        value = point[-1]
    elif isinstance(point, dict):
        value = _get(point, "Chao", "Value", "Pitch", "Y")
    else:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else round(number, 3)


def _point_time(point: Any) -> float | None:
    if isinstance(point, list | tuple) and len(point) >= 2:
        value: Any = point[0]
    elif isinstance(point, dict):
        value = _get(point, "T", "Time", "Ms", "X")
    else:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else round(number, 1)


def _contour(value: Any) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """(levels, times in ms); times are empty when the engine gives bare levels."""
    if not isinstance(value, list | tuple):
        return (), ()
    levels: list[float] = []
    times: list[float] = []
    for point in value:
        level = _point_value(point)
        if level is None:
            continue
        levels.append(level)
        times.append(_point_time(point) or 0.0)
    has_times = any(isinstance(p, list | tuple | dict) for p in value)
    return tuple(levels), (tuple(times) if has_times else ())


def _syllables(best: dict[str, Any]) -> tuple[ParsedSyllable, ...]:
    out: list[ParsedSyllable] = []
    words = _get(best, "Words")
    for word in words if isinstance(words, list) else []:
        syllables = _get(word, "Syllables")
        if not isinstance(syllables, list):
            continue
        for syl in syllables:
            if not isinstance(syl, dict):
                continue
            expected = _tone(_get(syl, "ExpectedTone"), allow_neutral=True)
            if expected is None:
                continue
            detected = _tone(_get(syl, "DetectedTone"), allow_neutral=False)
            contour = _get(syl, "Contour")
            learner, learner_times = _contour(_get(contour, "Learner"))
            target, target_times = _contour(_get(contour, "Target"))
            grapheme = _get(syl, "Grapheme") or (_get(word, "Word") if len(syllables) == 1 else "") or ""
            pinyin = _get(syl, "Pinyin", "Syllable") or ""
            confidence = _get(syl, "ToneConfidence")
            out.append(
                ParsedSyllable(
                    position=len(out),
                    grapheme=str(grapheme)[:16],
                    pinyin=str(pinyin).replace(" ", "")[:16],
                    expected_tone=expected,
                    detected_tone=None if expected == NEUTRAL else detected,
                    tone_score=_score(_get(syl, "ToneScore")),
                    confidence=_confidence(confidence),
                    verdict=verdict_for(expected, detected, _get(syl, "ToneVerdict")),
                    learner_contour=learner,
                    target_contour=target,
                    learner_times_ms=learner_times,
                    target_times_ms=target_times,
                    neutral_check=_neutral_check(_get(syl, "NeutralCheck")),
                )
            )
    return tuple(out)


def _neutral_check(value: Any) -> str | None:
    return value if value in ("light", "long") else None


def _confidence(value: Any) -> float:
    """Confidence as 0..1; engines that report 0..100 are scaled down."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    if math.isnan(number) or number < 0:
        return 0.0
    if number > 1.0:
        number = number / 100.0
    return round(min(number, 1.0), 3)


def json_safe(value: Any) -> Any:
    """A copy that any JSON column accepts: numpy scalars unwrapped, NaN/inf as None."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        return json_safe(item())
    return str(value)


def parse_result(result: dict[str, Any]) -> ParsedResult:
    nbest = _get(result, "NBest")
    best: dict[str, Any] = (
        nbest[0] if isinstance(nbest, list) and nbest and isinstance(nbest[0], dict) else {}
    )
    assessment = _get(best, "PronunciationAssessment") or {}
    syllables = _syllables(best)
    judged = [s for s in syllables if s.judged]
    tone_value = _get(assessment, "ToneScore")
    if tone_value is not None:
        tone: float | None = _score(tone_value)
    elif judged:
        tone = round(sum(s.tone_score for s in judged) / len(judged), 1)
    else:
        tone = None
    duration_ticks = _get(result, "AudioDuration")
    if duration_ticks is None:
        duration_ticks = _get(result, "Duration")
    try:
        duration_s: float | None = round(float(duration_ticks) / 10_000_000, 3)
    except (TypeError, ValueError):
        duration_s = None
    profile_flag = _get(result, "SpeakerProfileUsed")
    utterance = _get(result, "Utterance")
    status = _get(utterance, "Status") if isinstance(utterance, dict) else None
    message = _get(utterance, "Message") if isinstance(utterance, dict) else None
    warnings = _get(result, "Warnings")
    return ParsedResult(
        engine=str(_get(result, "Engine") or "unknown")[:40],
        accuracy=_score(_get(assessment, "AccuracyScore")),
        fluency=_score(_get(assessment, "FluencyScore")),
        completeness=_score(_get(assessment, "CompletenessScore")),
        pron=_score(_get(assessment, "PronScore")),
        tone=tone,
        duration_s=duration_s,
        speaker_profile_used=profile_flag if isinstance(profile_flag, bool) else None,
        syllables=syllables,
        said_status=str(status) if status in _SAID_STATUSES else "ok",
        said_message=str(message)[:300] if isinstance(message, str) else None,
        warnings=tuple(str(w)[:40] for w in warnings) if isinstance(warnings, list) else (),
    )


_SAID_STATUSES = ("ok", "no_speech", "different_text", "partial", "extra_speech")
