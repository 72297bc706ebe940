"""Share-card rendering speed and size: prints per-card timings for result and streak cards.

Run: .venv/bin/python bench/share_card_bench.py [N]
The cards are drawn by `sayzhong.growth.render` exactly as the /s/<slug>/card.png route does
(first request per card; later ones within the process are served from a small cache).
"""

from __future__ import annotations

import math
import statistics
import sys
import time

from sayzhong.growth import render


def _payload(syllables: int) -> dict[str, object]:
    hanzi = "我们明天一起去北京吃烤鸭吧"[:syllables]
    return {
        "hanzi": hanzi,
        "pinyin": " ".join(
            ["wǒ", "men", "míng", "tiān", "yì", "qǐ", "qù", "běi", "jīng", "chī", "kǎo", "yā", "ba"][
                :syllables
            ]
        ),
        "score": 87,
        "syllables": [
            {
                "hanzi": h,
                "pinyin": "x",
                "learner": [3 + math.sin(i / 6 + k) for i in range(40)],
                "target": [3 + 1.1 * math.sin(i / 6 + k) for i in range(40)],
            }
            for k, h in enumerate(hanzi)
        ],
    }


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    render.font(100)  # load the font once, as a running server has
    cases = {
        "result, 2 syllables": ("result", _payload(2)),
        "result, 8 syllables": ("result", _payload(8)),
        "result, 13 syllables": ("result", _payload(13)),
        "streak": ("streak", {"streak_days": 42, "longest_days": 60, "xp_total": 12345}),
    }
    print(f"font: {render.font_path()}")
    print(f"{'card':<22} {'median ms':>10} {'p90 ms':>8} {'PNG KiB':>8}")
    for label, (kind, payload) in cases.items():
        times, size = [], 0
        for _ in range(n):
            start = time.perf_counter()
            png = render.render_share(kind, payload, "Mei")
            times.append((time.perf_counter() - start) * 1000)
            size = len(png)
        times.sort()
        p90 = times[min(len(times) - 1, int(0.9 * len(times)))]
        print(f"{label:<22} {statistics.median(times):>10.1f} {p90:>8.1f} {size / 1024:>8.1f}")


if __name__ == "__main__":
    main()
