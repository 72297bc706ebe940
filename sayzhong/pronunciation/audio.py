"""Audio intake: sniff the container from its bytes, decode to 16 kHz mono float32, check levels.

Accepted: WAV, MP3, FLAC, Ogg (Opus/Vorbis), WebM/Matroska (Opus) and MP4/M4A (AAC). The file
name and the browser's MIME type are never trusted. Every failure is an ``AudioError`` subclass
with a stable ``code`` and a message a learner can act on.
"""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from sayzhong.errors import SayZhongError
from sayzhong.lazy_imports import import_whole

SAMPLE_RATE = 16_000
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
DEFAULT_MAX_SECONDS = 30.0

# Level thresholds on 20 ms frame RMS (dBFS) and on clipping.
SILENT_DBFS = -60.0
QUIET_DBFS = -45.0
CLIP_LEVEL = 0.985
# Share of samples in clipped runs: above MILD the take is scored with a warning; above SEVERE
# so much of the voice is flattened that its pitch cannot be trusted, and the take is refused.
CLIP_FRACTION_MILD = 0.002
CLIP_FRACTION_SEVERE = 0.05


class AudioError(SayZhongError):
    code = "audio_error"
    http_status = 422
    default_message = "We could not use that recording. Please record again."


class AudioEmptyError(AudioError):
    code = "audio_empty"
    default_message = "The recording is empty. Please record again."


class AudioUnsupportedError(AudioError):
    code = "audio_unsupported"
    http_status = 415
    default_message = "That file is not a recording we can read. Use WAV, MP3, FLAC, Ogg, WebM or M4A audio."


class AudioCorruptError(AudioError):
    code = "audio_corrupt"
    default_message = "The recording is damaged or incomplete. Please record again."


class AudioTooLargeError(AudioError):
    code = "audio_too_large"
    http_status = 413
    default_message = "The recording is too large. Please record a shorter phrase."


class AudioTooLongError(AudioError):
    code = "audio_too_long"
    http_status = 413
    default_message = "The recording is too long. Please record only the phrase."


class AudioSilentError(AudioError):
    code = "audio_silent"
    default_message = (
        "We did not hear any speech. Check that the right microphone is on and speak the phrase."
    )


class AudioTooQuietError(AudioError):
    code = "audio_too_quiet"
    default_message = "The recording is too quiet. Move closer to the microphone or speak a little louder."


class AudioClippedError(AudioError):
    code = "audio_clipped"
    default_message = (
        "The recording is distorted because it was too loud. Move a little away from the microphone "
        "or lower its volume."
    )


@dataclass(frozen=True, slots=True)
class DecodedAudio:
    samples: npt.NDArray[np.float32]
    """Mono PCM in [-1, 1] at ``sample_rate``."""
    sample_rate: int
    duration_s: float
    container: str
    """Sniffed container: wav, mp3, flac, ogg, webm, mp4."""
    warnings: tuple[str, ...] = ()
    """Problems that did not stop scoring, e.g. ``clipped`` (too loud, but still judged)."""


def sniff_container(data: bytes) -> str | None:
    """Container name from magic bytes, or None if it is not audio we accept."""
    head = data[:64]
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"OggS":
        return "ogg"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "webm"
    if head[4:8] == b"ftyp":
        return "mp4"
    if head[:3] == b"ID3":
        return "mp3"
    if len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0:
        # MPEG audio frame sync; layer bits 00 mean ADTS AAC.
        return "aac" if (head[1] & 0x06) == 0 else "mp3"
    return None


def decode_audio(
    data: bytes, *, max_bytes: int | None = None, max_seconds: float | None = None
) -> DecodedAudio:
    """Decode any accepted recording to 16 kHz mono float32 and check that it is usable."""
    max_bytes = DEFAULT_MAX_BYTES if max_bytes is None else max_bytes
    max_seconds = DEFAULT_MAX_SECONDS if max_seconds is None else max_seconds
    if not data:
        raise AudioEmptyError()
    if len(data) > max_bytes:
        raise AudioTooLargeError(
            f"The recording is too large ({len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.1f} MB). "
            "Please record a shorter phrase."
        )
    container = sniff_container(data)
    if container is None:
        raise AudioUnsupportedError()
    samples = _decode(data, max_seconds)
    if samples.size == 0:
        raise AudioCorruptError("The recording contains no sound we could decode. Please record again.")
    warnings = check_levels(samples)
    return DecodedAudio(samples, SAMPLE_RATE, samples.size / SAMPLE_RATE, container, warnings)


def encode_wav(samples: npt.NDArray[np.int16], sample_rate: int) -> bytes:
    """Mono 16-bit PCM WAV."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(np.asarray(samples, dtype="<i2").tobytes())
    return buffer.getvalue()


def replay_wav(data: bytes, max_seconds: float = DEFAULT_MAX_SECONDS) -> bytes | None:
    """A stored take as WAV the browser can play and seek: a WAV as it is; anything else as the
    16 kHz mono audio the scorer heard. Browsers record WebM without a duration in its header, so
    the player showed 0:00 and could not seek; Safari plays no WebM at all. The stored file stays
    as recorded (exports, re-scoring). None if it cannot be decoded: it is then served as it is."""
    container = sniff_container(data)
    if container == "wav":
        return data
    if container is None:
        return None
    try:
        samples = _decode(data, max_seconds)
    except AudioError:
        return None
    pcm = np.clip(np.round(samples * 32768.0), -32768, 32767).astype(np.int16)
    return encode_wav(pcm, SAMPLE_RATE)


def _too_long(max_seconds: float) -> AudioTooLongError:
    return AudioTooLongError(
        f"The recording is longer than {max_seconds:g} seconds. Please record only the phrase."
    )


def _decode(data: bytes, max_seconds: float) -> npt.NDArray[np.float32]:
    pcm = _plain_wav_samples(data)
    if pcm is None:
        return _decode_with_av(data, max_seconds)
    if pcm.size > int(max_seconds * SAMPLE_RATE):
        raise _too_long(max_seconds)
    return pcm.astype(np.float32) / 32768.0


def _plain_wav_samples(data: bytes) -> npt.NDArray[np.int16] | None:
    """The samples of a WAV that is already 16 kHz mono 16-bit PCM, read in place; else None.

    That is what the terminal client and the mic check send. PyAV decodes it just as well, but
    opening a container and building a resampler costs ~5 ms of CPU per take, under the GIL (issue
    16's profile of the upload path); reading the data chunk costs microseconds. Anything else —
    other rates, stereo, float, compressed — goes through PyAV."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    position, fmt_ok = 12, False
    while position + 8 <= len(data):
        chunk, size = (
            data[position : position + 4],
            int.from_bytes(data[position + 4 : position + 8], "little"),
        )
        body = position + 8
        if chunk == b"fmt ":
            if size < 16 or body + size > len(data):
                return None
            tag, channels, rate = (
                int.from_bytes(data[body : body + 2], "little"),
                int.from_bytes(data[body + 2 : body + 4], "little"),
                int.from_bytes(data[body + 4 : body + 8], "little"),
            )
            bits = int.from_bytes(data[body + 14 : body + 16], "little")
            if tag == 0xFFFE and size >= 40:  # WAVE_FORMAT_EXTENSIBLE: the sub-format's first two bytes
                tag = int.from_bytes(data[body + 24 : body + 26], "little")
            fmt_ok = (tag, channels, rate, bits) == (1, 1, SAMPLE_RATE, 16)
            if not fmt_ok:
                return None
        elif chunk == b"data":
            if not fmt_ok:
                return None
            # A recording stopped mid-write declares more than it holds: keep what is there.
            end = min(len(data), body + size)
            end -= (end - body) % 2
            return np.frombuffer(data, dtype="<i2", count=(end - body) // 2, offset=body)
        position = body + size + (size & 1)  # chunks are padded to an even length
    return None


def _decode_with_av(data: bytes, max_seconds: float) -> npt.NDArray[np.float32]:
    import_whole("av")
    import av

    max_samples = int(max_seconds * SAMPLE_RATE)
    chunks: list[npt.NDArray[Any]] = []
    total = 0
    try:
        with av.open(io.BytesIO(data), mode="r", metadata_errors="ignore") as container:
            streams = container.streams.audio
            if not streams:
                raise AudioUnsupportedError("That file has no audio in it. Please record again.")
            stream = streams[0]
            if container.duration is not None and container.duration / 1e6 > max_seconds + 1.0:
                raise _too_long(max_seconds)
            resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    arr = out.to_ndarray().reshape(-1)
                    chunks.append(arr)
                    total += arr.size
                if total > max_samples:
                    raise _too_long(max_seconds)
            for out in resampler.resample(None):
                arr = out.to_ndarray().reshape(-1)
                chunks.append(arr)
                total += arr.size
    except AudioError:
        raise
    except (av.error.FFmpegError, ValueError, IndexError, EOFError, OSError) as exc:
        if total > SAMPLE_RATE // 4:
            # A truncated upload (browser stopped mid-chunk) still carries usable audio.
            pass
        else:
            raise AudioCorruptError() from exc
    if total > max_samples:
        raise _too_long(max_seconds)
    if not chunks:
        return np.zeros(0, dtype=np.float32)
    pcm = np.concatenate(chunks).astype(np.float32) / 32768.0
    return pcm


def frame_rms_dbfs(samples: npt.NDArray[np.float32], frame: int = 320) -> npt.NDArray[np.float64]:
    n = samples.size // frame
    if n == 0:
        return np.array([-120.0])
    frames = samples[: n * frame].astype(np.float64).reshape(n, frame)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    return np.asarray(20.0 * np.log10(np.maximum(rms, 1e-6)))


def clipped_fraction(samples: npt.NDArray[np.float32]) -> float:
    """Share of samples at full scale next to another one (single peaks are not clipping)."""
    clipped = np.abs(samples) >= CLIP_LEVEL
    runs = clipped[1:] & clipped[:-1]
    return float(runs.mean()) if runs.size else 0.0


def check_levels(samples: npt.NDArray[np.float32]) -> tuple[str, ...]:
    """Raise for silence, a too-quiet recording or heavy clipping; return warnings for mild clipping."""
    db = frame_rms_dbfs(samples)
    loud = float(np.percentile(db, 95))
    if loud < SILENT_DBFS:
        raise AudioSilentError()
    if loud < QUIET_DBFS:
        raise AudioTooQuietError()
    clipped = clipped_fraction(samples)
    if clipped > CLIP_FRACTION_SEVERE:
        raise AudioClippedError()
    return ("clipped",) if clipped > CLIP_FRACTION_MILD else ()
