"""Tone features of a syllable *in its phrase*: its own contour plus its neighbours and position.

Tones in connected speech are shaped by context: a 3rd tone before another tone is a low "half
third" with no rise, a syllable after a high one starts higher (carry-over), the last syllable of
a phrase is longer and falls further, and a sentence's pitch drifts down (declination). So each
syllable is described by

- its own contour relative to the speaker's reference pitch and range (from a profile, from the
  utterance, or its own mean when nothing else is known) — ``classifier.tone_features``;
- its level relative to its neighbours (local reference, which removes declination);
- where its neighbours start and end (the junctions carry co-articulation);
- the *expected* tones of its neighbours (the text is known: judging is verification, so the
  model may know that the next syllable should be a 4th tone);
- its position in the phrase and its length relative to the phrase's syllables.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

N_POINTS = 7
NOMINAL_RANGE_ST = 10.0
MIN_VOICED_FRAMES = 4
CONTOUR_FEATURE_NAMES = [
    *[f"p{i}" for i in range(N_POINTS)],
    "slope",
    "curvature",
    "argmin",
    "argmax",
    "range",
    "end_minus_start",
    "voiced_fraction",
    "voiced_seconds",
    "mean",
    "min",
    "max",
]


def tone_features(
    values_st: FloatArray,
    *,
    ref_st: float,
    range_st: float,
    voiced_fraction: float,
    level: bool,
) -> FloatArray | None:
    """Feature vector for one syllable's voiced F0 values (semitones), or None if too short."""
    v = np.asarray(values_st, dtype=np.float64)
    v = v[~np.isnan(v)]
    if v.size < MIN_VOICED_FRAMES:
        return None
    if v.size >= 5:  # 3-point median smoothing removes single-frame glitches
        v = np.concatenate([[v[0]], np.median(np.stack([v[:-2], v[1:-1], v[2:]]), axis=0), [v[-1]]])
    scale = max(range_st, 3.0) / NOMINAL_RANGE_ST
    rel = (v - ref_st) / scale
    t = np.linspace(0.0, 1.0, rel.size)
    pts = np.interp(np.linspace(0.0, 1.0, N_POINTS), t, rel)
    a2, _a1, _a0 = np.polyfit(t, rel, 2)
    slope = float(np.polyfit(t, rel, 1)[0])
    mean = float(rel.mean())
    feats = [
        *(pts if level else pts - mean),
        slope,
        float(a2),
        float(np.argmin(rel)) / (rel.size - 1),
        float(np.argmax(rel)) / (rel.size - 1),
        float(rel.max() - rel.min()),
        float(pts[-1] - pts[0]),
        float(voiced_fraction),
        v.size * 0.01,
        mean if level else 0.0,
        float(rel.min()) if level else float(rel.min() - mean),
        float(rel.max()) if level else float(rel.max() - mean),
    ]
    return np.asarray(feats, dtype=np.float64)


CONTEXT_FEATURE_NAMES = [
    "prev_present",
    "prev_mean",
    "prev_end",
    "prev_slope",
    "next_present",
    "next_mean",
    "next_start",
    "next_slope",
    "join_prev",
    "join_next",
    "local_level",
    "rel_position",
    "is_first",
    "is_last",
    "log_n",
    "rel_duration",
    "abs_level",
    *[f"prev_tone_{t}" for t in ("1", "2", "3", "4", "5", "none")],
    *[f"next_tone_{t}" for t in ("1", "2", "3", "4", "5", "none")],
]
FEATURE_NAMES = [*CONTOUR_FEATURE_NAMES, *CONTEXT_FEATURE_NAMES]


@dataclass(frozen=True, slots=True)
class SyllablePitch:
    """The voiced F0 of one aligned syllable's final (semitones re 100 Hz) and its timing."""

    values_st: FloatArray
    voiced_fraction: float
    duration_s: float


def _summary(values: FloatArray, ref: float, scale: float) -> tuple[float, float, float, float] | None:
    v = values[~np.isnan(values)]
    if v.size < 3:
        return None
    rel = (v - ref) / scale
    n = max(1, rel.size // 4)
    slope = float(np.polyfit(np.linspace(0, 1, rel.size), rel, 1)[0])
    return float(rel.mean()), float(rel[:n].mean()), float(rel[-n:].mean()), slope


def _tone_onehot(tone: int | None) -> list[float]:
    out = [0.0] * 6
    out[(tone - 1) if tone in (1, 2, 3, 4, 5) else 5] = 1.0
    return out


def phrase_features(
    syllables: Sequence[SyllablePitch | None],
    expected_tones: Sequence[int],
    *,
    ref_st: float,
    range_st: float,
    level: bool,
) -> list[FloatArray | None]:
    """One feature vector per syllable (None where it has too little voicing to judge).

    ``level`` False means nothing tells how high this voice is (one syllable, no profile): levels
    are then taken relative to the syllable's own mean, and only shapes and junctions remain.
    """
    scale = max(range_st, 3.0) / NOMINAL_RANGE_ST
    n = len(syllables)
    summaries = [None if s is None else _summary(s.values_st, ref_st, scale) for s in syllables]
    durations = [s.duration_s for s in syllables if s is not None and s.duration_s > 0]
    mean_dur = float(np.mean(durations)) if durations else 0.0
    out: list[FloatArray | None] = []
    for i, syl in enumerate(syllables):
        if syl is None:
            out.append(None)
            continue
        own = tone_features(
            syl.values_st, ref_st=ref_st, range_st=range_st, voiced_fraction=syl.voiced_fraction, level=level
        )
        me = summaries[i]
        if own is None or me is None:
            out.append(None)
            continue
        own_mean, own_start, own_end, _ = me
        # Without a level reference, neighbours are described relative to this syllable.
        base = 0.0 if level else own_mean
        prev = summaries[i - 1] if i > 0 else None
        nxt = summaries[i + 1] if i + 1 < n else None
        window = [s[0] for s in summaries[max(0, i - 2) : i + 3] if s is not None]
        local = own_mean - float(np.mean(window)) if len(window) > 1 else 0.0
        ctx = [
            1.0 if prev else 0.0,
            (prev[0] - base) if prev else 0.0,
            (prev[2] - base) if prev else 0.0,
            prev[3] if prev else 0.0,
            1.0 if nxt else 0.0,
            (nxt[0] - base) if nxt else 0.0,
            (nxt[1] - base) if nxt else 0.0,
            nxt[3] if nxt else 0.0,
            (own_start - prev[2]) if prev else 0.0,
            (nxt[1] - own_end) if nxt else 0.0,
            local,
            i / (n - 1) if n > 1 else 0.0,
            1.0 if i == 0 else 0.0,
            1.0 if i == n - 1 else 0.0,
            float(np.log(n)),
            syl.duration_s / mean_dur if mean_dur > 0 else 1.0,
            # Without any reference, the absolute pitch is a weak prior (voices cluster in ranges).
            0.0 if level else (float(np.nanmedian(syl.values_st)) - 12.0) / 6.0,
            *_tone_onehot(expected_tones[i - 1] if i > 0 else None),
            *_tone_onehot(expected_tones[i + 1] if i + 1 < n else None),
        ]
        out.append(np.concatenate([own, np.asarray(ctx, dtype=np.float64)]))
    return out
