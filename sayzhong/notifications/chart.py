"""The weekly summary's tone chart: accuracy per tone on each day, as a PNG drawn with Pillow.

Drawn server-side (no browser, no network, no fonts to install) and embedded in the e-mail as an
inline image (`cid:`), so it shows in mail clients that block remote images.
"""

from __future__ import annotations

import io
import itertools
from typing import TYPE_CHECKING

from PIL import Image, ImageDraw, ImageFont

if TYPE_CHECKING:
    from sayzhong.notifications.reminders import WeeklyNumbers

WIDTH, HEIGHT = 640, 320
LEFT, RIGHT, TOP, BOTTOM = 56, 120, 24, 48
# Colour-blind-safe (Okabe-Ito) per tone, with a distinct marker shape each so colour is not needed.
TONE_COLOURS = {1: (0, 114, 178), 2: (213, 94, 0), 3: (0, 158, 115), 4: (204, 121, 167)}


def _marker(draw: ImageDraw.ImageDraw, tone: int, x: float, y: float, colour: tuple[int, int, int]) -> None:
    r = 5
    if tone == 1:
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
    elif tone == 2:
        draw.polygon([(x, y - r), (x + r, y + r), (x - r, y + r)], fill=colour)
    elif tone == 3:
        draw.rectangle((x - r, y - r, x + r, y + r), fill=colour)
    else:
        draw.polygon([(x, y - r), (x + r, y), (x, y + r), (x - r, y)], fill=colour)


def render_tone_chart(numbers: WeeklyNumbers) -> bytes:
    """PNG bytes: x = the seven days, y = 0-100 % accuracy, one line per tone (gaps where no data)."""
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default()
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    for pct in (0, 25, 50, 75, 100):
        y = TOP + plot_h * (1 - pct / 100)
        draw.line((LEFT, y, LEFT + plot_w, y), fill=(225, 225, 225))
        draw.text((8, y - 6), f"{pct}%", fill=(60, 60, 60), font=font)
    days = [numbers.first_day.toordinal() + i for i in range(7)]

    def x_of(i: int) -> float:
        return LEFT + plot_w * i / 6

    for i, ordinal in enumerate(days):
        label = numbers.first_day.fromordinal(ordinal).strftime("%a")
        draw.text((x_of(i) - 10, TOP + plot_h + 10), label, fill=(60, 60, 60), font=font)
    for tone, values in numbers.daily.items():
        colour = TONE_COLOURS[tone]
        points = [(x_of(i), TOP + plot_h * (1 - v)) if v is not None else None for i, v in enumerate(values)]
        for a, b in itertools.pairwise(points):
            if a is not None and b is not None:
                draw.line((a, b), fill=colour, width=3)
        for p in points:
            if p is not None:
                _marker(draw, tone, p[0], p[1], colour)
        legend_y = TOP + 10 + (tone - 1) * 22
        _marker(draw, tone, LEFT + plot_w + 22, legend_y + 6, colour)
        draw.text((LEFT + plot_w + 34, legend_y), f"Tone {tone}", fill=(30, 30, 30), font=font)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
