"""F0 and intensity tracks with Praat (parselmouth), cleaned of octave jumps and voicing blips."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from sayzhong.lazy_imports import import_whole

FloatArray = npt.NDArray[np.float64]

STEP_S = 0.01
PITCH_FLOOR_HZ = 70.0
PITCH_CEILING_HZ = 600.0
ST_REF_HZ = 100.0


@dataclass(frozen=True, slots=True)
class PitchTrack:
    times: FloatArray
    """Frame centres in seconds."""
    f0_st: FloatArray
    """F0 in semitones re 100 Hz; NaN where unvoiced."""
    intensity_db: FloatArray
    """Frame RMS in dBFS (25 ms window)."""
    step: float = STEP_S

    @property
    def voiced(self) -> npt.NDArray[np.bool_]:
        return np.asarray(~np.isnan(self.f0_st))


def hz_to_st(hz: FloatArray | float) -> FloatArray:
    return np.asarray(12.0 * np.log2(np.asarray(hz, dtype=np.float64) / ST_REF_HZ))


def st_to_hz(st: FloatArray | float) -> FloatArray:
    return np.asarray(ST_REF_HZ * 2.0 ** (np.asarray(st, dtype=np.float64) / 12.0))


def track_pitch(samples: npt.NDArray[np.float32], sample_rate: int = 16_000) -> PitchTrack:
    import_whole("parselmouth")
    import parselmouth

    x = _highpass(samples.astype(np.float64), sample_rate)
    sound = parselmouth.Sound(x, sampling_frequency=sample_rate)
    pitch = sound.to_pitch_ac(
        time_step=STEP_S,
        pitch_floor=PITCH_FLOOR_HZ,
        pitch_ceiling=PITCH_CEILING_HZ,
        voicing_threshold=0.45,
        octave_jump_cost=0.5,
    )
    times = np.asarray(pitch.xs(), dtype=np.float64)
    f0 = np.asarray(pitch.selected_array["frequency"], dtype=np.float64)
    st = np.where(f0 > 0, hz_to_st(np.maximum(f0, 1.0)), np.nan)
    st = clean_contour(st)
    return PitchTrack(times, st, frame_intensity(x.astype(np.float32), sample_rate, times))


@lru_cache(maxsize=4)
def _highpass_sos(sample_rate: int) -> FloatArray:
    import_whole("scipy.signal")
    from scipy.signal import butter

    return np.asarray(butter(4, 65.0, btype="highpass", fs=sample_rate, output="sos"))


def _highpass(x: FloatArray, sample_rate: int) -> FloatArray:
    """Remove DC, rumble and mains hum (50/60 Hz) that Praat could take for voicing."""
    import_whole("scipy.signal")
    from scipy.signal import sosfiltfilt

    if x.size < 64:
        return x
    return np.asarray(sosfiltfilt(_highpass_sos(sample_rate), x))


def frame_intensity(samples: npt.NDArray[np.float32], sample_rate: int, times: FloatArray) -> FloatArray:
    half = int(0.0125 * sample_rate)
    x = samples.astype(np.float64)
    csum = np.concatenate([[0.0], np.cumsum(x * x)])
    centres = np.clip((times * sample_rate).astype(np.int64), 0, x.size)
    lo = np.clip(centres - half, 0, x.size)
    hi = np.clip(centres + half, 0, x.size)
    energy = (csum[hi] - csum[lo]) / np.maximum(hi - lo, 1)
    return np.asarray(10.0 * np.log10(np.maximum(energy, 1e-12)))


def clean_contour(st: FloatArray) -> FloatArray:
    """Fix octave jumps against a running median and drop voiced islands shorter than 30 ms."""
    out = st.copy()
    voiced = ~np.isnan(out)
    if voiced.sum() < 3:
        return np.full_like(out, np.nan)
    idx = np.flatnonzero(voiced)
    vals = out[idx]
    # Running median over the voiced frames (window 9) as the local reference.
    pad = 4
    padded = np.concatenate([np.full(pad, vals[0]), vals, np.full(pad, vals[-1])])
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * pad + 1)
    med = np.median(windows, axis=1)
    diff = vals - med
    for shift in (12.0, -12.0):
        fix = np.abs(diff - shift) < 3.0
        vals = np.where(fix, vals - shift, vals)
        diff = np.where(fix, diff - shift, diff)
    vals = np.where(np.abs(diff) > 7.0, np.nan, vals)
    out[idx] = vals
    _drop_jumps(out)
    _drop_far_from_voice(out)
    # Remove short voiced islands (creak, noise).
    voiced = ~np.isnan(out)
    edges = np.diff(np.concatenate([[0], voiced.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    for s, e in zip(starts, ends, strict=True):
        if e - s < 3:
            out[s:e] = np.nan
    return out


JUMP_ST = 4.0
VOICE_SPAN_ST = 13.0


def _drop_far_from_voice(out: FloatArray) -> None:
    """Frames more than VOICE_SPAN_ST from the recording's median voice are octave or creak
    errors (a separate creaky island at a syllable's end halves the pitch): move them by an
    octave when that lands them in the voice's range, else drop them. Works in place."""
    voiced = ~np.isnan(out)
    if voiced.sum() < 10:
        return
    med = float(np.median(out[voiced]))
    far = voiced & (np.abs(out - med) > VOICE_SPAN_ST)
    for i in np.flatnonzero(far):
        for octave in (12.0, -12.0):
            if abs(out[i] + octave - med) <= VOICE_SPAN_ST / 2:
                out[i] += octave
                break
        else:
            out[i] = np.nan


def _drop_jumps(out: FloatArray) -> None:
    """Inside each voiced island, pieces split off by a jump of > JUMP_ST that sit away from the
    island's longest piece are octave or sub-harmonic errors (typical at creaky or nasal ends):
    move them by an octave if that fits, else drop them. Works in place."""
    voiced = ~np.isnan(out)
    edges = np.diff(np.concatenate([[0], voiced.astype(np.int8), [0]]))
    for s, e in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
        seg = out[s:e]
        cuts = np.flatnonzero(np.abs(np.diff(seg)) > JUMP_ST) + 1
        if cuts.size == 0:
            continue
        bounds = [0, *cuts.tolist(), seg.size]
        pieces = [(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)]
        main_a, main_b = max(pieces, key=lambda p: p[1] - p[0])
        main_level = float(np.median(seg[main_a:main_b]))
        for a, b in pieces:
            if (a, b) == (main_a, main_b):
                continue
            level = float(np.median(seg[a:b]))
            if abs(level - main_level) <= JUMP_ST:
                continue
            shifted = False
            for octave in (12.0, -12.0):
                if abs(level - octave - main_level) <= JUMP_ST:
                    seg[a:b] -= octave
                    shifted = True
                    break
            if not shifted:
                seg[a:b] = np.nan
