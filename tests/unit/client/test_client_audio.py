"""Capture logic with a scripted input stream: trailing-silence stop, max length, device failures."""

from __future__ import annotations

import io
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest

from sayzhong.client import audio

BLOCK = int(audio.SAMPLE_RATE * audio.BLOCK_S)


def _tone(seconds: float, amplitude: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * audio.SAMPLE_RATE)) / audio.SAMPLE_RATE
    return (amplitude * 32767 * np.sin(2 * np.pi * 220 * t)).astype(np.int16)


def _silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * audio.SAMPLE_RATE), dtype=np.int16)


class ScriptedStream:
    """Serves a signal block by block, then silence; optionally fails after `fail_after` reads."""

    def __init__(self, signal: np.ndarray, *, fail_after: int | None = None) -> None:
        self.signal = signal
        self.pos = 0
        self.reads = 0
        self.fail_after = fail_after

    def read(self, frames: int) -> tuple[Any, bool]:
        self.reads += 1
        if self.fail_after is not None and self.reads > self.fail_after:
            raise OSError("Unanticipated host error [PaErrorCode -9999]: device unplugged")
        block = self.signal[self.pos : self.pos + frames]
        self.pos += frames
        if len(block) < frames:
            block = np.concatenate([block, np.zeros(frames - len(block), dtype=np.int16)])
        return block.reshape(-1, 1), False


def _opener(stream: ScriptedStream, *, fail_on_open: bool = False) -> Any:
    @contextmanager
    def open_stream(**kwargs: Any) -> Iterator[ScriptedStream]:
        assert kwargs["samplerate"] == audio.SAMPLE_RATE and kwargs["channels"] == 1
        if fail_on_open:
            raise OSError("Error opening InputStream: Device unavailable")
        yield stream

    return open_stream


def test_recording_stops_after_trailing_silence_and_keeps_the_speech() -> None:
    signal = np.concatenate([_silence(0.5), _tone(1.0), _silence(5.0)])
    stream = ScriptedStream(signal)
    take = audio.record(open_stream=_opener(stream), silence_s=1.0, max_seconds=15)
    assert take.stopped_by == "silence" and take.speech_detected
    # 0.5 s lead-in + 1.0 s speech + the kept 0.3 s of trailing quiet
    assert len(take.samples) == int((0.5 + 1.0 + audio.KEEP_TRAILING_S) * audio.SAMPLE_RATE)
    assert np.array_equal(take.samples[: len(signal[:24000])], signal[:24000])
    assert stream.reads < len(signal) // BLOCK


def test_recording_stops_at_the_maximum_length_when_nobody_pauses() -> None:
    take = audio.record(open_stream=_opener(ScriptedStream(_tone(30))), max_seconds=2.0)
    assert take.stopped_by == "max_length"
    assert take.duration_s == pytest.approx(2.0)


def test_silence_only_is_recorded_as_no_speech() -> None:
    take = audio.record(open_stream=_opener(ScriptedStream(_silence(1))), max_seconds=1.0)
    assert not take.speech_detected and take.peak_dbfs < -100


def test_the_level_meter_hears_each_block() -> None:
    levels: list[tuple[float, float, bool]] = []
    signal = np.concatenate([_silence(0.3), _tone(0.5), _silence(2)])
    audio.record(
        open_stream=_opener(ScriptedStream(signal)), on_level=lambda *a: levels.append(a), silence_s=0.5
    )
    assert levels[0][0] < -100 and max(level for level, _, _ in levels) > -15
    assert [round(t, 1) for _, t, _ in levels[:3]] == [0.1, 0.2, 0.3]
    assert levels[-1][2] is True


def test_a_device_failing_mid_recording_raises_a_clear_error() -> None:
    stream = ScriptedStream(_tone(5), fail_after=7)
    with pytest.raises(audio.DeviceFailedError) as caught:
        audio.record(open_stream=_opener(stream))
    assert caught.value.recorded_s == pytest.approx(0.7)
    assert "stopped working after 0.7 s" in caught.value.message
    assert caught.value.code == "device_failed"


def test_a_device_that_cannot_be_opened_is_reported_as_no_input() -> None:
    with pytest.raises(audio.NoInputDeviceError) as caught:
        audio.record(open_stream=_opener(ScriptedStream(_tone(1)), fail_on_open=True))
    assert "--wav FILE" in caught.value.message


def test_recording_is_encoded_as_16_bit_mono_wav() -> None:
    take = audio.record(open_stream=_opener(ScriptedStream(_tone(0.5))), max_seconds=0.5)
    with wave.open(io.BytesIO(take.wav_bytes())) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 16_000)
        assert np.array_equal(np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2"), take.samples)
    samples, rate = audio.decode_wav(take.wav_bytes())
    assert rate == 16_000 and np.array_equal(samples, take.samples)


def test_level_of_full_scale_and_silence() -> None:
    assert audio.level_dbfs(np.full(100, 32767, dtype=np.int16)) == pytest.approx(0.0, abs=0.01)
    assert audio.level_dbfs(np.zeros(100, dtype=np.int16)) == -120.0
