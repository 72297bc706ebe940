"""Pronunciation assessment service: text + audio → Azure-shaped result with tone verdicts.

``assess_pronunciation`` is the one entry point callers use (run it with ``asyncio.to_thread``;
it holds no shared mutable state). ``sayzhong.wiring.get_assessor(settings)`` picks the adapter:
Azure Speech when a key and a region/host are configured, else the offline engine
(``offline.OfflineAssessor``). The offline engine
always runs, because Azure gives no tone result for zh-CN; when Azure also answers, its
word/phoneme accuracy is merged with the offline tone verdicts (``Engine: azure+offline``).
If Azure fails, the offline result is returned and ``AzureFallbackReason`` says why.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np

from sayzhong.pronunciation import scoring
from sayzhong.pronunciation.audio import decode_audio
from sayzhong.pronunciation.offline import OfflineAssessor
from sayzhong.pronunciation.ports import AssessorUnavailableError
from sayzhong.pronunciation.profile import SpeakerProfile
from sayzhong.pronunciation.text import expected_syllables

if TYPE_CHECKING:
    from sayzhong.settings import Settings

log = logging.getLogger(__name__)

ENGINES = ("auto", "offline", "azure")


def assess_pronunciation(
    *,
    audio: bytes,
    text: str,
    reading: str | None = None,
    profile: SpeakerProfile | None = None,
    engine: str = "auto",
    settings: Settings | None = None,
) -> dict[str, Any]:
    """Score ``audio`` read against ``text``; raises TextError / AudioError for unusable input.

    ``reading``: the reviewed numbered pinyin of curriculum content; its tones are the expected ones
    (see ``text.expected_syllables``). Free text is read by the engine's own lexicon."""
    from sayzhong import wiring
    from sayzhong.errors import ValidationError
    from sayzhong.settings import get_settings

    if engine not in ENGINES:
        raise ValidationError(f"Unknown engine {engine!r}; use one of {', '.join(ENGINES)}.")
    settings = settings or get_settings()
    expected = expected_syllables(text, reading=reading)
    decoded = decode_audio(audio, max_bytes=settings.max_audio_bytes, max_seconds=settings.max_audio_seconds)
    offline = OfflineAssessor().assess(audio=decoded, text=text, expected=expected, profile=profile)
    if engine == "offline":
        return offline
    if engine == "auto" and not wiring.azure_configured(settings):
        return offline
    if not wiring.azure_configured(settings):
        offline["AzureFallbackReason"] = "not_configured"
        return offline
    if not any(len(s.grapheme) == 1 and "\u3400" <= s.grapheme <= "\u9fff" for s in expected):
        offline["AzureFallbackReason"] = "pinyin_text"  # Azure needs characters as reference text
        return offline
    assessor = wiring.get_assessor(settings)
    try:
        azure = assessor.assess(audio=decoded, text=text, expected=expected, profile=profile)
    except AssessorUnavailableError as exc:
        log.warning("azure assessment unavailable: %s %s", exc.reason, exc.detail)
        offline["AzureFallbackReason"] = exc.reason
        return offline
    return merge_azure(offline, azure)


def merge_azure(offline: dict[str, Any], azure: dict[str, Any]) -> dict[str, Any]:
    """Azure's word/phoneme accuracy, fluency and completeness + the offline tone verdicts."""
    try:
        a_best = azure["NBest"][0]
        a_words = a_best["Words"]
        a_pa = a_best.get("PronunciationAssessment") or {}
    except (KeyError, IndexError, TypeError):
        offline["AzureFallbackReason"] = "malformed_result"
        return offline
    best = offline["NBest"][0]
    # Spread each Azure word's characters over our syllables, in order.
    char_scores: list[tuple[float, str, dict[str, Any]]] = []
    for w in a_words:
        word = str(w.get("Word", ""))
        wpa = w.get("PronunciationAssessment") or {}
        if wpa.get("ErrorType") == "Insertion":
            continue  # said but not in the reference text (miscue): no syllable of ours
        for _ch in word:
            char_scores.append((float(wpa.get("AccuracyScore", 0.0)), str(wpa.get("ErrorType", "None")), w))
    syllables = [s for word in best["Words"] for s in word["Syllables"]]
    for i, syl in enumerate(syllables):
        if i >= len(char_scores):
            break
        acc, err, _a_word = char_scores[i]
        pa = syl["PronunciationAssessment"]
        if syl.get("ToneVerdict") == "not_said":
            syl["AzureAccuracyScore"] = round(acc)
            continue  # the offline aligner found no trace of it: it stays an omission
        syl["AzureAccuracyScore"] = round(acc)
        if err == "Omission":
            pa["AccuracyScore"], pa["ErrorType"] = 0, "Omission"
        elif syl["ToneScore"] is None:
            pa["AccuracyScore"] = round(acc)
            if err != "None":
                pa["ErrorType"] = err
        else:
            pa["AccuracyScore"] = round(0.5 * acc + 0.5 * syl["ToneScore"])
            if err != "None" and pa["ErrorType"] == "None":
                pa["ErrorType"] = err
    for word in best["Words"]:
        entries = word["Syllables"]
        word["PronunciationAssessment"]["AccuracyScore"] = round(
            float(np.mean([e["PronunciationAssessment"]["AccuracyScore"] for e in entries]))
        )
        phonemes: list[Any] = []
        seen: set[int] = set()
        for e in entries:
            idx = syllables.index(e)
            if idx < len(char_scores) and id(char_scores[idx][2]) not in seen:
                seen.add(id(char_scores[idx][2]))
                phonemes.extend(char_scores[idx][2].get("Phonemes") or [])
        word["Phonemes"] = phonemes
        errors = [e["PronunciationAssessment"]["ErrorType"] for e in entries]
        word["PronunciationAssessment"]["ErrorType"] = next((x for x in errors if x != "None"), "None")
    accuracy = float(np.mean([s["PronunciationAssessment"]["AccuracyScore"] for s in syllables]))
    fluency = float(a_pa.get("FluencyScore", best["PronunciationAssessment"]["FluencyScore"]))
    completeness = float(a_pa.get("CompletenessScore", best["PronunciationAssessment"]["CompletenessScore"]))
    best["PronunciationAssessment"].update(
        {
            "AccuracyScore": round(accuracy),
            "FluencyScore": round(fluency),
            "CompletenessScore": round(completeness),
            "PronScore": scoring.pron_score(accuracy, fluency, completeness),
            "AzureAccuracyScore": a_pa.get("AccuracyScore"),
            "AzurePronScore": a_pa.get("PronScore"),
        }
    )
    best["Lexical"] = a_best.get("Lexical", best["Lexical"])
    offline["Engine"] = "azure+offline"
    offline["AzureFallbackReason"] = None
    return offline
