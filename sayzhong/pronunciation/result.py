"""The result JSON: Azure's pronunciation-assessment shape plus SayZhong's tone extension.

Shape (see docs/pronunciation.md for every field)::

    {"RecognitionStatus": "Success", "Offset": ticks, "Duration": ticks, "DisplayText": text,
     "Engine": "offline" | "azure+offline", "Normalisation": "profile" | "utterance" | "shape-only",
     "SpeakerProfileUsed": bool, "AzureFallbackReason": str | None, "SchemaVersion": 1,
     "NBest": [{"Confidence", "Lexical", "Display",
                "PronunciationAssessment": {AccuracyScore, FluencyScore, CompletenessScore,
                                            PronScore, ToneScore},
                "Words": [{"Word", "Offset", "Duration",
                           "PronunciationAssessment": {AccuracyScore, ErrorType},
                           "Syllables": [{"Syllable", "Grapheme", "Offset", "Duration",
                                          "PronunciationAssessment": {AccuracyScore, ErrorType},
                                          "ExpectedTone", "AcceptedTones", "DetectedTone", "ToneScore",
                                          "ToneConfidence", "ToneVerdict", "Contour"}],
                           "Phonemes": [...] (empty unless Azure scored too)}]}]}

Offsets and durations are in 100-ns ticks, like Azure's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sayzhong.pronunciation import scoring
from sayzhong.pronunciation.analysis import Analysis, Normalisation, SyllableContour, ToneJudgement
from sayzhong.pronunciation.audio import DecodedAudio
from sayzhong.pronunciation.text import ExpectedSyllable

SCHEMA_VERSION = 1
TICKS_PER_S = 10_000_000

# Target contours on the Chao five-level scale, as (relative time, level) points.
CHAO_TARGETS: dict[int, list[tuple[float, float]]] = {
    1: [(0.0, 5.0), (1.0, 5.0)],
    2: [(0.0, 3.0), (1.0, 5.0)],
    3: [(0.0, 2.0), (0.5, 1.0), (1.0, 4.0)],
    4: [(0.0, 5.0), (1.0, 1.0)],
}
# A 3rd tone that is not last in its phrase is usually "half third" (21), not 214.
HALF_THIRD: list[tuple[float, float]] = [(0.0, 2.0), (1.0, 1.0)]


def _ticks(seconds: float) -> int:
    return round(seconds * TICKS_PER_S)


def to_chao(st: np.ndarray, norm: Normalisation) -> np.ndarray:
    """Semitones → Chao levels 1-5: the speaker's 5th-95th percentile range maps onto 1-5."""
    span = max(norm.range_st, 3.0)
    return np.asarray(np.clip(3.0 + 4.0 * (st - norm.ref_st) / span, 1.0, 5.0))


def _contour(
    contour: SyllableContour | None, norm: Normalisation, tone: int, start_s: float, dur_s: float, last: bool
) -> dict[str, Any]:
    learner: list[list[float]] = []
    if contour is not None and contour.values_st.size:
        idx = np.linspace(0, contour.values_st.size - 1, min(12, contour.values_st.size)).round().astype(int)
        chao = to_chao(contour.values_st[idx], norm)
        learner = [
            [round(float(t) * 1000), round(float(c), 2)]
            for t, c in zip(contour.times[idx], chao, strict=True)
        ]
    target: list[list[float]] = []
    if tone in CHAO_TARGETS:
        points = CHAO_TARGETS[tone] if (tone != 3 or last) else HALF_THIRD
        target = [[round((start_s + r * dur_s) * 1000), level] for r, level in points]
    return {"Scale": "chao", "TimeUnit": "ms", "Learner": learner, "Target": target}


def build_offline_result(
    *,
    text: str,
    expected: list[ExpectedSyllable],
    audio: DecodedAudio,
    analysis: Analysis,
    profile_used: bool,
) -> dict[str, Any]:
    norm = analysis.normalisation
    step = analysis.track.step
    contours = analysis.contours
    syllables: list[dict[str, Any]] = []
    heard_flags: list[bool] = []
    for i, (syl, judgement) in enumerate(zip(expected, analysis.judgements, strict=True)):
        contour = contours[i] if contours is not None else None
        if contour is not None:
            start_s = float(analysis.track.times[contour.segment.start] - step / 2)
            dur_s = (contour.segment.end - contour.segment.start) * step
        else:
            start_s, dur_s = 0.0, 0.0
        heard = contour is not None and contour.values_st.size >= 3
        heard_flags.append(heard)
        next_same_phrase = i + 1 < len(expected)
        syllables.append(
            _syllable_entry(syl, judgement, contour, norm, start_s, dur_s, heard, last=not next_same_phrase)
        )
    words = _group_words(expected, syllables)
    judged = [s for s in syllables if s["ExpectedTone"] in (1, 2, 3, 4)]
    accuracy = float(np.mean([s["PronunciationAssessment"]["AccuracyScore"] for s in syllables]))
    completeness = 100.0 * sum(heard_flags) / len(heard_flags)
    if contours is not None:
        first, last = contours[0].segment.start, contours[-1].segment.end
        speech_s = (last - first) * step
        pauses = scoring.count_long_pauses(analysis.track, first, last)
    else:
        speech_s, pauses = 0.0, 0
    fluency = scoring.fluency_score(len(expected), speech_s, pauses) if contours is not None else 0
    tone_mean = float(np.mean([s["ToneScore"] for s in judged])) if judged else None
    offset_s = syllables[0]["Offset"] / TICKS_PER_S if contours is not None else 0.0
    lexical = " ".join(s.pinyin for s in expected)
    return {
        "SchemaVersion": SCHEMA_VERSION,
        "RecognitionStatus": "Success",
        "Engine": "offline",
        "Normalisation": norm.mode,
        "SpeakerProfileUsed": profile_used,
        "AzureFallbackReason": None,
        "Offset": _ticks(offset_s),
        "Duration": _ticks(speech_s),
        "AudioDuration": _ticks(audio.duration_s),
        "DisplayText": text,
        "NBest": [
            {
                "Confidence": round(float(np.mean([j.confidence for j in analysis.judgements])), 3),
                "Lexical": lexical,
                "Display": text,
                "PronunciationAssessment": {
                    "AccuracyScore": round(accuracy),
                    "FluencyScore": fluency,
                    "CompletenessScore": round(completeness),
                    "PronScore": scoring.pron_score(accuracy, fluency, completeness),
                    "ToneScore": None if tone_mean is None else round(tone_mean),
                },
                "Words": words,
            }
        ],
    }


def _syllable_entry(
    syl: ExpectedSyllable,
    judgement: ToneJudgement,
    contour: SyllableContour | None,
    norm: Normalisation,
    start_s: float,
    dur_s: float,
    heard: bool,
    *,
    last: bool,
) -> dict[str, Any]:
    if not syl.judged:
        verdict, tone_score, detected, conf = "not_judged", None, None, None
        accuracy = 100 if heard else 0
        error = "None" if heard else "Omission"
    elif not heard:
        verdict, tone_score, detected, conf = "undecidable", 0, None, 0.0
        accuracy, error = 0, "Omission"
    elif judgement.probabilities is None:
        verdict, tone_score, detected, conf = "undecidable", 0, None, 0.0
        accuracy, error = 0, "Mispronunciation"
    else:
        # Optional sandhi: every accepted tone counts as right.
        p = min(1.0, sum(judgement.probability_of(t) for t in syl.accepted_tones))
        tone_score = scoring.tone_score(p)
        detected = judgement.detected
        conf = round(judgement.confidence, 3)
        wrong = scoring.is_tone_error(p)
        if wrong:
            verdict = "wrong"
        elif detected is not None and detected not in syl.accepted_tones:
            verdict = "uncertain"  # not flagged, but another tone was more likely
        else:
            verdict = "correct"
        accuracy, error = tone_score, ("Mispronunciation" if wrong else "None")
    return {
        "Syllable": syl.pinyin,
        "Grapheme": syl.grapheme,
        "Offset": _ticks(start_s),
        "Duration": _ticks(dur_s),
        "PronunciationAssessment": {"AccuracyScore": accuracy, "ErrorType": error},
        "ExpectedTone": syl.surface_tone,
        "AcceptedTones": list(syl.accepted_tones) if syl.judged else [],
        "DictionaryTone": syl.dictionary_tone,
        "DetectedTone": detected,
        "ToneScore": tone_score,
        "ToneConfidence": conf,
        "ToneVerdict": verdict,
        "ToneProbabilities": None
        if judgement.probabilities is None
        else [round(float(x), 3) for x in judgement.probabilities],
        "Contour": _contour(contour, norm, syl.surface_tone, start_s, dur_s, last),
    }


def _group_words(expected: list[ExpectedSyllable], syllables: list[dict[str, Any]]) -> list[dict[str, Any]]:
    words: list[dict[str, Any]] = []
    by_index: dict[int, list[tuple[ExpectedSyllable, dict[str, Any]]]] = {}
    for syl, entry in zip(expected, syllables, strict=True):
        by_index.setdefault(syl.word_index, []).append((syl, entry))
    for index in sorted(by_index):
        members = by_index[index]
        entries = [e for _, e in members]
        errors = [e["PronunciationAssessment"]["ErrorType"] for e in entries]
        error = (
            "Omission"
            if all(x == "Omission" for x in errors)
            else next((x for x in errors if x != "None"), "None")
        )
        start = entries[0]["Offset"]
        end = entries[-1]["Offset"] + entries[-1]["Duration"]
        words.append(
            {
                "Word": "".join(s.grapheme for s, _ in members)
                if all(len(s.grapheme) == 1 for s, _ in members)
                else " ".join(s.grapheme for s, _ in members),
                "Offset": start,
                "Duration": max(0, end - start),
                "PronunciationAssessment": {
                    "AccuracyScore": round(
                        float(np.mean([e["PronunciationAssessment"]["AccuracyScore"] for e in entries]))
                    ),
                    "ErrorType": error,
                },
                "Syllables": entries,
                "Phonemes": [],  # filled from Azure when it also scored the attempt
            }
        )
    return words
