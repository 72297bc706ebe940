"""Real takes for practice integration tests: espeak-ng speech converted with sox/ffmpeg."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from sayzhong.settings import Settings
from tests.factories import UserFactory
from tests.support.tools import espeak_wav, require_tool


@pytest.fixture(autouse=True)
def _test_settings(settings: Settings) -> Settings:
    return settings


@pytest.fixture(scope="session")
def speak(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., bytes]:
    """`speak("你好")` → 16 kHz mono WAV bytes; `speak("你好", fmt="webm")` → Opus in WebM."""
    folder = tmp_path_factory.mktemp("practice_takes")
    cache: dict[tuple[str, str, str], bytes] = {}

    def make(text: str, *, fmt: str = "wav", voice: str = "cmn-latn-pinyin") -> bytes:
        key = (text, fmt, voice)
        if key not in cache:
            stem = f"take{len(cache)}"
            wav = espeak_wav(text, folder / f"{stem}.wav", voice=voice)
            out: Path = wav
            if fmt != "wav":
                out = folder / f"{stem}.{fmt}"
                codec = ["-c:a", "libopus", "-b:a", "32k"] if fmt == "webm" else []
                subprocess.run(
                    [require_tool("ffmpeg"), "-loglevel", "error", "-y", "-i", str(wav), *codec, str(out)],
                    check=True,
                )
            cache[key] = out.read_bytes()
        return cache[key]

    return make


@pytest.fixture
def learner(make_user: UserFactory) -> int:
    return make_user("speaker@example.com", name="Speaker", timezone="Europe/London").id
