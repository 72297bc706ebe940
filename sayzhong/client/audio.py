"""Microphone capture and playback through `sounddevice` (PortAudio).

`record()` reads 100 ms blocks of 16 kHz mono 16-bit audio from the default or a chosen input
device, reports each block's level (for the live meter), and stops once speech has been heard and
followed by `silence_s` of quiet, or at `max_seconds`. Silence is measured in samples, not wall
time, so it behaves the same on a real microphone and on a virtual one that is not real-time paced.

`sounddevice` is imported lazily: importing it initialises PortAudio, which reads the ALSA
configuration of the moment, and the rest of the client must work on machines without audio.
"""

from __future__ import annotations

import io
import math
import wave
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from sayzhong.client.api import ClientError
from sayzhong.pronunciation.audio import encode_wav

SAMPLE_RATE = 16_000
BLOCK_S = 0.1
SPEECH_DBFS = -40.0
"""A block louder than this counts as speech (quiet rooms sit near -60 dBFS, speech near -30..-10)."""
MIN_SPEECH_BLOCKS = 2
DEFAULT_MAX_SECONDS = 15.0
DEFAULT_SILENCE_S = 1.2
KEEP_TRAILING_S = 0.3
NO_INPUT_HELP = (
    "Connect a microphone (or choose one with --device N; `sayzhong-client devices` lists them), "
    "or submit a recording with --wav FILE."
)


class AudioDeviceError(ClientError):
    pass


class NoInputDeviceError(AudioDeviceError):
    def __init__(self, detail: str = "No microphone was found.") -> None:
        super().__init__(f"{detail} {NO_INPUT_HELP}", code="no_input_device")


class DeviceFailedError(AudioDeviceError):
    def __init__(self, detail: str, *, recorded_s: float) -> None:
        self.recorded_s = recorded_s
        super().__init__(
            f"The microphone stopped working after {recorded_s:.1f} s of recording ({detail}). "
            "Check that it is still connected, then try again.",
            code="device_failed",
        )


class NoSpeechError(ClientError):
    def __init__(self, peak_dbfs: float) -> None:
        super().__init__(
            f"We did not hear any speech (loudest sound {peak_dbfs:.0f} dBFS). Check that the right "
            "microphone is on and not muted (`sayzhong-client devices`), then speak the phrase.",
            code="no_speech",
        )


class InputStreamLike(Protocol):
    def read(self, frames: int) -> tuple[Any, bool]: ...


StreamOpener = Callable[..., AbstractContextManager[InputStreamLike]]
LevelCallback = Callable[[float, float, bool], None]
"""(block level in dBFS, seconds recorded so far, speech heard yet)"""


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    index: int
    name: str
    hostapi: str
    max_input_channels: int
    max_output_channels: int
    default_samplerate: float
    is_default_input: bool
    is_default_output: bool


@dataclass(frozen=True, slots=True)
class Recording:
    samples: npt.NDArray[np.int16]
    sample_rate: int
    peak_dbfs: float
    speech_detected: bool
    stopped_by: str
    """"silence" (trailing quiet after speech) or "max_length"."""
    device: str

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate

    def wav_bytes(self) -> bytes:
        return encode_wav(self.samples, self.sample_rate)


def decode_wav(data: bytes) -> tuple[npt.NDArray[np.int16], int]:
    """16-bit PCM WAV to mono int16 samples (the reference audio the server sends)."""
    with wave.open(io.BytesIO(data), "rb") as src:
        if src.getsampwidth() != 2:
            raise ValueError("only 16-bit WAV is supported")
        frames = np.frombuffer(src.readframes(src.getnframes()), dtype="<i2")
        channels = src.getnchannels()
        rate = src.getframerate()
    if channels > 1:
        frames = frames.reshape(-1, channels).mean(axis=1).astype(np.int16)
    return frames.astype(np.int16), rate


def level_dbfs(block: npt.NDArray[Any]) -> float:
    if block.size == 0:
        return -120.0
    x = block.astype(np.float64) / 32768.0
    rms = math.sqrt(float(np.mean(x * x)))
    return max(-120.0, 20.0 * math.log10(rms)) if rms > 0 else -120.0


def _sounddevice() -> ModuleType:
    try:
        import sounddevice
    except OSError as exc:  # libportaudio missing
        raise NoInputDeviceError(f"Audio is not available on this computer ({exc}).") from None
    return sounddevice


def list_devices() -> list[DeviceInfo]:
    sd = _sounddevice()
    try:
        raw = sd.query_devices()
        hostapis = sd.query_hostapis()
    except sd.PortAudioError:
        return []
    default_in, default_out = _defaults(sd)
    devices = []
    for dev in raw:
        devices.append(
            DeviceInfo(
                index=int(dev["index"]),
                name=str(dev["name"]),
                hostapi=str(hostapis[dev["hostapi"]]["name"]),
                max_input_channels=int(dev["max_input_channels"]),
                max_output_channels=int(dev["max_output_channels"]),
                default_samplerate=float(dev["default_samplerate"]),
                is_default_input=int(dev["index"]) == default_in,
                is_default_output=int(dev["index"]) == default_out,
            )
        )
    return devices


def _defaults(sd: ModuleType) -> tuple[int, int]:
    try:
        default_in, default_out = sd.default.device
    except (TypeError, ValueError):
        return -1, -1
    return (
        int(default_in if default_in is not None else -1),
        int(default_out if default_out is not None else -1),
    )


def _pick(devices: list[DeviceInfo], device: int | str | None, *, kind: str) -> DeviceInfo | None:
    channels = (lambda d: d.max_input_channels) if kind == "input" else (lambda d: d.max_output_channels)
    if device is None:
        flag = (lambda d: d.is_default_input) if kind == "input" else (lambda d: d.is_default_output)
        default = next((d for d in devices if flag(d) and channels(d) > 0), None)
        return default
    if isinstance(device, int) or (isinstance(device, str) and device.isdigit()):
        index = int(device)
        return next((d for d in devices if d.index == index), None)
    matches = [d for d in devices if str(device).lower() in d.name.lower() and channels(d) > 0]
    return matches[0] if matches else None


def resolve_input(device: int | str | None = None) -> DeviceInfo:
    devices = list_devices()
    chosen = _pick(devices, device, kind="input")
    if chosen is None:
        if device is None:
            raise NoInputDeviceError()
        raise NoInputDeviceError(f"There is no audio device {device!r}.")
    if chosen.max_input_channels < 1:
        raise NoInputDeviceError(f"Device {chosen.index} ({chosen.name}) has no microphone input.")
    return chosen


def resolve_output(device: int | str | None = None) -> DeviceInfo | None:
    try:
        chosen = _pick(list_devices(), device, kind="output")
    except NoInputDeviceError:
        return None
    return chosen if chosen is not None and chosen.max_output_channels > 0 else None


def _blocks(stream: InputStreamLike, frames: int) -> Iterator[npt.NDArray[np.int16]]:
    while True:
        data, _overflowed = stream.read(frames)
        block = np.asarray(data)
        if block.ndim > 1:
            block = block[:, 0]
        yield block.astype(np.int16, copy=False)


def record(
    *,
    device: int | str | None = None,
    max_seconds: float = DEFAULT_MAX_SECONDS,
    silence_s: float = DEFAULT_SILENCE_S,
    on_level: LevelCallback | None = None,
    open_stream: StreamOpener | None = None,
    device_name: str | None = None,
) -> Recording:
    """Record one take. `open_stream` replaces `sounddevice.InputStream` (tests inject failures)."""
    if open_stream is None:
        sd = _sounddevice()
        info = resolve_input(device)
        device_name = f"{info.index}: {info.name}"
        opener: StreamOpener = sd.InputStream
        stream_errors: tuple[type[BaseException], ...] = (sd.PortAudioError,)
        device_arg: int | str | None = info.index
    else:
        opener, stream_errors, device_arg = open_stream, (OSError, RuntimeError), device
    frames = int(SAMPLE_RATE * BLOCK_S)
    max_blocks = max(1, math.ceil(max_seconds / BLOCK_S))
    silence_blocks = max(1, round(silence_s / BLOCK_S))
    blocks: list[npt.NDArray[np.int16]] = []
    speech_blocks = 0
    quiet_run = 0
    peak = -120.0
    stopped_by = "max_length"
    try:
        with opener(
            samplerate=SAMPLE_RATE, channels=1, dtype="int16", blocksize=frames, device=device_arg
        ) as stream:
            for block in _blocks(stream, frames):
                blocks.append(block.copy())
                level = level_dbfs(block)
                peak = max(peak, level)
                if level > SPEECH_DBFS:
                    speech_blocks += 1
                    quiet_run = 0
                else:
                    quiet_run += 1
                heard = speech_blocks >= MIN_SPEECH_BLOCKS
                if on_level is not None:
                    on_level(level, len(blocks) * BLOCK_S, heard)
                if heard and quiet_run >= silence_blocks:
                    stopped_by = "silence"
                    break
                if len(blocks) >= max_blocks:
                    break
    except stream_errors as exc:
        if not blocks:
            raise NoInputDeviceError(f"The microphone could not be opened ({exc}).") from None
        raise DeviceFailedError(str(exc) or type(exc).__name__, recorded_s=len(blocks) * BLOCK_S) from None
    if stopped_by == "silence":
        keep = max(0, quiet_run - round(KEEP_TRAILING_S / BLOCK_S))
        if keep:
            blocks = blocks[:-keep]
    samples = np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.int16)
    return Recording(
        samples=samples,
        sample_rate=SAMPLE_RATE,
        peak_dbfs=peak,
        speech_detected=speech_blocks >= MIN_SPEECH_BLOCKS,
        stopped_by=stopped_by,
        device=device_name or "microphone",
    )


def play_wav(data: bytes, *, device: int | str | None = None) -> bool:
    """Play a WAV through the output device; False (nothing played) when there is no speaker."""
    try:
        sd = _sounddevice()
    except NoInputDeviceError:
        return False
    out = resolve_output(device)
    if out is None:
        return False
    samples, rate = decode_wav(data)
    try:
        sd.play(samples, rate, device=out.index, blocking=True)
    except sd.PortAudioError:
        return False
    return True
