"""Real human recordings from ../shared/data for tests of the engine on speech it must judge.

``syllable_take("wo2 xiang3 he1 cha2")`` joins isolated syllables of the davinfifield speaker into
one take (a learner reading slowly, syllable by syllable); ``word_take(speaker, label)`` is one
two-syllable word of a DSPSpeech-20 speaker; ``sentence(n)`` a native read sentence. Missing data
fails the test (the suite never skips what it cannot check).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from sayzhong.pronunciation.audio import _decode
from sayzhong.pronunciation.corpora import trim_silence
from tests.support.pron_synth import to_wav

__all__ = ["SR", "sentence", "syllable_samples", "syllable_take", "to_wav", "word_path", "word_take"]

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
SR = 16_000


def _require(path: Path) -> Path:
    if not path.exists():
        raise FileNotFoundError(f"test data missing: {path} (the shared corpora live beside the repository)")
    return path


def samples_of(path: Path) -> np.ndarray:
    return _decode(_require(path).read_bytes(), 60.0)


def syllable_samples(
    pinyin: str, *, gap_s: float = 0.12, lead_s: float = 0.3, tail_s: float = 0.4
) -> np.ndarray:
    """Numbered pinyin syllables ("ma1 ma3"), each from its own isolated recording."""
    parts = [np.zeros(int(lead_s * SR), np.float32)]
    for syl in pinyin.split():
        parts.append(
            trim_silence(
                samples_of(DATA / "syllables-davinfifield" / "mp3" / f"{syl.replace('v', 'uu')}.mp3")
            )
        )
        parts.append(np.zeros(int(gap_s * SR), np.float32))
    parts.append(np.zeros(int(tail_s * SR), np.float32))
    return np.concatenate(parts).astype(np.float32)


def syllable_take(pinyin: str, **kwargs: float) -> bytes:
    return to_wav(syllable_samples(pinyin, **kwargs))


def manifest(corpus: str) -> list[dict[str, object]]:
    lines = _require(DATA / corpus / "manifest.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def word_path(hanzi: str, *, index: int = 0) -> Path:
    """The ``index``-th unflagged DSPSpeech-20 recording of the word ``hanzi``."""
    rows = [r for r in manifest("dspspeech20-train") if r["hanzi"] == hanzi and not r["flags"]]
    return DATA / "dspspeech20-train" / str(rows[index]["audio"])


def word_take(hanzi: str, *, index: int = 0) -> bytes:
    return _require(word_path(hanzi, index=index)).read_bytes()


def sentence(index: int) -> tuple[bytes, str]:
    row = manifest("aishell1-sample")[index]
    return _require(DATA / "aishell1-sample" / str(row["audio"])).read_bytes(), str(row["text"])
