"""Azure Speech pronunciation assessment (zh-CN) with the real ``azure-cognitiveservices-speech`` SDK.

Scripted assessment: HundredMark grading, Phoneme granularity, miscue on. The decoded 16 kHz
mono PCM is pushed through a ``PushAudioInputStream``. Every failure — cancellation,
connection failure, no match, the time budget running out, a result that is not the
expected JSON or carries a score that is not a number from 0 to 100 — raises
``AssessorUnavailableError`` with a short ``reason``; the service
then falls back to the offline engine and records that reason in the result.

Keys and endpoint come only from settings (``AZURE_SPEECH_KEY`` + ``AZURE_SPEECH_REGION``,
or ``AZURE_SPEECH_HOST`` such as ``ws://127.0.0.1:PORT`` for the local test server).
"""

from __future__ import annotations

import json
import logging
import math
import threading
from typing import Any

import numpy as np

from sayzhong.pronunciation.audio import DecodedAudio
from sayzhong.pronunciation.ports import AssessorUnavailableError
from sayzhong.pronunciation.profile import SpeakerProfile
from sayzhong.pronunciation.text import ExpectedSyllable

log = logging.getLogger(__name__)

LANGUAGE = "zh-CN"


class AzureSpeechAssessor:
    name = "azure"

    def __init__(self, *, key: str, region: str = "", host: str = "", timeout_s: float = 4.0) -> None:
        if not key or not (region or host):
            raise ValueError("Azure Speech needs a key and a region or host")
        self._key = key
        self._region = region
        self._host = host
        self.timeout_s = timeout_s

    def __repr__(self) -> str:  # never show the key
        return (
            f"AzureSpeechAssessor(region={self._region!r}, host={self._host!r}, timeout_s={self.timeout_s})"
        )

    def _speech_config(self) -> Any:
        import azure.cognitiveservices.speech as speechsdk

        if self._host:
            config = speechsdk.SpeechConfig(host=self._host, subscription=self._key)
        else:
            config = speechsdk.SpeechConfig(subscription=self._key, region=self._region)
        config.speech_recognition_language = LANGUAGE
        return config

    def assess(
        self,
        *,
        audio: DecodedAudio,
        text: str,
        expected: list[ExpectedSyllable],
        profile: SpeakerProfile | None = None,
    ) -> dict[str, Any]:
        import azure.cognitiveservices.speech as speechsdk

        reference = "".join(s.grapheme for s in expected)
        try:
            fmt = speechsdk.audio.AudioStreamFormat(
                samples_per_second=audio.sample_rate, bits_per_sample=16, channels=1
            )
            stream = speechsdk.audio.PushAudioInputStream(stream_format=fmt)
            recognizer = speechsdk.SpeechRecognizer(
                speech_config=self._speech_config(),
                audio_config=speechsdk.audio.AudioConfig(stream=stream),
                language=LANGUAGE,
            )
            pa_config = speechsdk.PronunciationAssessmentConfig(
                reference_text=reference,
                grading_system=speechsdk.PronunciationAssessmentGradingSystem.HundredMark,
                granularity=speechsdk.PronunciationAssessmentGranularity.Phoneme,
                enable_miscue=True,
            )
            pa_config.apply_to(recognizer)
            pcm = (np.clip(audio.samples, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()
            stream.write(pcm)
            stream.close()
            future = recognizer.recognize_once_async()
        except (RuntimeError, ValueError) as exc:
            raise AssessorUnavailableError("sdk_error", str(exc)) from exc

        # The SDK's future has no timeout: wait for it on a helper thread and give up after the
        # budget. The helper ends when the SDK gives up on its side.
        # The helper thread also owns the recognizer: destroying it blocks until the SDK has
        # finished, which must not happen on the caller's thread after a timeout.
        done = threading.Event()
        box: dict[str, Any] = {}
        owned = [recognizer, stream, future]
        del recognizer, stream, future, pa_config

        def wait_for_result() -> None:
            try:
                box["result"] = owned[2].get()
            except Exception as exc:  # the SDK raises plain RuntimeError subclasses
                box["error"] = exc
            finally:
                done.set()
                owned.clear()

        threading.Thread(target=wait_for_result, name="azure-speech-wait", daemon=True).start()
        if not done.wait(self.timeout_s):
            raise AssessorUnavailableError("timeout", f"no result within {self.timeout_s:g} s")
        if "error" in box:
            raise AssessorUnavailableError("sdk_error", str(box["error"]))
        return parse_result(box["result"])


def parse_result(result: Any) -> dict[str, Any]:
    """The assessment JSON of a finished recognition, or AssessorUnavailableError saying why not."""
    import azure.cognitiveservices.speech as speechsdk

    if result.reason == speechsdk.ResultReason.Canceled:
        details = speechsdk.CancellationDetails(result)
        code = getattr(details.code, "name", str(details.code))
        reason = "connection_failure" if code == "ConnectionFailure" else "canceled"
        raise AssessorUnavailableError(reason, f"{code}: {details.error_details}")
    if result.reason == speechsdk.ResultReason.NoMatch:
        raise AssessorUnavailableError("no_match", "Azure recognised no speech")
    if result.reason != speechsdk.ResultReason.RecognizedSpeech:
        raise AssessorUnavailableError("unexpected_result", str(result.reason))
    raw = result.properties.get(speechsdk.PropertyId.SpeechServiceResponse_JsonResult)
    try:
        data = json.loads(raw or "")
    except json.JSONDecodeError as exc:
        raise AssessorUnavailableError("malformed_result", f"not JSON: {exc}") from exc
    problem = result_problem(data)
    if problem is not None:
        raise AssessorUnavailableError("malformed_result", problem)
    return data


def _score_problem(value: Any, where: str, *, required: bool) -> str | None:
    """Why `value` is not a 0–100 score (None when it is, or when it may be absent and is)."""
    if value is None and not required:
        return None
    # bool is an int in Python, but `true` is no score; strings are refused, not parsed.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"{where} is not a number: {value!r}"
    if not math.isfinite(value) or not 0 <= value <= 100:
        return f"{where} is outside 0-100: {value!r}"
    return None


def result_problem(data: Any) -> str | None:
    """What makes an assessment JSON unusable, or None when every field we read has the right type.

    Checked field by field, before any of it is merged with the offline result: Azure's answer is
    input from outside, and a bad score must become a fallback, never an exception.
    """
    if not isinstance(data, dict):
        return "result is not an object"
    nbest = data.get("NBest")
    if not isinstance(nbest, list) or not nbest or not isinstance(nbest[0], dict):
        return "NBest is missing or empty"
    best = nbest[0]
    overall = best.get("PronunciationAssessment")
    if not isinstance(overall, dict):
        return "NBest[0].PronunciationAssessment is not an object"
    for key in ("AccuracyScore", "FluencyScore", "CompletenessScore", "PronScore"):
        if problem := _score_problem(overall.get(key), f"overall {key}", required=False):
            return problem
    if not isinstance(best.get("Lexical", ""), str):
        return "Lexical is not text"
    words = best.get("Words")
    if not isinstance(words, list):
        return "Words is not a list"
    for i, word in enumerate(words):
        if not isinstance(word, dict) or not isinstance(word.get("Word"), str):
            return f"word {i} has no text"
        assessment = word.get("PronunciationAssessment")
        if not isinstance(assessment, dict):
            return f"word {i} has no assessment"
        if problem := _score_problem(assessment.get("AccuracyScore"), f"word {i} accuracy", required=True):
            return problem
        if not isinstance(assessment.get("ErrorType", "None"), str):
            return f"word {i} ErrorType is not text"
        phonemes = word.get("Phonemes", [])
        if not isinstance(phonemes, list):
            return f"word {i} Phonemes is not a list"
        for j, phoneme in enumerate(phonemes):
            score = phoneme.get("PronunciationAssessment", {}) if isinstance(phoneme, dict) else None
            if not isinstance(score, dict):
                return f"word {i} phoneme {j} is not an object"
            where = f"word {i} phoneme {j} accuracy"
            if problem := _score_problem(score.get("AccuracyScore"), where, required=False):
                return problem
    return None
