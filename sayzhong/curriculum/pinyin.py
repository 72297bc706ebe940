"""Numbered pinyin as written in the content: parsing, syntax checks, hanzi counting, tone marks."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from sayzhong.lazy_imports import PYPINYIN, import_whole

_SYLLABLE_RE = re.compile(r"^([a-zü]+)([1-5])$")


@dataclass(frozen=True, slots=True)
class NumberedSyllable:
    letters: str
    """Lower-case, with ü written as v (the engine's spelling)."""
    tone: int


class PinyinSyntaxError(ValueError):
    pass


def normalise_letters(letters: str) -> str:
    return letters.lower().replace("ü", "v").replace("u:", "v")


@lru_cache(maxsize=1)
def valid_syllables() -> frozenset[str]:
    """Every toneless syllable pypinyin's dictionary knows (v for ü)."""
    import_whole(*PYPINYIN)
    from pypinyin.contrib.tone_convert import to_normal
    from pypinyin.pinyin_dict import pinyin_dict

    found: set[str] = set()
    for readings in pinyin_dict.values():
        for reading in readings.split(","):
            found.add(normalise_letters(to_normal(reading)))
    return frozenset(found)


def parse_numbered(pinyin: str) -> list[NumberedSyllable]:
    """Parse "ni3 hao3" into syllables; raise PinyinSyntaxError naming every bad syllable."""
    if pinyin != pinyin.strip() or "  " in pinyin:
        raise PinyinSyntaxError("separate syllables with single spaces, no leading or trailing space")
    if not pinyin:
        raise PinyinSyntaxError("pinyin is empty")
    parsed: list[NumberedSyllable] = []
    bad: list[str] = []
    for token in pinyin.split(" "):
        match = _SYLLABLE_RE.match(token.replace("v", "ü").replace("u:", "ü"))
        if not match:
            bad.append(f"{token!r} (expected lower-case letters then a tone digit 1-5)")
            continue
        letters = normalise_letters(match.group(1))
        if letters not in valid_syllables():
            bad.append(f"{token!r} ({letters!r} is not a Mandarin syllable)")
            continue
        parsed.append(NumberedSyllable(letters, int(match.group(2))))
    if bad:
        raise PinyinSyntaxError("bad syllable(s): " + ", ".join(bad))
    return parsed


def is_hanzi(char: str) -> bool:
    code = ord(char)
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x20000 <= code <= 0x2EBEF
        or 0xF900 <= code <= 0xFAFF
    )


def hanzi_characters(text: str) -> tuple[list[str], list[str]]:
    """Split text into (hanzi, stray characters); punctuation and spaces are ignored."""
    hanzi: list[str] = []
    stray: list[str] = []
    for char in text:
        if is_hanzi(char):
            hanzi.append(char)
        elif unicodedata.category(char)[0] in {"P", "Z", "S"}:
            continue
        else:
            stray.append(char)
    return hanzi, stray


@lru_cache(maxsize=4096)
def with_tone_marks(pinyin: str) -> str:
    """ "ni3 hao3 ma5" -> "nǐ hǎo ma" for display (cached: the course's phrases are a few
    hundred, and the home page shows one on every load)."""
    import_whole(*PYPINYIN)
    from pypinyin.contrib.tone_convert import to_tone

    return " ".join(to_tone(token.replace("v", "ü")) for token in pinyin.split())


def tones_of(pinyin: str) -> list[int]:
    return [syllable.tone for syllable in parse_numbered(pinyin)]
