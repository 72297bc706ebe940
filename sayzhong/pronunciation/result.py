"""The result JSON: Azure's pronunciation-assessment shape plus SayZhong's tone extension.

Shape (see docs/pronunciation.md for every field)::

    {"RecognitionStatus": "Success", "Offset": ticks, "Duration": ticks, "DisplayText": text,
     "Engine": "offline" | "azure+offline", "Normalisation": "profile" | "utterance" | "shape-only",
     "SpeakerProfileUsed": bool, "AzureFallbackReason": str | None, "SchemaVersion": 2,
     "Utterance": {"Status": "ok" | "no_speech" | "different_text" | "partial" | "extra_speech",
                   "Message": str | None, "Presence", "MissingSyllables": [index], "Aligner"},
     "Warnings": ["clipped", ...],
     "NBest": [{"Confidence", "Lexical", "Display",
                "PronunciationAssessment": {AccuracyScore, FluencyScore, CompletenessScore,
                                            PronScore, ToneScore},
                "Words": [{"Word", "Offset", "Duration",
                           "PronunciationAssessment": {AccuracyScore, ErrorType},
                           "Syllables": [{"Syllable", "Grapheme", "Offset", "Duration",
                                          "PronunciationAssessment": {AccuracyScore, ErrorType},
                                          "Presence", "NeutralCheck",
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
from sayzhong.pronunciation.classifier import Thresholds
from sayzhong.pronunciation.text import ExpectedSyllable

SCHEMA_VERSION = 2
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
    contour: SyllableContour | None,
    norm: Normalisation,
    tone: int,
    placed: SyllableContour | None,
    last: bool,
) -> dict[str, Any]:
    """Learner and target contours over the syllable's final: the same frames that were judged."""
    learner: list[list[float]] = []
    if contour is not None and contour.values_st.size:
        idx = np.linspace(0, contour.values_st.size - 1, min(12, contour.values_st.size)).round().astype(int)
        chao = to_chao(contour.values_st[idx], norm)
        learner = [
            [round(float(t) * 1000), round(float(c), 2)]
            for t, c in zip(contour.times[idx], chao, strict=True)
        ]
    target: list[list[float]] = []
    if tone in CHAO_TARGETS and placed is not None:
        start_s, end_s = placed.span.final_start_s, placed.span.end_s
        points = CHAO_TARGETS[tone] if (tone != 3 or last) else HALF_THIRD
        target = [[round((start_s + r * (end_s - start_s)) * 1000), level] for r, level in points]
    return {"Scale": "chao", "TimeUnit": "ms", "Learner": learner, "Target": target}


UTTERANCE_MESSAGES = {
    "no_speech": "We didn't hear any speech. Check your microphone and say “{text}”.",
    "different_text": "We didn't hear “{text}” — try again.",
    "partial": "{missing} not heard — say the whole phrase.",
    "extra_speech": "We heard more than “{text}”; only the phrase was scored.",
}


def _missing_phrase(expected: list[ExpectedSyllable], missing: list[int]) -> str:
    n = len(missing)
    graphemes = "".join(expected[i].grapheme for i in missing) if n <= 4 else ""
    if missing and missing == list(range(len(expected) - n, len(expected))):
        what = "The last syllable" if n == 1 else f"The last {n} syllables"
    elif missing and missing == list(range(n)):
        what = "The first syllable" if n == 1 else f"The first {n} syllables"
    else:
        what = "One syllable" if n == 1 else f"{n} syllables"
    return (
        f"{what} ({graphemes}) were"
        if graphemes and n > 1
        else (f"{what} ({graphemes}) was" if graphemes else f"{what} were")
    )


def _contiguous_edge(said: list[bool]) -> bool:
    """True when the said syllables are one run at the start or the end (a take cut short)."""
    if not any(said):
        return False
    first = said.index(True)
    last = len(said) - 1 - said[::-1].index(True)
    return all(said[first : last + 1]) and (first == 0 or last == len(said) - 1)


def utterance_summary(
    expected: list[ExpectedSyllable], analysis: Analysis, said: list[bool]
) -> dict[str, Any]:
    """Whether the expected text was said, in one status and one plain sentence."""
    status = analysis.location.status
    if analysis.contours is None and status != "no_speech":
        status = "no_speech"
    missing = [i for i, ok in enumerate(said) if not ok]
    if status in ("ok", "extra_speech") and missing:
        status = "partial"
    if status == "partial" and not missing:
        status = "ok"
    if status == "partial" and len(missing) * 2 > len(expected) and not _contiguous_edge(said):
        # Most of the phrase missing, and what matched is scattered: something else was said.
        status = "different_text"
    text = (
        "".join(s.grapheme for s in expected)
        if all(len(s.grapheme) == 1 for s in expected)
        else " ".join(s.grapheme for s in expected)
    )
    template = UTTERANCE_MESSAGES.get(status)
    message = (
        None if template is None else template.format(text=text, missing=_missing_phrase(expected, missing))
    )
    return {
        "Status": status,
        "Message": message,
        "Presence": round(analysis.location.utterance_presence, 3),
        "MissingSyllables": missing,
        "Aligner": analysis.location.aligner,
    }


def build_offline_result(
    *,
    text: str,
    expected: list[ExpectedSyllable],
    audio: DecodedAudio,
    analysis: Analysis,
    profile_used: bool,
) -> dict[str, Any]:
    norm = analysis.normalisation
    thresholds = analysis.thresholds
    contours = analysis.contours
    said = [contours is not None and contours[i].span.said for i in range(len(expected))]
    utterance = utterance_summary(expected, analysis, said)
    not_said_at_all = utterance["Status"] in ("no_speech", "different_text") or contours is None
    if not_said_at_all:
        said = [False] * len(expected)
        utterance["MissingSyllables"] = list(range(len(expected)))
    syllables: list[dict[str, Any]] = []
    for i, (syl, judgement) in enumerate(zip(expected, analysis.judgements, strict=True)):
        contour = contours[i] if contours is not None else None
        syllables.append(
            _syllable_entry(
                syl,
                judgement if said[i] else ToneJudgement(None),
                contour,
                norm,
                said[i],
                thresholds,
                last=i + 1 == len(expected),
                neutral_ratio=_neutral_ratio(contours, i) if said[i] else None,
            )
        )
    words = _group_words(expected, syllables)
    judged = [s for s in syllables if s["ToneVerdict"] in ("correct", "uncertain", "wrong")]
    accuracy = float(np.mean([s["PronunciationAssessment"]["AccuracyScore"] for s in syllables]))
    completeness = 100.0 * sum(said) / len(said)
    spoken = [c for c, ok in zip(contours or [], said, strict=False) if ok]
    if spoken:
        first_s, last_s = spoken[0].span.start_s, spoken[-1].span.end_s
        speech_s = max(0.0, last_s - first_s)
        step = analysis.track.step
        pauses = scoring.count_long_pauses(
            analysis.track, int(first_s / step), max(int(first_s / step) + 1, int(last_s / step))
        )
        fluency = scoring.fluency_score(len(spoken), speech_s, pauses)
        # Fluency of a phrase that was only partly said cannot exceed how much of it was said.
        fluency = round(min(fluency, completeness))
        offset_s = first_s
    else:
        speech_s, fluency, offset_s = 0.0, 0, 0.0
    tone_mean = float(np.mean([s["ToneScore"] for s in judged])) if judged else None
    lexical = " ".join(s.pinyin for s in expected)
    return {
        "SchemaVersion": SCHEMA_VERSION,
        "RecognitionStatus": "Success" if not not_said_at_all else "NoMatch",
        "Engine": "offline",
        "Normalisation": norm.mode,
        "SpeakerProfileUsed": profile_used,
        "AzureFallbackReason": None,
        "Utterance": utterance,
        "Warnings": list(audio.warnings),
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
                "Words": words + _insertions(analysis, utterance["Status"]),
            }
        ],
    }


def _insertions(analysis: Analysis, status: str) -> list[dict[str, Any]]:
    """Azure marks words said beyond the reference text as ``Insertion``; we cannot name them."""
    if status != "extra_speech" or not analysis.location.extra:
        return []
    return [
        {
            "Word": "…",
            "Offset": _ticks(start),
            "Duration": _ticks(end - start),
            "PronunciationAssessment": {"AccuracyScore": 0, "ErrorType": "Insertion"},
            "Syllables": [],
            "Phonemes": [],
        }
        for start, end in analysis.location.extra
    ]


def _neutral_ratio(contours: list[SyllableContour] | None, i: int) -> float | None:
    """Length of syllable ``i`` relative to the median of the phrase's other syllables."""
    if contours is None or len(contours) < 2:
        return None
    others = [c.span.end_s - c.span.start_s for j, c in enumerate(contours) if j != i and c.span.said]
    if not others:
        return None
    own = contours[i].span.end_s - contours[i].span.start_s
    return own / float(np.median(others))


NEUTRAL_LONG_RATIO = 1.15


def _syllable_entry(
    syl: ExpectedSyllable,
    judgement: ToneJudgement,
    contour: SyllableContour | None,
    norm: Normalisation,
    said: bool,
    thresholds: Thresholds,
    *,
    last: bool,
    neutral_ratio: float | None,
) -> dict[str, Any]:
    neutral_check = None
    if not said:
        verdict, tone_score, detected, conf = "not_said", None, None, None
        accuracy, error = 0, "Omission"
    elif not syl.judged:
        verdict, tone_score, detected, conf = "not_judged", None, None, None
        accuracy, error = 100, "None"
        # A neutral tone is judged only for being light and short.
        if neutral_ratio is not None:
            neutral_check = "long" if neutral_ratio > NEUTRAL_LONG_RATIO else "light"
    elif judgement.probabilities is None:
        verdict, tone_score, detected, conf = "undecidable", None, None, 0.0
        accuracy, error = 0, "Mispronunciation"
    else:
        # Optional sandhi: every accepted tone counts as right.
        p = min(1.0, sum(judgement.probability_of(t) for t in syl.accepted_tones))
        tone_score = scoring.tone_score(p, thresholds)
        verdict = scoring.tone_verdict(p, thresholds)
        detected = judgement.detected
        if verdict == "correct" and detected not in syl.accepted_tones:
            detected = None  # "correct" means the expected tone was heard; do not contradict it
        conf = round(judgement.confidence, 3)
        accuracy, error = tone_score, ("Mispronunciation" if verdict == "wrong" else "None")
    start_s = contour.span.start_s if contour is not None else 0.0
    dur_s = (contour.span.end_s - contour.span.start_s) if contour is not None else 0.0
    return {
        "Syllable": syl.pinyin,
        "Grapheme": syl.grapheme,
        "Offset": _ticks(start_s),
        "Duration": _ticks(dur_s),
        "PronunciationAssessment": {"AccuracyScore": accuracy, "ErrorType": error},
        "Presence": None if contour is None else round(contour.span.presence, 3),
        "ExpectedTone": syl.surface_tone,
        "AcceptedTones": list(syl.accepted_tones) if syl.judged else [],
        "DictionaryTone": syl.dictionary_tone,
        "DetectedTone": detected,
        "ToneScore": tone_score,
        "ToneConfidence": conf,
        "ToneVerdict": verdict,
        "NeutralCheck": neutral_check,
        "ToneProbabilities": None
        if judgement.probabilities is None
        else [round(float(x), 3) for x in judgement.probabilities],
        "Contour": _contour(contour if said else None, norm, syl.surface_tone, contour, last),
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
