"""Plain coaching for a syllable: what tone was expected, what was heard, and how to fix it.

Hints name the tones by number (as the pinyin the learner sees does) and give one concrete
instruction about pitch: where to start, which way to move, where to end. Tone 5 is the neutral
tone, which is never judged as one of the four tones.
"""

from __future__ import annotations

NEUTRAL = 5

_HOW = {
    1: "keep it high and level, like holding a note",
    2: "start in the middle and rise, like asking “huh?”",
    3: "start low, dip to the bottom of your voice, then let it rise a little",
    4: "start high and fall sharply, like a firm “No!”",
}

# (expected, heard) -> the correction, in the learner's terms.
_FIX: dict[tuple[int, int], str] = {
    (1, 2): "start high and stay level — don't let it rise",
    (1, 3): "stay high and flat instead of dipping low",
    (1, 4): "hold the pitch high and steady instead of letting it fall",
    (2, 1): "start in the middle and rise, instead of staying flat on one note",
    (2, 3): "start higher and rise straight up without dipping first",
    (2, 4): "go up, not down: start in the middle and rise like a question",
    (3, 1): "drop low instead of staying high, and let the pitch dip",
    (3, 2): "start lower and dip before rising",
    (3, 4): "start low rather than high, and dip instead of falling from the top",
    (4, 1): "start high and fall sharply instead of staying level",
    (4, 2): "fall, don't rise: start at the top and drop sharply",
    (4, 3): "start at the top of your voice and drop quickly, instead of starting low",
}


def tone_hint(expected: int, detected: int | None) -> str:
    """One sentence of coaching for a syllable expected in `expected` and heard as `detected`."""
    if expected == NEUTRAL:
        return "Neutral tone: keep it light and short, without stressing it."
    if expected not in _HOW:
        raise ValueError(f"expected tone must be 1-5, got {expected!r}")
    if detected is None:
        return (
            f"Expected tone {expected} — we couldn't hear the tone clearly: {_HOW[expected]}. "
            "Say it a little louder and more slowly."
        )
    if detected not in _HOW:
        raise ValueError(f"detected tone must be 1-4 or None, got {detected!r}")
    if detected == expected:
        return f"Tone {expected} — well done: {_HOW[expected]}."
    return f"Expected tone {expected} — you said tone {detected}: {_FIX[(expected, detected)]}."


def tone_name(tone: int) -> str:
    """Short label for charts and lists: "Tone 3" or "Neutral tone"."""
    return "Neutral tone" if tone == NEUTRAL else f"Tone {tone}"
