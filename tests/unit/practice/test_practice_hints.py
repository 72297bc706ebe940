"""Coaching hints exist, are specific and differ for every expected/heard tone pair."""

from __future__ import annotations

import pytest

from sayzhong.practice.hints import tone_hint, tone_name

TONES = (1, 2, 3, 4)


@pytest.mark.parametrize("expected", TONES)
@pytest.mark.parametrize("heard", TONES)
def test_every_expected_and_heard_pair_has_a_hint(expected: int, heard: int) -> None:
    hint = tone_hint(expected, heard)
    if expected == heard:
        assert hint.startswith(f"Tone {expected} — well done: ")
    else:
        assert hint.startswith(f"Expected tone {expected} — you said tone {heard}: ")
    assert hint.endswith(".") and len(hint) < 160


def test_mistake_hints_are_all_different() -> None:
    hints = {tone_hint(e, h) for e in TONES for h in TONES if e != h}
    assert len(hints) == 12


def test_the_documented_example() -> None:
    assert tone_hint(3, 2) == "Expected tone 3 — you said tone 2: start lower and dip before rising."


@pytest.mark.parametrize("expected", TONES)
def test_undecided_tone_explains_how_to_say_the_expected_one(expected: int) -> None:
    hint = tone_hint(expected, None)
    assert hint.startswith(f"Expected tone {expected} — we couldn't hear the tone clearly: ")
    assert "louder" in hint


@pytest.mark.parametrize("heard", [None, 1, 2, 3, 4])
def test_neutral_tone_is_light_and_short(heard: int | None) -> None:
    assert tone_hint(5, heard) == "Neutral tone: keep it light and short, without stressing it."


@pytest.mark.parametrize(("expected", "heard"), [(0, 1), (6, None), (2, 5), (1, 0)])
def test_out_of_range_tones_are_programming_errors(expected: int, heard: int | None) -> None:
    with pytest.raises(ValueError):
        tone_hint(expected, heard)


def test_tone_names() -> None:
    assert tone_name(3) == "Tone 3" and tone_name(5) == "Neutral tone"
