"""Syllable segmentation on synthetic speech with known syllable positions."""

from __future__ import annotations

import numpy as np
import pytest

from sayzhong.pronunciation.align import segment_syllables
from sayzhong.pronunciation.pitch import track_pitch
from tests.support.pron_synth import SR, synth_samples


def syllable_centres(n: int, syllable_s: float, gap_s: float) -> list[float]:
    return [0.15 + i * (syllable_s + gap_s) + syllable_s / 2 for i in range(n)]


@pytest.mark.parametrize("gap_s", [0.03, 0.08, 0.4])
def test_each_segment_covers_its_syllable(gap_s: float) -> None:
    tones = [1, 4, 2, 3, 1]
    samples = synth_samples(tones, gap_s=gap_s)
    track = track_pitch(samples, SR)
    segments = segment_syllables(track, len(tones))
    assert segments is not None and len(segments) == len(tones)
    for seg, centre in zip(segments, syllable_centres(len(tones), 0.32, gap_s), strict=True):
        assert track.times[seg.start] <= centre <= track.times[seg.end - 1]
    starts = [s.start for s in segments]
    assert starts == sorted(starts)


def test_a_long_pause_does_not_shift_later_syllables() -> None:
    first = synth_samples([1, 4])
    second = synth_samples([2, 3, 1])
    samples = np.concatenate([first, np.zeros(int(0.6 * SR), np.float32), second])
    track = track_pitch(samples, SR)
    segments = segment_syllables(track, 5)
    assert segments is not None
    pause_start = first.size / SR + 0.1
    pause_end = first.size / SR + 0.5
    # Two segments before the pause, three after it; none straddles it.
    assert sum(track.times[s.end - 1] < pause_start for s in segments) == 2
    assert sum(track.times[s.start] > pause_end for s in segments) == 3


def test_no_speech_gives_no_segments() -> None:
    track = track_pitch(np.zeros(SR, np.float32), SR)
    assert segment_syllables(track, 3) is None
