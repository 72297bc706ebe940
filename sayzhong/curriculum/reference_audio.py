"""Reference audio: the default espeak-ng voice, the on-disk cache, and pre-rendering.

Audio is cached under `DATA_DIR/reference-audio/<hash of voice id + text>.wav` (never committed).
`content render-audio` fills the cache at setup time; `reference_audio_path` renders on a miss.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sayzhong.curriculum.models import SpeakableItem
from sayzhong.curriculum.ports import ReferenceVoice
from sayzhong.errors import ServiceUnavailableError
from sayzhong.settings import Settings, get_settings

logger = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
CACHE_FOLDER = "reference-audio"


class ReferenceAudioError(ServiceUnavailableError):
    code = "reference_audio_unavailable"
    default_message = "The example recording is not available right now. You can still practise."


class EspeakReferenceVoice:
    """espeak-ng's Mandarin voice. Only `cmn-latn-pinyin` works (plain `cmn` reads tone digits)."""

    def __init__(self, *, voice: str = "cmn-latn-pinyin", variant: str = "", speed_wpm: int = 130) -> None:
        self.voice = f"{voice}+{variant}" if variant else voice
        self.speed_wpm = speed_wpm

    @property
    def voice_id(self) -> str:
        return f"espeak-ng:{self.voice}:s{self.speed_wpm}"

    def render(self, text: str, out_path: Path) -> str:
        espeak, sox = shutil.which("espeak-ng"), shutil.which("sox")
        if espeak is None or sox is None:
            raise ReferenceAudioError(user_message=None, code="reference_audio_tools_missing")
        with tempfile.TemporaryDirectory(prefix="sz-espeak-") as tmp:
            raw = Path(tmp) / "raw.wav"
            self._run([espeak, "-v", self.voice, "-s", str(self.speed_wpm), "-w", str(raw), text])
            self._run(
                [
                    sox,
                    str(raw),
                    "-r",
                    str(SAMPLE_RATE),
                    "-c",
                    "1",
                    "-b",
                    "16",
                    "-e",
                    "signed-integer",
                    str(out_path),
                ]
            )
        return self.voice_id

    @staticmethod
    def _run(command: list[str]) -> None:
        try:
            subprocess.run(command, check=True, capture_output=True, timeout=60)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
            stderr = getattr(exc, "stderr", b"") or b""
            logger.warning(
                "reference audio command failed: %s: %s", command[0], stderr.decode(errors="replace")
            )
            raise ReferenceAudioError() from exc


def cache_key(voice_id: str, text: str) -> str:
    return hashlib.sha256(f"{voice_id}\n{text}".encode()).hexdigest()[:40]


class ReferenceAudioStore:
    """Renders each (voice, text) once and keeps the WAV on disk."""

    def __init__(self, root: Path, voice: ReferenceVoice) -> None:
        self.root = root
        self.voice = voice

    def path_for(self, text: str, voice_id: str | None = None) -> Path:
        return self.root / f"{cache_key(voice_id or self.voice.voice_id, text)}.wav"

    def cached(self, text: str) -> Path | None:
        path = self.path_for(text)
        return path if path.exists() else None

    def ensure(self, text: str, *, force: bool = False) -> tuple[Path, bool]:
        """Path of the audio for `text`, rendering it if needed; the flag says it was rendered now."""
        path = self.path_for(text)
        if path.exists() and not force:
            return path, False
        self.root.mkdir(parents=True, exist_ok=True)
        handle, tmp_name = tempfile.mkstemp(prefix=".render-", suffix=".wav", dir=self.root)
        os.close(handle)
        tmp = Path(tmp_name)
        try:
            used_voice = self.voice.render(text, tmp)
            # A fallback voice's audio is filed under that voice, so the primary is retried later.
            final = self.path_for(text, used_voice)
            os.replace(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)
        return final, True


@dataclass
class RenderSummary:
    rendered: int = 0
    cached: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    """(item id, reason) for items whose audio could not be made."""


def render_all(
    store: ReferenceAudioStore, items: Iterable[SpeakableItem], *, force: bool = False
) -> RenderSummary:
    """Pre-render every item's reference audio; identical texts are rendered once."""
    summary = RenderSummary()
    done: set[str] = set()
    for item in items:
        if item.hanzi in done:
            summary.cached += 1
            continue
        try:
            _, rendered = store.ensure(item.hanzi, force=force)
        except ReferenceAudioError as exc:
            summary.failed.append((item.id, exc.user_message))
            continue
        done.add(item.hanzi)
        if rendered:
            summary.rendered += 1
        else:
            summary.cached += 1
    return summary


def get_reference_voice(settings: Settings | None = None) -> ReferenceVoice:
    """Azure's neural voice when Azure Speech is configured (falling back to espeak-ng), else espeak-ng."""
    settings = settings or get_settings()
    offline = EspeakReferenceVoice()
    if settings.azure_speech_key:
        from sayzhong.integrations.azure_tts import AzureReferenceVoice

        return AzureReferenceVoice.from_settings(settings, fallback=offline)
    return offline


def reference_audio_store(settings: Settings | None = None) -> ReferenceAudioStore:
    settings = settings or get_settings()
    return ReferenceAudioStore(settings.data_dir / CACHE_FOLDER, get_reference_voice(settings))


def reference_audio_path(text: str, settings: Settings | None = None) -> Path:
    """WAV of the reference voice saying `text` (hanzi), rendered on first use."""
    path, _ = reference_audio_store(settings).ensure(text)
    return path


def reference_audio_for_item(item_id: str, settings: Settings | None = None) -> Path:
    """WAV of the reference voice for a phrase, drill or dialogue line id (NotFoundError if unknown)."""
    from sayzhong.curriculum.service import get_item

    return reference_audio_path(get_item(item_id).hanzi, settings)
