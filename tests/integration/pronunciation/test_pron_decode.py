"""Decoding every accepted container (files made with ffmpeg), truncated and overlong uploads."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from sayzhong.pronunciation.analysis import analyse
from sayzhong.pronunciation.audio import AudioCorruptError, AudioTooLongError, decode_audio
from sayzhong.pronunciation.text import expected_syllables

EXPECTED_CONTAINER = {"wav": "wav", "mp3": "mp3", "flac": "flac", "ogg": "ogg", "webm": "webm", "m4a": "mp4"}


@pytest.mark.parametrize("fmt", ["wav", "mp3", "flac", "ogg", "webm", "m4a"])
def test_each_container_decodes_to_the_same_audio(
    fmt: str, encode: Callable[[str], Path], speech_source: Path
) -> None:
    reference = decode_audio(speech_source.read_bytes())
    audio = decode_audio(encode(fmt).read_bytes())
    assert audio.container == EXPECTED_CONTAINER[fmt]
    assert audio.sample_rate == 16_000
    assert audio.duration_s == pytest.approx(reference.duration_s, abs=0.08)
    # The phrase is still found, and its tones still judged right, after lossy coding.
    expected = expected_syllables("我想喝茶")
    analysis = analyse(audio, expected)
    assert analysis.location.status == "ok"
    assert [j.probability_of(t) > 0.2 for j, t in zip(analysis.judgements, (2, 3, 1, 2), strict=True)] == [
        True
    ] * 4


def test_file_name_is_not_trusted(encode: Callable[[str], Path], tmp_path: Path) -> None:
    renamed = tmp_path / "recording.wav"
    renamed.write_bytes(encode("webm").read_bytes())
    assert decode_audio(renamed.read_bytes()).container == "webm"


def test_truncated_webm_header_is_corrupt(encode: Callable[[str], Path]) -> None:
    data = encode("webm").read_bytes()
    with pytest.raises(AudioCorruptError):
        decode_audio(data[:120])


def test_webm_cut_mid_stream_keeps_the_audio_it_has(encode: Callable[[str], Path]) -> None:
    data = encode("webm").read_bytes()
    audio = decode_audio(data[: int(len(data) * 0.7)])
    assert 0.3 < audio.duration_s < decode_audio(data).duration_s


def test_ten_minute_compressed_file_is_too_long(audio_dir: Path) -> None:
    out = audio_dir / "ten_minutes.ogg"
    subprocess.run(
        [
            "ffmpeg",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=220:duration=600",
            "-ac",
            "1",
            "-ar",
            "16000",
            "-c:a",
            "libopus",
            "-b:a",
            "6k",
            str(out),
        ],
        check=True,
    )
    data = out.read_bytes()
    assert len(data) < 5 * 1024 * 1024
    with pytest.raises(AudioTooLongError) as info:
        decode_audio(data)
    assert "30 seconds" in info.value.user_message


def test_espeak_phrase_decodes_and_has_speech(espeak_phrase: Callable[[str], Path]) -> None:
    audio = decode_audio(espeak_phrase("我想喝茶").read_bytes())
    assert audio.duration_s > 0.8
    assert float(np.abs(audio.samples).max()) > 0.05
