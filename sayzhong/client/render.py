"""Terminal output for the client: 80 columns, colour only where wanted, plain ASCII where needed.

Colour follows the usual conventions: off when `NO_COLOR` is set (any value), on when
`FORCE_COLOR` is set, else on only for a terminal that is not `dumb`. Pitch contours are drawn as
block-character sparklines; where the output encoding cannot show them they fall back to Chao
digits (1 = bottom of the voice, 5 = top), which is how tone contours are written anyway.
"""

from __future__ import annotations

import os
import textwrap
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO

WIDTH = 80
SPARK = "▁▂▃▄▅▆▇█"
VERDICT_MARK = {"correct": "✓", "wrong_tone": "✗", "unclear": "?", "neutral": "·", "not_said": "∅"}
VERDICT_ASCII = {"correct": "ok", "wrong_tone": "XX", "unclear": "??", "neutral": "--", "not_said": "00"}


def wants_color(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR", ""):
        return False
    if os.environ.get("FORCE_COLOR", ""):
        return True
    return bool(getattr(stream, "isatty", lambda: False)()) and os.environ.get("TERM", "") != "dumb"


def can_encode(stream: TextIO, text: str) -> bool:
    encoding = getattr(stream, "encoding", None) or "ascii"
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


@dataclass(frozen=True)
class Style:
    color: bool = False
    unicode: bool = True

    @classmethod
    def for_stream(cls, stream: TextIO) -> Style:
        return cls(color=wants_color(stream), unicode=can_encode(stream, SPARK + "✓✗·—"))

    def _wrap(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color else text

    def green(self, text: str) -> str:
        return self._wrap("32", text)

    def red(self, text: str) -> str:
        return self._wrap("31;1", text)

    def yellow(self, text: str) -> str:
        return self._wrap("33", text)

    def dim(self, text: str) -> str:
        return self._wrap("2", text)

    def bold(self, text: str) -> str:
        return self._wrap("1", text)

    def cyan(self, text: str) -> str:
        return self._wrap("36", text)

    def verdict(self, verdict: str, text: str) -> str:
        painter = {"correct": self.green, "wrong_tone": self.red, "unclear": self.yellow}.get(
            verdict, self.dim
        )
        return painter(text)

    def dash(self) -> str:
        return "—" if self.unicode else "-"


def display_width(text: str) -> int:
    """Columns the text takes in a terminal (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, width: int) -> str:
    return text + " " * max(0, width - display_width(text))


def _resample(values: Sequence[float], width: int) -> list[float]:
    if not values:
        return []
    if len(values) <= width:
        return list(values)
    step = len(values) / width
    return [values[min(len(values) - 1, int(i * step + step / 2))] for i in range(width)]


def contour(values: Sequence[Any], *, width: int = 8, style: Style | None = None) -> str:
    """A pitch contour (Chao scale 1–5) as a small sparkline, e.g. `▂▁▁▃▆`; "" without data."""
    style = style or Style()
    points = [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    points = _resample(points, width)
    if not points:
        return ""
    out = []
    for value in points:
        level = min(max(value, 1.0), 5.0)
        if style.unicode:
            out.append(SPARK[min(len(SPARK) - 1, int((level - 1.0) / 4.0 * (len(SPARK) - 1) + 0.5))])
        else:
            out.append(str(round(level)))
    return "".join(out)


def _score(value: Any) -> str:
    return "—" if value is None else f"{float(value):.0f}"


def _tone_label(tone: Any) -> str:
    if tone is None:
        return "?"
    return "neutral" if int(tone) == 5 else str(int(tone))


def render_attempt(
    attempt: dict[str, Any], *, style: Style, offline: bool = False, queued: bool = False
) -> str:
    """Overall scores, then one line per syllable: verdict, expected vs heard tone, score, contours."""
    lines: list[str] = []
    title = style.bold(str(attempt.get("text", "")))
    tag = ""
    if offline:
        tag = style.yellow(" [offline: scored on this computer" + ("; queued to sync]" if queued else "]"))
    lines.append(title + tag)
    scores = "  ".join(
        f"{name} {_score(attempt.get(key))}"
        for name, key in (
            ("pronunciation", "pron"),
            ("tones", "tone"),
            ("accuracy", "accuracy"),
            ("fluency", "fluency"),
            ("completeness", "completeness"),
        )
    )
    message = attempt.get("said_message")
    if isinstance(message, str) and message:
        lines.append(style.red(message) if attempt.get("counted") is False else style.yellow(message))
    if attempt.get("counted") is False:
        lines.append(style.dim("Not counted in your statistics or reviews. Try the phrase again."))
        return "\n".join(lines)
    lines.append(scores)
    syllables = attempt.get("syllables") or []
    if not syllables:
        lines.append(style.dim("No syllable details in this result."))
        return "\n".join(lines)
    lines.append(
        style.dim(
            f"{pad('', 4)}{pad('', 4)}{pad('pinyin', 8)}{pad('expect', 8)}{pad('heard', 8)}"
            f"{pad('score', 7)}{pad('you', 10)}target"
        )
    )
    marks = VERDICT_MARK if style.unicode else VERDICT_ASCII
    for syl in syllables:
        verdict = str(syl.get("verdict", "unclear"))
        mark = marks.get(verdict, "?")
        expected = syl.get("expected_tone")
        heard = syl.get("detected_tone")
        heard_label = "—" if verdict in ("neutral", "not_said") else _tone_label(heard)
        row = (
            pad(mark, 4)
            + pad(str(syl.get("grapheme", "")), 4)
            + pad(str(syl.get("pinyin", "")), 8)
            + pad(_tone_label(expected), 8)
            + pad(heard_label if style.unicode else heard_label.replace("—", "-"), 8)
            + pad(_score(syl.get("tone_score")) if verdict not in ("neutral", "not_said") else "", 7)
            + pad(contour(syl.get("learner_contour") or (), style=style), 10)
            + contour(syl.get("target_contour") or (), style=style)
        )
        lines.append(style.verdict(verdict, row.rstrip()))
        hint = str(syl.get("hint") or "")
        if hint and verdict in ("wrong_tone", "unclear", "not_said"):
            lines.extend(textwrap.wrap(hint, width=WIDTH, initial_indent=" " * 8, subsequent_indent=" " * 8))
    wrong = sum(1 for s in syllables if s.get("verdict") == "wrong_tone")
    judged = sum(1 for s in syllables if s.get("verdict") in ("correct", "wrong_tone"))
    if judged:
        summary = "All tones right — well done!" if wrong == 0 else f"{wrong} of {judged} tones to work on."
        lines.append(style.green(summary) if wrong == 0 else style.yellow(summary))
    return "\n".join(lines)


def render_phrase(phrase: dict[str, Any], *, style: Style, position: str = "") -> str:
    head = f"{position}  " if position else ""
    lines = [
        style.bold(f"{head}{phrase.get('hanzi', '')}") + f"   {style.cyan(str(phrase.get('pinyin', '')))}",
        f"{phrase.get('english', '')}",
    ]
    note = str(phrase.get("note") or "")
    if note:
        lines.extend(style.dim(line) for line in textwrap.wrap(note, width=WIDTH))
    return "\n".join(lines)


def render_units(units: list[dict[str, Any]], *, style: Style, offline: bool = False) -> str:
    lines = [style.bold("Lessons") + (style.yellow("  [offline: built-in copy]") if offline else "")]
    for unit in units:
        left = f"{unit.get('order', ''):>2}. {unit.get('id', '')}"
        right = f"{unit.get('title', '')} ({unit.get('phrase_count', 0)} phrases)"
        lines.append(textwrap.shorten(f"{pad(left, 22)} {right}", width=WIDTH, placeholder="…"))
    lines.append(style.dim("Practise one with: sayzhong-client practice UNIT-ID"))
    return "\n".join(lines)


def render_reviews(reviews: Any, *, style: Style) -> str:
    items = reviews.get("items", reviews) if isinstance(reviews, dict) else reviews
    if not isinstance(items, list) or not items:
        return style.green("Nothing to review right now.")
    lines = [style.bold(f"{len(items)} due for review")]
    for item in items:
        if not isinstance(item, dict):
            lines.append(str(item))
            continue
        text = f"{item.get('hanzi', '')}  {item.get('pinyin', '')}  {item.get('english', '')}"
        lines.append(textwrap.shorten(f"• {text}", width=WIDTH, placeholder="…"))
        detail = " ".join(str(item.get(k)) for k in ("item_id", "reason") if item.get(k))
        if detail:
            lines.append(style.dim(textwrap.shorten(f"  {detail}", width=WIDTH, placeholder="…")))
    return "\n".join(lines)


def render_devices(devices: list[Any], *, style: Style) -> str:
    if not devices:
        return style.yellow("No audio devices found.")
    lines = [style.bold(" #  in out  name")]
    for dev in devices:
        marks = ("<in " if dev.is_default_input else "") + ("<out" if dev.is_default_output else "")
        row = f"{dev.index:>2}  {dev.max_input_channels:>2} {dev.max_output_channels:>3}  {dev.name} {marks}"
        lines.append(textwrap.shorten(row, width=WIDTH, placeholder="…"))
    lines.append(style.dim("Choose a microphone with: sayzhong-client practice UNIT --device N"))
    return "\n".join(lines)


def level_meter(level_dbfs: float, elapsed_s: float, heard: bool, *, style: Style, width: int = 40) -> str:
    """One line of the live input meter: a bar from -60 to 0 dBFS, the level and the time."""
    fraction = min(max((level_dbfs + 60.0) / 60.0, 0.0), 1.0)
    filled = round(fraction * width)
    fill, empty = ("█", "░") if style.unicode else ("#", ".")
    bar = fill * filled + empty * (width - filled)
    painted = style.red(bar) if level_dbfs > -3 else style.green(bar) if heard else bar
    status = "listening…" if heard else "speak now"
    return f"mic [{painted}] {level_dbfs:5.0f} dB {elapsed_s:4.1f}s {status}"
