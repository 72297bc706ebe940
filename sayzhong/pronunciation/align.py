"""Syllable alignment: find the speech, then split it into the expected number of syllables.

Energy/voicing segmentation: syllable boundaries sit in intensity valleys and voicing gaps.
Candidate boundaries are the local minima of the smoothed intensity envelope (and the edges
of unvoiced stretches); a small dynamic programme picks the N-1 candidates that maximise
valley depth while keeping syllable durations even. Works for any speaker and needs no
reference rendition; it is the fallback the issue asks for and the default here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sayzhong.pronunciation.pitch import PitchTrack

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Segment:
    start: int
    """First frame (inclusive)."""
    end: int
    """Last frame (exclusive)."""


def speech_region(track: PitchTrack) -> tuple[int, int] | None:
    """Frames [start, end) that hold speech: loud enough and around voiced frames."""
    db = track.intensity_db
    if db.size == 0:
        return None
    peak = float(np.percentile(db, 98))
    loud = db > peak - 30.0
    voiced = track.voiced & (db > peak - 25.0)  # steady hum or far-off voices are quieter
    if voiced.sum() < 3:
        return None
    v_idx = np.flatnonzero(voiced)
    start, end = int(v_idx[0]), int(v_idx[-1]) + 1
    # Extend over loud unvoiced onsets (initial consonants), at most 150 ms.
    s = start
    while s > 0 and start - s < 15 and loud[s - 1]:
        s -= 1
    return s, end


def _smooth(x: FloatArray, width: int = 5) -> FloatArray:
    kernel = np.ones(width) / width
    padded = np.concatenate([np.full(width // 2, x[0]), x, np.full(width - 1 - width // 2, x[-1])])
    return np.convolve(padded, kernel, mode="valid")


PAUSE_FRAMES = 12  # 120 ms of quiet, unvoiced signal separates speech chunks


def speech_chunks(track: PitchTrack, start: int, end: int) -> list[tuple[int, int]]:
    """Stretches of speech inside [start, end) separated by pauses of at least PAUSE_FRAMES."""
    db = track.intensity_db[start:end]
    peak = float(np.percentile(track.intensity_db, 98))
    quiet = (db < peak - 28.0) & ~track.voiced[start:end]
    edges = np.diff(np.concatenate([[0], quiet.astype(np.int8), [0]]))
    q_starts, q_ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    chunks: list[tuple[int, int]] = []
    cursor = 0
    for qs, qe in zip(q_starts, q_ends, strict=True):
        if qe - qs >= PAUSE_FRAMES and qs > cursor:
            chunks.append((start + cursor, start + int(qs)))
            cursor = int(qe)
    if cursor < end - start:
        chunks.append((start + cursor, end))
    return [c for c in chunks if c[1] - c[0] >= 3] or [(start, end)]


def _allocate(lengths: list[int], n: int) -> list[int]:
    """Syllables per chunk, proportional to chunk length, at least one each (largest remainder)."""
    total = sum(lengths)
    raw = [n * ln / total for ln in lengths]
    counts = [max(1, int(r)) for r in raw]
    while sum(counts) > n:
        i = max(range(len(counts)), key=lambda k: (counts[k] - raw[k]) if counts[k] > 1 else -1e9)
        counts[i] -= 1
    while sum(counts) < n:
        i = max(range(len(counts)), key=lambda k: raw[k] - counts[k])
        counts[i] += 1
    return counts


def segment_syllables(track: PitchTrack, n: int) -> list[Segment] | None:
    """Split the speech into ``n`` syllable segments, or None if there is no speech.

    Pauses split the speech into chunks first (so a pause never shifts later syllables);
    syllables are shared among chunks by duration and each chunk is split on its own.
    """
    region = speech_region(track)
    if region is None or n <= 0:
        return None
    chunks = speech_chunks(track, *region)
    while len(chunks) > n:  # more pauses than syllables: close the shortest pause
        gaps = [chunks[i + 1][0] - chunks[i][1] for i in range(len(chunks) - 1)]
        i = int(np.argmin(gaps))
        chunks[i : i + 2] = [(chunks[i][0], chunks[i + 1][1])]
    counts = _allocate([e - s for s, e in chunks], n)
    segments: list[Segment] = []
    for (s, e), k in zip(chunks, counts, strict=True):
        segments.extend(_split_chunk(track, s, e, k))
    return segments


def _split_chunk(track: PitchTrack, start: int, end: int, n: int) -> list[Segment]:
    length = end - start
    if n == 1 or length < 2 * n:
        step = length / n
        return [Segment(start + round(i * step), start + round((i + 1) * step)) for i in range(n)]
    env = _smooth(track.intensity_db[start:end])
    voiced = track.voiced[start:end]
    # Boundary strength per frame: valley depth relative to the surrounding peaks, bonus if unvoiced.
    cand: list[int] = []
    strength: list[float] = []
    for i in range(2, length - 2):
        is_min = env[i] <= env[i - 1] and env[i] <= env[i + 1]
        gap_edge = voiced[i - 1] != voiced[i]
        if not (is_min or gap_edge):
            continue
        left = float(env[max(0, i - 25) : i].max())
        right = float(env[i + 1 : min(length, i + 26)].max())
        depth = max(0.0, min(left, right) - float(env[i]))
        bonus = 3.0 if not voiced[i] else 0.0
        cand.append(i)
        strength.append(depth + bonus)
    if len(cand) < n - 1:
        step = length / n
        return [Segment(start + round(i * step), start + round((i + 1) * step)) for i in range(n)]
    positions = np.array([0, *cand, length])
    gains = np.array([0.0, *strength, 0.0])
    mean_dur = length / n
    m = positions.size
    neg = -1e18
    # best[k][j]: best score with k segments ending at candidate j.
    best = np.full((n + 1, m), neg)
    back = np.zeros((n + 1, m), dtype=np.int64)
    best[0, 0] = 0.0
    for k in range(1, n + 1):
        for j in range(1, m):
            durs = positions[j] - positions[:j]
            prev = best[k - 1, :j]
            dev = (durs - mean_dur) / mean_dur
            score = prev + gains[j] - 6.0 * dev * dev - np.where(durs < 4, 1e6, 0.0)
            i = int(np.argmax(score))
            best[k, j] = score[i]
            back[k, j] = i
    if best[n, m - 1] <= neg / 2:
        step = length / n
        return [Segment(start + round(i * step), start + round((i + 1) * step)) for i in range(n)]
    cuts = [m - 1]
    for k in range(n, 0, -1):
        cuts.append(int(back[k, cuts[-1]]))
    cuts.reverse()
    bounds = [int(positions[c]) + start for c in cuts]
    return [Segment(bounds[i], bounds[i + 1]) for i in range(n)]
