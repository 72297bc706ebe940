"""Azure neural-voice reference audio (zh-CN-XiaoxiaoNeural) behind the curriculum's ReferenceVoice port.

Used when AZURE_SPEECH_KEY is set. Any Azure failure (no network, bad key, timeout) falls back to
the offline voice, and Azure is skipped for a while afterwards so a bulk render does not wait on
every item.
"""

from __future__ import annotations

import io
import logging
import threading
import time
import wave
from pathlib import Path
from typing import Any

from sayzhong.curriculum.ports import ReferenceVoice
from sayzhong.settings import Settings

logger = logging.getLogger(__name__)

DEFAULT_VOICE = "zh-CN-XiaoxiaoNeural"
SAMPLE_RATE = 16_000


class AzureSynthesisFailed(Exception):
    pass


class AzureReferenceVoice:
    def __init__(
        self,
        *,
        key: str,
        fallback: ReferenceVoice,
        region: str = "",
        host: str = "",
        voice_name: str = DEFAULT_VOICE,
        timeout_s: float = 4.0,
        retry_after_s: float = 300.0,
    ) -> None:
        self.key = key
        self.region = region
        self.host = host
        self.voice_name = voice_name
        self.timeout_s = timeout_s
        self.retry_after_s = retry_after_s
        self.fallback = fallback
        self._skip_until = 0.0

    @classmethod
    def from_settings(cls, settings: Settings, *, fallback: ReferenceVoice) -> AzureReferenceVoice:
        return cls(
            key=settings.azure_speech_key,
            region=settings.azure_speech_region,
            host=settings.azure_speech_host,
            timeout_s=settings.azure_timeout_s,
            fallback=fallback,
        )

    @property
    def voice_id(self) -> str:
        return f"azure:{self.voice_name}"

    def build_config(self) -> Any:
        """The SDK's SpeechConfig; constructing it needs no network."""
        import azure.cognitiveservices.speech as speechsdk

        if self.host:
            config = speechsdk.SpeechConfig(host=self.host, subscription=self.key)
        else:
            config = speechsdk.SpeechConfig(subscription=self.key, region=self.region)
        config.speech_synthesis_voice_name = self.voice_name
        config.set_speech_synthesis_output_format(speechsdk.SpeechSynthesisOutputFormat.Riff16Khz16BitMonoPcm)
        return config

    def render(self, text: str, out_path: Path) -> str:
        if time.monotonic() < self._skip_until:
            return self.fallback.render(text, out_path)
        try:
            audio = self._synthesize(text)
        except Exception as exc:  # any SDK or network failure: the offline voice still works
            logger.warning("Azure speech synthesis failed, using %s: %s", self.fallback.voice_id, exc)
            self._skip_until = time.monotonic() + self.retry_after_s
            return self.fallback.render(text, out_path)
        out_path.write_bytes(_as_wav(audio))
        return self.voice_id

    def _synthesize(self, text: str) -> bytes:
        import azure.cognitiveservices.speech as speechsdk

        synthesizer = speechsdk.SpeechSynthesizer(speech_config=self.build_config(), audio_config=None)
        future = synthesizer.speak_text_async(text)
        outcome: dict[str, Any] = {}

        def wait() -> None:
            try:
                outcome["result"] = future.get()
            except Exception as exc:
                outcome["error"] = exc

        waiter = threading.Thread(target=wait, daemon=True)
        waiter.start()
        waiter.join(self.timeout_s)
        if waiter.is_alive():
            raise AzureSynthesisFailed(f"no answer within {self.timeout_s} s")
        if "error" in outcome:
            raise AzureSynthesisFailed(str(outcome["error"]))
        result = outcome["result"]
        if result.reason != speechsdk.ResultReason.SynthesizingAudioCompleted:
            details = getattr(result, "cancellation_details", None)
            reason = getattr(details, "error_details", "") or str(result.reason)
            raise AzureSynthesisFailed(reason)
        data = bytes(result.audio_data)
        if not data:
            raise AzureSynthesisFailed("empty audio")
        return data


def _as_wav(audio: bytes) -> bytes:
    """The RIFF format already carries a WAV header; wrap bare PCM just in case."""
    if audio[:4] == b"RIFF":
        return audio
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(audio)
    return buffer.getvalue()
