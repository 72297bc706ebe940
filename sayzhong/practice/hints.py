"""Plain coaching for a syllable: what tone was expected, what was heard, and how to fix it.

Hints name the tones by number (as the pinyin the learner sees does) and give one concrete
instruction about pitch: where to start, which way to move, where to end. Tone 5 is the neutral
tone, which is never judged as one of the four tones.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Protocol

NEUTRAL = 5
NEUTRAL_HINT = "Neutral tone: keep it light and short, without stressing it."

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
        return NEUTRAL_HINT
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


# --- tone changes (sandhi) -------------------------------------------------------------------
# One wording for every place that shows a tone change: the phrase card in lessons and reviews,
# the placement prompts and the per-syllable result cards.


def _marked(base: str, tone: int) -> str:
    from sayzhong.curriculum.pinyin import with_tone_marks

    return with_tone_marks(f"{base}{tone}") if 1 <= tone <= 4 else base.replace("v", "ü")


def _why_changed(base: str, dictionary_tone: int, surface_tone: int) -> str:
    if surface_tone == NEUTRAL:
        return "it is unstressed in this word"
    if dictionary_tone == 3 and surface_tone == 2:
        return "a third tone before another third tone rises"
    if base in ("bu", "yi") and surface_tone == 2:
        return "it rises before a fourth tone"
    if base == "yi" and surface_tone == 4:
        return "it falls before tones 1, 2 and 3"
    return "the tones around it change it"


def tone_change_note(grapheme: str, pinyin_numbered: str, surface_tone: int) -> str:
    """ "你 nǐ is said ní here (tone 2): a third tone before another third tone rises." — or "" when
    the syllable keeps its dictionary tone. `pinyin_numbered` carries the dictionary tone (ni3)."""
    text = pinyin_numbered.strip().lower()
    if not text or not text[-1].isdigit():
        return ""
    base, dictionary_tone = text[:-1], int(text[-1])
    if dictionary_tone == surface_tone or not 1 <= dictionary_tone <= 4 or not 1 <= surface_tone <= NEUTRAL:
        return ""
    said = (
        "with a neutral tone"
        if surface_tone == NEUTRAL
        else f"{_marked(base, surface_tone)} (tone {surface_tone})"
    )
    dictionary = _marked(base, dictionary_tone)
    label = dictionary if grapheme in ("", dictionary) else f"{grapheme} {dictionary}"
    return f"{label} is said {said} here: {_why_changed(base, dictionary_tone, surface_tone)}."


def phrase_tone_changes(text: str) -> list[str]:
    """Tone-change notes for a whole phrase (hanzi or numbered pinyin), in order; [] if unreadable."""
    return list(_phrase_tone_changes(text))


@functools.lru_cache(maxsize=4096)
def _phrase_tone_changes(text: str) -> tuple[str, ...]:
    """Kept per text: a lesson page shows every phrase's notes on each load, and the analysis
    (word segmentation, then the tone rules) costs about as much as the rest of the load (issue 16)."""
    from sayzhong.errors import SayZhongError
    from sayzhong.pronunciation.text import expected_syllables

    try:
        syllables = expected_syllables(text)
    except (SayZhongError, ValueError):
        return ()
    notes: list[str] = []
    for syl in syllables:
        note = tone_change_note(syl.grapheme, syl.pinyin, syl.surface_tone)
        if note and note not in notes:
            notes.append(note)
    return tuple(notes)


# --- result wording ----------------------------------------------------------------------------


def neutral_feedback(check: str | None) -> str:
    """What a neutral-tone syllable needs, and how this take did ("long" or "light" from the engine)."""
    if check == "long":
        return "Neutral tone: light and short — yours was long or stressed. Say it quickly and softly."
    if check == "light":
        return "Neutral tone: light and short — yours was fine."
    return NEUTRAL_HINT


def heard_phrase(verdict: str, expected: int, detected: int | None, neutral_check: str | None = None) -> str:
    """The "you said …" part of a syllable result, in plain words."""
    if verdict == "not_said":
        return "we didn't hear it"
    if verdict == "neutral" or expected == NEUTRAL:
        return {"long": "yours was long or stressed", "light": "fine"}.get(neutral_check or "", "not judged")
    if verdict == "correct":
        return f"you said {expected}"
    if detected is not None and detected != expected:
        return f"you said {detected}"
    return "we couldn't tell which tone"


class _SyllableLike(Protocol):
    @property
    def grapheme(self) -> str: ...
    @property
    def pinyin(self) -> str: ...
    @property
    def expected_tone(self) -> int: ...
    @property
    def detected_tone(self) -> int | None: ...
    @property
    def verdict(self) -> str: ...


def result_announcement(syllables: Sequence[_SyllableLike], *, said_message: str = "") -> str:
    """One sentence for the live region: "3 of 4 syllables right; 好: expected tone 3, you said 4"."""
    judged = [s for s in syllables if s.verdict in ("correct", "wrong_tone", "unclear")]
    if not judged:
        return said_message or "Result ready: no syllable could be judged for its tone."
    right = sum(1 for s in judged if s.verdict == "correct")
    parts = [f"{right} of {len(judged)} syllable{'s' if len(judged) != 1 else ''} right"]
    for s in judged:
        if s.verdict == "correct":
            continue
        label = s.grapheme or s.pinyin
        heard = heard_phrase(s.verdict, s.expected_tone, s.detected_tone)
        parts.append(f"{label}: expected tone {s.expected_tone}, {heard}")
    sentence = "; ".join(parts)
    return f"{said_message} {sentence}".strip() if said_message else sentence


def voice_description(median_hz: float, range_semitones: float) -> str:
    """The microphone-check result in plain words (no Hz, no semitones)."""
    if median_hz < 140:
        pitch = "fairly low"
    elif median_hz < 200:
        pitch = "in the middle range"
    elif median_hz < 260:
        pitch = "fairly high"
    else:
        pitch = "high"
    if range_semitones < 6:
        spread = "moves over a narrow range — let it rise and fall freely"
    elif range_semitones <= 14:
        spread = "moves comfortably between high and low"
    else:
        spread = "moves over a wide range"
    return (
        f"Your voice is {pitch} and {spread}. We'll judge every tone relative to your own voice, "
        "so how high or low you naturally speak never counts against you."
    )
