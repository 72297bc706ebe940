"""Contours of different lengths are spread over one time axis for the chart."""

from __future__ import annotations

from state.practice import CHART_POINTS, resample


def test_a_three_point_target_spans_the_whole_syllable() -> None:
    points = resample([5.0, 3.0, 1.0])
    assert len(points) == CHART_POINTS
    assert points[0] == 5.0 and points[-1] == 1.0
    assert points[CHART_POINTS // 2] is not None and 2.5 < points[CHART_POINTS // 2] < 3.5


def test_gaps_stay_gaps_and_empty_contours_draw_nothing() -> None:
    assert resample([]) == [None] * CHART_POINTS
    gappy = resample([3.0, None, None, None, 4.0], n=9)
    assert gappy[0] == 3.0 and gappy[-1] == 4.0
    assert None in gappy


def test_a_single_point_is_held_flat() -> None:
    assert resample([2.0], n=4) == [2.0, 2.0, 2.0, 2.0]
