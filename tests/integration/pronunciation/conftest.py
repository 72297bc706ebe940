"""Session-cached audio fixtures made with espeak-ng, sox and ffmpeg in a temporary folder."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.human_speech import syllable_take
from tests.support.tools import espeak_wav, require_tool

CODECS = {
    "wav": [],
    "mp3": ["-c:a", "libmp3lame", "-b:a", "64k"],
    "flac": ["-c:a", "flac"],
    "ogg": ["-c:a", "libopus", "-b:a", "32k"],
    "webm": ["-c:a", "libopus", "-b:a", "32k"],
    "m4a": ["-c:a", "aac", "-b:a", "64k"],
}


@pytest.fixture(scope="session")
def audio_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pron_audio")


@pytest.fixture(scope="session")
def speech_source(audio_dir: Path) -> Path:
    """我想喝茶 (wo2 xiang3 he1 cha2) said by a native speaker, syllable by syllable."""
    path = audio_dir / "wo_xiang_he_cha.wav"
    path.write_bytes(syllable_take("wo2 xiang3 he1 cha2"))
    return path


@pytest.fixture(scope="session")
def encode(audio_dir: Path, speech_source: Path) -> Callable[[str], Path]:
    cache: dict[str, Path] = {}

    def make(fmt: str) -> Path:
        if fmt not in cache:
            ffmpeg = require_tool("ffmpeg")
            out = audio_dir / f"speech.{fmt}"
            subprocess.run(
                [ffmpeg, "-loglevel", "error", "-y", "-i", str(speech_source), *CODECS[fmt], str(out)],
                check=True,
            )
            cache[fmt] = out
        return cache[fmt]

    return make


@pytest.fixture(scope="session")
def espeak_phrase(audio_dir: Path) -> Callable[[str], Path]:
    cache: dict[str, Path] = {}

    def make(text: str) -> Path:
        if text not in cache:
            cache[text] = espeak_wav(text, audio_dir / f"espeak_{len(cache)}.wav")
        return cache[text]

    return make
