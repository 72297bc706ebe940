"""Ports the curriculum depends on; adapters live in `curriculum/offline.py` and `sayzhong.integrations`."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from sayzhong.errors import ServiceUnavailableError


class ReferenceAudioError(ServiceUnavailableError):
    """No reference audio can be made (tools missing, the voice failed); practice goes on without it."""

    code = "reference_audio_unavailable"
    default_message = "The example recording is not available right now. You can still practise."


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
