"""Reference audio: the on-disk cache of the reference voice's recordings, and pre-rendering.

Audio is cached under `DATA_DIR/reference-audio/<hash of voice id + text>.wav` (never committed).
`content render-audio` fills the cache at setup time; `reference_audio_path` renders on a miss.
Which voice speaks is chosen by `sayzhong.wiring.get_reference_voice` (espeak-ng offline, in
`curriculum/offline.py`; Azure's neural voice when configured).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sayzhong.curriculum.models import SpeakableItem
from sayzhong.curriculum.ports import ReferenceAudioError, ReferenceVoice
from sayzhong.settings import Settings, get_settings

CACHE_FOLDER = "reference-audio"


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


def reference_audio_store(
    settings: Settings | None = None, *, voice: ReferenceVoice | None = None
) -> ReferenceAudioStore:
    """The cache under DATA_DIR, spoken by `voice` (default: the one wiring picks from settings)."""
    from sayzhong import wiring

    settings = settings or get_settings()
    return ReferenceAudioStore(
        settings.data_dir / CACHE_FOLDER, voice or wiring.get_reference_voice(settings)
    )


def reference_audio_path(
    text: str, settings: Settings | None = None, *, voice: ReferenceVoice | None = None
) -> Path:
    """WAV of the reference voice saying `text` (hanzi), rendered on first use."""
    path, _ = reference_audio_store(settings, voice=voice).ensure(text)
    return path


def reference_audio_for_item(
    item_id: str, settings: Settings | None = None, *, voice: ReferenceVoice | None = None
) -> Path:
    """WAV of the reference voice for a phrase, drill or dialogue line id (NotFoundError if unknown)."""
    from sayzhong.curriculum.service import get_item

    return reference_audio_path(get_item(item_id).hanzi, settings, voice=voice)
