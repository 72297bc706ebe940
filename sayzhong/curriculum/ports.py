"""Ports the curriculum depends on; adapters live in `reference_audio` and `sayzhong.integrations`."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol


class ReferenceVoice(Protocol):
    """Speaks Mandarin text (hanzi) as the model pronunciation a learner imitates."""

    @property
    def voice_id(self) -> str:
        """Stable name of the voice and its settings; part of the audio cache key."""
        ...

    def render(self, text: str, out_path: Path) -> str:
        """Write `text` spoken as a 16 kHz mono 16-bit PCM WAV file at `out_path`.

        Returns the `voice_id` of the voice that actually produced the audio (an adapter may
        fall back to another voice). Raises `ReferenceAudioError` when no audio can be made.
        """
        ...
