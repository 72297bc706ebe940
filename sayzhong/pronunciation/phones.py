"""Pinyin → acoustic units for the forced aligner (``aligner.py``).

Owns the unit inventory and how a syllable (initial + final, as ``text.ExpectedSyllable`` spells
them: full finals ``iou``/``uei``/``uen``, ``v`` for ü, zero initial ``''``) becomes a unit
sequence. A final is decomposed into a medial glide, a nucleus and an offglide/coda so that rare
finals share data with common ones (``iang`` = i + a + ng, ``uo`` = u + o, ``vn`` = v + n).

Nucleus choices follow the surface vowel rather than the spelling, because the models are
acoustic: the ``a`` of ``ian``/``van`` and the ``e`` of ``ie``/``ve``/``ei``/``uei`` are the
front mid vowel [ɛ]/[e] (unit ``E``), the ``i`` after z c s (``ii``) and after zh ch sh r (``ir``)
are the apical vowels, ``ong``/``iong`` carry [ʊ] (unit ``u``). ``ao`` ends in ``u`` and ``ou``
in ``u`` as they are pronounced.

Also parses toneless pinyin spellings (``yuan``, ``lvu``, ``nuu``, ``jue``) for training data
whose labels are file names rather than ``ExpectedSyllable`` objects.
"""

from __future__ import annotations

INITIALS: tuple[str, ...] = tuple("b p m f d t n l g k h j q x zh ch sh r z c s".split())
# Final units; ``n``/``ng`` are codas and get a "_c" suffix so they never share a model with the
# initials n (an onset) — onset and coda nasals differ acoustically (release vs closure).
VOWELS: tuple[str, ...] = ("a", "o", "e", "E", "er", "i", "ii", "ir", "u", "v")
CODAS: tuple[str, ...] = ("n_c", "ng_c")
SIL = "sil"
UNITS: tuple[str, ...] = (SIL, *INITIALS, *VOWELS, *CODAS)

_FINALS: dict[str, tuple[str, ...]] = {
    "a": ("a",),
    "o": ("o",),
    "e": ("e",),
    "ê": ("E",),
    "er": ("er",),
    "ai": ("a", "i"),
    "ei": ("E", "i"),
    "ao": ("a", "u"),
    "ou": ("o", "u"),
    "an": ("a", "n_c"),
    "en": ("e", "n_c"),
    "ang": ("a", "ng_c"),
    "eng": ("e", "ng_c"),
    "ong": ("u", "ng_c"),
    "i": ("i",),
    "ia": ("i", "a"),
    "io": ("i", "o"),
    "ie": ("i", "E"),
    "iao": ("i", "a", "u"),
    "iou": ("i", "o", "u"),
    "ian": ("i", "E", "n_c"),
    "in": ("i", "n_c"),
    "iang": ("i", "a", "ng_c"),
    "ing": ("i", "ng_c"),
    "iong": ("i", "u", "ng_c"),
    "u": ("u",),
    "ua": ("u", "a"),
    "uo": ("u", "o"),
    "uai": ("u", "a", "i"),
    "uei": ("u", "E", "i"),
    "uan": ("u", "a", "n_c"),
    "uen": ("u", "e", "n_c"),
    "uang": ("u", "a", "ng_c"),
    "ueng": ("u", "e", "ng_c"),
    "v": ("v",),
    "ve": ("v", "E"),
    "van": ("v", "E", "n_c"),
    "vn": ("v", "n_c"),
}

# Zero-initial spellings → full finals.
_ZERO: dict[str, str] = {
    "yi": "i",
    "ya": "ia",
    "yo": "io",
    "ye": "ie",
    "yao": "iao",
    "you": "iou",
    "yan": "ian",
    "yin": "in",
    "yang": "iang",
    "ying": "ing",
    "yong": "iong",
    "yu": "v",
    "yue": "ve",
    "yuan": "van",
    "yun": "vn",
    "wu": "u",
    "wa": "ua",
    "wo": "uo",
    "wai": "uai",
    "wei": "uei",
    "wan": "uan",
    "wen": "uen",
    "wang": "uang",
    "weng": "ueng",
}
_ABBREVIATED = {"iu": "iou", "ui": "uei", "un": "uen"}


def final_units(initial: str, final: str) -> tuple[str, ...]:
    """Units of a final; the vowel ``i`` depends on the initial (apical after sibilants)."""
    final = final.replace("ü", "v").replace("u:", "v")
    if final == "i" and initial in ("z", "c", "s"):
        return ("ii",)
    if final == "i" and initial in ("zh", "ch", "sh", "r"):
        return ("ir",)
    if final in _ABBREVIATED:
        final = _ABBREVIATED[final]
    if initial in ("j", "q", "x") and final.startswith("u"):
        final = "v" + final[1:]
    if final == "ue":  # nue/lue spelt without the diaeresis
        final = "ve"
    units = _FINALS.get(final)
    if units is None:
        raise ValueError(f"unknown final {final!r}")
    return units


def syllable_units(initial: str, final: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(initial units, final units) of one syllable; the first is empty for a zero initial."""
    return ((initial,) if initial else ()), final_units(initial, final)


def split_pinyin(base: str) -> tuple[str, str]:
    """Toneless pinyin (``zhuang``, ``yuan``, ``luu``, ``nve``) → (initial, full final)."""
    s = base.lower().replace("ü", "v").replace("u:", "v").replace("uu", "v")
    if s in _ZERO:
        return "", _ZERO[s]
    for ini in sorted(INITIALS, key=len, reverse=True):
        if s.startswith(ini) and len(s) > len(ini):
            rest = s[len(ini) :]
            if ini in ("j", "q", "x") and rest.startswith("u"):
                rest = "v" + rest[1:]
            rest = _ABBREVIATED.get(rest, rest)
            final_units(ini, rest)  # raises for an unknown final
            return ini, rest
    final_units("", s)
    return "", s
