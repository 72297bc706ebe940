"""Synthetic voiced speech with a known F0 contour per syllable, shared by unit and integration tests."""

from __future__ import annotations

import io
import wave
from collections.abc import Sequence

import numpy as np

SR = 16_000

# Tone contours in semitones relative to the speaker's median, over the syllable's duration.
TONE_SHAPES: dict[int, tuple[Sequence[float], Sequence[float]]] = {
    1: ((0.0, 1.0), (4.0, 4.0)),
    2: ((0.0, 0.3, 1.0), (-1.5, -2.0, 4.5)),
    3: ((0.0, 0.5, 1.0), (-2.5, -6.0, -1.0)),
    4: ((0.0, 0.15, 1.0), (4.5, 5.0, -5.0)),
}


def synth_samples(
    tones: Sequence[int], *, median_hz: float = 200.0, syllable_s: float = 0.32, gap_s: float = 0.08
) -> np.ndarray:
    rng = np.random.default_rng(1)
    parts = [np.zeros(int(0.15 * SR))]
    for tone in tones:
        n = int(syllable_s * SR)
        t = np.linspace(0.0, 1.0, n)
        xs, ys = TONE_SHAPES[tone]
        st = np.interp(t, xs, ys)
        f0 = median_hz * 2 ** (st / 12)
        phase = 2 * np.pi * np.cumsum(f0) / SR
        voice = sum(np.sin(k * phase) / k for k in range(1, 12))
        env = np.minimum(1.0, np.minimum(t, 1 - t) * 12)
        parts.append(0.25 * voice * env + rng.normal(0, 0.002, n))
        parts.append(np.zeros(int(gap_s * SR)))
    parts.append(np.zeros(int(0.15 * SR)))
    return np.concatenate(parts).astype(np.float32)


def to_wav(samples: np.ndarray) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return buf.getvalue()


def synth_wav_bytes(tones: Sequence[int], median_hz: float = 200.0) -> bytes:
    return to_wav(synth_samples(tones, median_hz=median_hz))


def to_webm(samples: np.ndarray) -> bytes:
    """Opus in WebM at 48 kHz, as Chrome's and Firefox's MediaRecorder send a take (no duration in
    the header), encoded in memory with PyAV."""
    import av

    pcm = (
        np.clip(np.interp(np.arange(0, samples.size, SR / 48_000), np.arange(samples.size), samples), -1, 1)
        * 32767
    ).astype("<i2")
    buf = io.BytesIO()
    with av.open(buf, "w", format="webm") as out:
        stream = out.add_stream("libopus", rate=48_000, layout="mono")
        frame = av.AudioFrame.from_ndarray(pcm[None, :], format="s16", layout="mono")
        frame.sample_rate = 48_000
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)
    return buf.getvalue()
