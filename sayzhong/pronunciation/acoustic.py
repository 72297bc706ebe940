"""Acoustic front end of the forced aligner: 16 kHz samples → normalised MFCC frames.

Owns the frame grid (25 ms windows every 10 ms) and the feature vector: log energy + MFCC
c1..c12 with Δ and ΔΔ (39 values a frame), numpy/scipy only.

Normalisation, and why it is not plain CMVN on every dimension:

- cepstra c1..c12: per-utterance mean and variance normalisation (removes the microphone's and
  the speaker's spectral tilt);
- log energy: only shifted so that the loud end of the utterance (99th percentile) is 0 and
  scaled by a fixed constant, and floored 60 dB below it. Variance-normalising energy would make
  a recording of room noise look as loud as speech; keeping it relative to the utterance's peak
  keeps "quiet" meaning quiet.

``frame_db`` (frame energy in dB) is exported as well: the aligner uses it for its
speech/no-speech decision, which must not depend on the acoustic models.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt

from sayzhong.lazy_imports import import_whole

FloatArray = npt.NDArray[np.float64]

SAMPLE_RATE = 16_000
WIN = 400  # 25 ms
HOP = 160  # 10 ms
NFFT = 512
N_MELS = 26
N_CEPS = 12  # c1..c12; c0 is replaced by log energy
FRAME_S = HOP / SAMPLE_RATE
DIM = 3 * (N_CEPS + 1)
ENERGY_SCALE = 1.0 / 3.0  # natural-log energy units → roughly unit spread
ENERGY_FLOOR = 13.8  # 60 dB below the utterance's loud end, in natural-log units
DITHER = 1.0 / 32768.0  # one 16-bit step
DITHER_SEED = 20261130
PARAMS_KEY = f"v1-{WIN}-{HOP}-{NFFT}-{N_MELS}-{N_CEPS}-{ENERGY_SCALE:.4f}-{ENERGY_FLOOR}"
"""Changes whenever the features change; the training cache and the model file carry it."""


def frame_time(index: int | float) -> float:
    """Time (s) of the boundary *before* frame ``index``: halfway between the centres of two frames."""
    return float(index) * FRAME_S + (WIN - HOP) / 2 / SAMPLE_RATE


@lru_cache(maxsize=64)
def _mel_bank(warp: float = 1.0) -> FloatArray:
    """Triangular mel filters; ``warp`` ≠ 1 scales the filter centres (vocal-tract length
    perturbation, used only to make training data sound like other speakers)."""

    def mel(f: FloatArray) -> FloatArray:
        return np.asarray(2595.0 * np.log10(1.0 + f / 700.0))

    lo, hi = mel(np.array(60.0)), mel(np.array(7600.0))
    hz = 700.0 * (10 ** (np.linspace(lo, hi, N_MELS + 2) / 2595.0) - 1.0)
    hz = np.minimum(hz * warp, SAMPLE_RATE / 2 - 1.0)
    bins = np.fft.rfftfreq(NFFT, 1.0 / SAMPLE_RATE)
    bank = np.zeros((NFFT // 2 + 1, N_MELS))
    for m in range(N_MELS):
        left, centre, right = hz[m], hz[m + 1], hz[m + 2]
        up = (bins - left) / (centre - left)
        down = (right - bins) / (right - centre)
        bank[:, m] = np.maximum(0.0, np.minimum(up, down))
    return bank


@lru_cache(maxsize=1)
def _window() -> FloatArray:
    return np.hamming(WIN)


def _frames(samples: npt.NDArray[np.floating]) -> FloatArray:
    x = np.asarray(samples, dtype=np.float64)
    if x.size < WIN:
        x = np.concatenate([x, np.zeros(WIN - x.size)])
    n = 1 + (x.size - WIN) // HOP
    idx = np.arange(WIN)[None, :] + HOP * np.arange(n)[:, None]
    return np.asarray(x[idx])


def frame_db(samples: npt.NDArray[np.floating]) -> FloatArray:
    """Frame energy (dB re full scale) on the feature grid."""
    fr = _frames(samples)
    return np.asarray(10.0 * np.log10(np.mean(fr**2, axis=1) + 1e-12))


def _deltas(x: FloatArray) -> FloatArray:
    """Regression deltas over ±2 frames (edges repeated)."""
    pad = np.concatenate([x[:1], x[:1], x, x[-1:], x[-1:]])
    return np.asarray((2 * (pad[4:] - pad[:-4]) + (pad[3:-1] - pad[1:-3])) / 10.0)


def dithered(samples: npt.NDArray[np.floating]) -> FloatArray:
    """``samples`` plus Gaussian noise of one 16-bit step, the same noise every time.

    Recordings that hold exact digital silence (a synthesised voice, an edited file, a browser's
    noise gate) would otherwise put every quiet frame at the log floor, a point no recording the
    models were trained on reaches; there the aligner took the whole take for "another text".
    One step of noise is far below any microphone's own floor, so real recordings keep their
    features; a fixed seed keeps a take's result repeatable (Kaldi dithers the same way).

    The aligner applies it to every take it aligns (``aligner.raw_align``). Training reads the
    corpora undithered, as the committed model was trained: retraining on dithered features
    changed the model well beyond noise and has not been evaluated."""
    x = np.asarray(samples, dtype=np.float64)
    noise = np.random.default_rng(DITHER_SEED).standard_normal(x.size)
    return np.asarray(x + noise * DITHER)


def mfcc_static(samples: npt.NDArray[np.floating], warp: float = 1.0) -> FloatArray:
    """Un-normalised [log energy, c1..c12] per frame."""
    import_whole("scipy.fft")
    from scipy.fft import dct, rfft

    fr = _frames(samples)
    energy = np.log(np.sum(fr**2, axis=1) + 1e-10)
    emph = np.concatenate([fr[:, :1], fr[:, 1:] - 0.97 * fr[:, :-1]], axis=1)
    spec = np.abs(rfft(emph * _window(), n=NFFT, axis=1)) ** 2
    logmel = np.log(spec @ _mel_bank(round(warp, 3)) + 1e-10)
    ceps = dct(logmel, type=2, norm="ortho", axis=1)[:, 1 : N_CEPS + 1]
    return np.concatenate([energy[:, None], ceps], axis=1)


def normalise(static: FloatArray) -> FloatArray:
    """Per-utterance normalisation (see module docstring), then Δ and ΔΔ → (frames, 39)."""
    out = static.copy()
    e = out[:, 0]
    top = float(np.percentile(e, 99))
    out[:, 0] = (np.maximum(e, top - ENERGY_FLOOR) - top) * ENERGY_SCALE
    ceps = out[:, 1:]
    std = ceps.std(axis=0)
    out[:, 1:] = (ceps - ceps.mean(axis=0)) / np.maximum(std, 1e-3)
    d1 = _deltas(out)
    d2 = _deltas(d1)
    return np.concatenate([out, d1, d2], axis=1)


def features(samples: npt.NDArray[np.floating]) -> FloatArray:
    """Normalised 39-dimensional features, one row per 10 ms frame."""
    return normalise(mfcc_static(samples))
