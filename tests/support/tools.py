"""Command-line tools the audio tests need; setup installs them, so a missing one fails the suite."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def require_tool(tool: str) -> str:
    """Absolute path of `tool`, or a test failure that says how to get it (never a skip)."""
    path = shutil.which(tool)
    if path is None:
        pytest.fail(
            f"{tool} is not installed: run ./scripts/setup.sh (it installs espeak-ng, sox and ffmpeg)"
        )
    return path


def espeak_wav(text: str, out: Path, *, voice: str = "cmn-latn-pinyin") -> Path:
    """`text` said by espeak-ng, written to `out` as 16 kHz mono 16-bit WAV.

    sox converts without dither (`-D`): its default dither is random, so the same text would
    give a slightly different take on every run and a test near a decision would pass or fail
    by chance. espeak's pauses stay exact digital silence, which the engine must handle."""
    raw = out.with_suffix(".espeak.wav")
    subprocess.run([require_tool("espeak-ng"), "-v", voice, "-w", str(raw), text], check=True)
    subprocess.run(
        [require_tool("sox"), str(raw), "-D", "-r", "16000", "-c", "1", "-b", "16", str(out)], check=True
    )
    raw.unlink()
    return out
