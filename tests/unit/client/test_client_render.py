"""Terminal rendering: colour rules, 80 columns, expected vs heard tone, text contours."""

from __future__ import annotations

import io
import re

import pytest

from sayzhong.client import render

ANSI = re.compile(r"\x1b\[[0-9;]*m")

ATTEMPT = {
    "text": "你好吗",
    "pron": 71.4,
    "tone": 55.0,
    "accuracy": 70,
    "fluency": 90,
    "completeness": 100,
    "syllables": [
        {
            "grapheme": "你",
            "pinyin": "ni3",
            "expected_tone": 2,
            "detected_tone": 2,
            "tone_score": 88,
            "verdict": "correct",
            "hint": "Tone 2 — well done.",
            "learner_contour": [2.5, 3.0, 3.5, 4.0],
            "target_contour": [3, 3.5, 4, 4.5],
        },
        {
            "grapheme": "好",
            "pinyin": "hao3",
            "expected_tone": 3,
            "detected_tone": 4,
            "tone_score": 21,
            "verdict": "wrong_tone",
            "hint": "Expected tone 3 — you said tone 4: start low rather than high, and dip instead of "
            "falling from the top of your voice, then let it rise a little at the end.",
            "learner_contour": [5, 4, 3, 2, 1],
            "target_contour": [2, 1, 1, 2],
        },
        {
            "grapheme": "吗",
            "pinyin": "ma5",
            "expected_tone": 5,
            "detected_tone": None,
            "tone_score": 0,
            "verdict": "neutral",
            "hint": "",
            "learner_contour": [],
            "target_contour": [],
        },
    ],
}


class FakeTty(io.StringIO):
    encoding = "utf-8"

    def isatty(self) -> bool:
        return True


def test_no_color_turns_colour_off_even_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("TERM", "xterm-256color")
    assert render.wants_color(FakeTty()) is False


def test_colour_is_on_for_a_terminal_and_off_for_a_pipe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "xterm")
    assert render.wants_color(FakeTty()) is True
    assert render.wants_color(io.StringIO()) is False
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert render.wants_color(io.StringIO()) is True


def test_attempt_shows_expected_and_heard_tone_with_verdict_colours() -> None:
    out = render.render_attempt(ATTEMPT, style=render.Style(color=True))
    plain = ANSI.sub("", out)
    wrong = next(line for line in plain.splitlines() if "hao3" in line)
    assert re.search(r"✗\s+好\s+hao3\s+3\s+4\s+21", wrong)
    assert "\x1b[31;1m✗" in out  # wrong tone in red
    assert "\x1b[32m✓" in out  # right tone in green
    assert "start low rather than high" in plain
    assert "1 of 2 tones to work on." in plain
    neutral = next(line for line in plain.splitlines() if "ma5" in line)
    assert "neutral" in neutral


def test_plain_output_has_no_escape_codes_and_fits_80_columns() -> None:
    out = render.render_attempt(ATTEMPT, style=render.Style(color=False), offline=True, queued=True)
    assert "\x1b" not in out
    assert "[offline" in out and "queued to sync" in out
    assert max(render.display_width(line) for line in out.splitlines()) <= 80


def test_contour_sparkline_follows_the_pitch() -> None:
    assert render.contour([1, 2, 3, 4, 5]) == "▁▃▅▆█"
    assert render.contour([5, 4, 3, 2, 1], style=render.Style(unicode=False)) == "54321"
    assert len(render.contour(list(range(100)), width=8)) == 8
    assert render.contour([]) == ""


def test_ascii_terminal_gets_ascii_marks() -> None:
    out = render.render_attempt(ATTEMPT, style=render.Style(unicode=False))
    assert "XX" in out and "ok" in out


def test_level_meter_is_one_short_line() -> None:
    line = render.level_meter(-20.0, 1.5, True, style=render.Style())
    assert "-20 dB" in line and "1.5s" in line and len(line) <= 80
    assert render.level_meter(-80.0, 0.1, False, style=render.Style()).count("█") == 0


def test_hanzi_count_double_in_the_width() -> None:
    assert render.display_width("你好") == 4
    assert render.pad("你", 4) == "你  "
