"""Share-card pictures: a 1200×630 PNG (the Open Graph size) drawn with Pillow.

A result card shows the phrase in hanzi, its pinyin, the score and, per syllable, the learner's
pitch contour (solid) over the target's (dashed). A streak card shows the streak in days. Text is
set in a CJK font found on the machine (Debian: fonts-noto-cjk, installed by scripts/setup.sh) or
named by SHARE_FONT_PATH; without one, `FontMissingError` says what to install.
"""

from __future__ import annotations

import io
import itertools
import math
from functools import lru_cache
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from sayzhong.errors import ServiceUnavailableError
from sayzhong.settings import get_settings

WIDTH, HEIGHT = 1200, 630
BACKGROUND = (250, 247, 242)
INK = (31, 35, 40)
MUTED = (90, 96, 105)
ACCENT = (196, 30, 58)
TARGET = (120, 128, 140)
LEARNER = (14, 116, 144)
CHART_BOX = (60, 330, 1140, 525)
"""left, top, right, bottom of the contour chart."""
TEXT_BOX = (60, 40, 1140, 300)
"""Where hanzi, pinyin and the score are set (tests look for ink here)."""
FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc",
)


class FontMissingError(ServiceUnavailableError):
    code = "share_font_missing"


def font_path() -> Path:
    """The CJK font to draw with: SHARE_FONT_PATH, else the first known system font present."""
    configured = get_settings().share_font_path
    if configured:
        path = Path(configured)
        if not path.is_file():
            raise FontMissingError(
                f"SHARE_FONT_PATH={configured} does not exist; share images cannot be drawn."
            )
        return path
    for candidate in FONT_CANDIDATES:
        if Path(candidate).is_file():
            return Path(candidate)
    raise FontMissingError(
        "Share images need a Chinese font: install the Debian package fonts-noto-cjk "
        "(scripts/setup.sh does) or set SHARE_FONT_PATH to a TTF/OTF/TTC with CJK glyphs."
    )


@lru_cache(maxsize=32)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    # A .ttc holds several faces (JP, KR, SC, TC…); pick the Simplified Chinese one when named.
    for index in range(10):
        try:
            font = ImageFont.truetype(path, size, index=index)
        except OSError:
            break
        if "SC" in " ".join(str(part) for part in font.getname()):
            return font
    return ImageFont.truetype(path, size)


def font(size: int) -> ImageFont.FreeTypeFont:
    return _font(str(font_path()), size)


def _fit(draw: ImageDraw.ImageDraw, text: str, size: int, max_width: int) -> ImageFont.FreeTypeFont:
    """The largest font up to `size` that sets `text` within `max_width`."""
    while size > 18:
        f = font(size)
        if draw.textlength(text, font=f) <= max_width:
            return f
        size -= 4
    return font(18)


def _brand(draw: ImageDraw.ImageDraw, display_name: str | None) -> None:
    draw.text((60, HEIGHT - 46), "SayZhong · say it in tones", font=font(24), fill=MUTED)
    if display_name:
        label = f"shared by {display_name}"
        f = font(24)
        draw.text((WIDTH - 60 - draw.textlength(label, font=f), HEIGHT - 46), label, font=f, fill=MUTED)


def _series(
    values: list[Any], left: float, width: float, low: float, span: float
) -> list[list[tuple[float, float]]]:
    """Points of one contour across its syllable slot; a gap (None) splits the line."""
    top, bottom = CHART_BOX[1] + 24, CHART_BOX[3] - 24
    runs: list[list[tuple[float, float]]] = [[]]
    n = max(1, len(values) - 1)
    for i, v in enumerate(values):
        if not isinstance(v, int | float):
            runs.append([])
            continue
        x = left + width * (i / n if len(values) > 1 else 0.5)
        y = bottom - (bottom - top) * ((float(v) - low) / span)
        runs[-1].append((x, y))
    return [r for r in runs if r]


def _dashed(draw: ImageDraw.ImageDraw, run: list[tuple[float, float]], fill: tuple[int, int, int]) -> None:
    """A dashed polyline (14 px on, 10 px off along its length), so a flat target stays readable."""
    if len(run) == 1:
        x, y = run[0]
        draw.ellipse((x - 3, y - 3, x + 3, y + 3), fill=fill)
        return
    on, period, walked = 14.0, 24.0, 0.0
    for (x0, y0), (x1, y1) in itertools.pairwise(run):
        length = math.hypot(x1 - x0, y1 - y0)
        pos = 0.0
        while pos < length:
            phase = (walked + pos) % period
            step = min((on - phase) if phase < on else (period - phase), length - pos)
            if phase < on:
                a, b = pos / length, (pos + step) / length
                draw.line(
                    [(x0 + (x1 - x0) * a, y0 + (y1 - y0) * a), (x0 + (x1 - x0) * b, y0 + (y1 - y0) * b)],
                    fill=fill,
                    width=5,
                )
            pos += max(step, 1e-6)
        walked += length


def _chart(draw: ImageDraw.ImageDraw, syllables: list[dict[str, Any]]) -> None:
    left, top, right, bottom = CHART_BOX
    draw.rounded_rectangle(CHART_BOX, radius=16, fill=(255, 255, 255), outline=(225, 220, 212), width=2)
    values = [
        float(v)
        for s in syllables
        for key in ("learner", "target")
        for v in s.get(key) or []
        if isinstance(v, int | float)
    ]
    if not syllables or not values:
        draw.text((left + 30, top + 90), "No pitch contour for this take", font=font(30), fill=MUTED)
        return
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    slot = (right - left - 40) / len(syllables)
    label_font = font(24)
    for i, syl in enumerate(syllables):
        x0 = left + 20 + i * slot
        if i:
            draw.line([(x0, top + 12), (x0, bottom - 12)], fill=(235, 231, 224), width=2)
        inner_left, inner_width = x0 + slot * 0.1, slot * 0.8
        for run in _series(list(syl.get("target") or []), inner_left, inner_width, low, span):
            _dashed(draw, run, TARGET)
        for run in _series(list(syl.get("learner") or []), inner_left, inner_width, low, span):
            if len(run) > 1:
                draw.line(run, fill=LEARNER, width=6, joint="curve")
            else:
                x, y = run[0]
                draw.ellipse((x - 4, y - 4, x + 4, y + 4), fill=LEARNER)
        label = f"{syl.get('hanzi', '')} {syl.get('pinyin', '')}".strip()
        draw.text((x0 + 8, bottom + 6), label[:10], font=label_font, fill=MUTED)
    legend = font(22)
    draw.line([(right - 330, top - 18), (right - 300, top - 18)], fill=LEARNER, width=6)
    draw.text((right - 292, top - 32), "your voice", font=legend, fill=INK)
    _dashed(
        draw,
        [(right - 162, top - 18), (right - 124, top - 18)],
        TARGET,
    )
    draw.text((right - 118, top - 32), "target", font=legend, fill=INK)


def render_result(payload: dict[str, Any], display_name: str | None = None) -> bytes:
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    score = f"{int(payload.get('score') or 0)}"
    score_font = font(150)
    score_w = draw.textlength(score, font=score_font)
    hanzi = str(payload.get("hanzi", ""))
    text_width = int(TEXT_BOX[2] - TEXT_BOX[0] - score_w - 80)
    draw.text((TEXT_BOX[0], TEXT_BOX[1]), hanzi, font=_fit(draw, hanzi, 120, text_width), fill=INK)
    pinyin = str(payload.get("pinyin", ""))
    draw.text((TEXT_BOX[0], TEXT_BOX[1] + 170), pinyin, font=_fit(draw, pinyin, 48, text_width), fill=MUTED)
    draw.text((TEXT_BOX[2] - score_w, TEXT_BOX[1]), score, font=score_font, fill=ACCENT)
    caption = "/ 100 pronunciation"
    cap_font = font(28)
    draw.text(
        (TEXT_BOX[2] - draw.textlength(caption, font=cap_font), TEXT_BOX[1] + 190),
        caption,
        font=cap_font,
        fill=MUTED,
    )
    _chart(draw, list(payload.get("syllables") or []))
    _brand(draw, display_name)
    return _png(image)


def render_streak(payload: dict[str, Any], display_name: str | None = None) -> bytes:
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    days = int(payload.get("streak_days") or 0)
    draw.text((TEXT_BOX[0], TEXT_BOX[1]), f"{days}", font=font(200), fill=ACCENT)
    draw.text((TEXT_BOX[0], TEXT_BOX[1] + 240), "天连续练习", font=font(64), fill=INK)
    draw.text((TEXT_BOX[0], TEXT_BOX[1] + 330), f"{days}-day practice streak", font=font(48), fill=INK)
    longest, xp = int(payload.get("longest_days") or days), int(payload.get("xp_total") or 0)
    draw.text(
        (TEXT_BOX[0], TEXT_BOX[1] + 410), f"Longest: {longest} days · {xp} XP", font=font(34), fill=MUTED
    )
    _brand(draw, display_name)
    return _png(image)


def render_share(kind: str, payload: dict[str, Any], display_name: str | None = None) -> bytes:
    return render_streak(payload, display_name) if kind == "streak" else render_result(payload, display_name)


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=6)
    return out.getvalue()
