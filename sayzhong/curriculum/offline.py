"""Offline reference voice: espeak-ng's Mandarin voice, converted to 16 kHz mono WAV with sox.

The default adapter for `curriculum.ports.ReferenceVoice`; `sayzhong.wiring` chooses it unless
Azure Speech is configured (and the Azure voice falls back to it per render).
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from pathlib import Path

from sayzhong.curriculum.ports import ReferenceAudioError

logger = logging.getLogger(__name__)

SAMPLE_RATE = 16_000


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
