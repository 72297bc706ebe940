"""Forced aligner on real recordings from ../shared/data (skipped when the data is not there).

The committed model was trained on these recordings, so this checks the plumbing on real
speech (decode → align → decide), not held-out accuracy: that is bench/align_bench.py's job.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from sayzhong.pronunciation.aligner import Alignment, align_text
from sayzhong.pronunciation.audio import AudioClippedError, _decode, decode_audio
from sayzhong.pronunciation.text import expected_syllables

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
SR = 16_000


def _read(path: Path) -> np.ndarray:
    data = path.read_bytes()
    try:
        return decode_audio(data).samples
    except AudioClippedError:
        return _decode(data, 60.0)


@pytest.fixture(scope="module")
def aishell() -> list[tuple[np.ndarray, str]]:
    root = DATA / "aishell1-sample"
    if not (root / "manifest.jsonl").exists():
        pytest.skip("shared data not available")
    rows = [json.loads(line) for line in (root / "manifest.jsonl").read_text(encoding="utf-8").splitlines()]
    return [(_read(root / r["audio"]), r["text"]) for r in rows[:: len(rows) // 6][:6]]


@pytest.fixture(scope="module")
def words() -> dict[str, np.ndarray]:
    root = DATA / "dspspeech20-train"
    if not (root / "manifest.jsonl").exists():
        pytest.skip("shared data not available")
    out: dict[str, np.ndarray] = {}
    for line in (root / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        if "clipped" not in r["flags"] and r["hanzi"] not in out:
            out[r["hanzi"]] = _read(root / r["audio"])
    return out


def align(samples: np.ndarray, text: str) -> Alignment:
    return align_text(samples, SR, expected_syllables(text))


def test_read_sentences_are_said_and_spans_are_ordered(aishell: list[tuple[np.ndarray, str]]) -> None:
    said = []
    for samples, text in aishell:
        al = align(samples, text)
        assert len(al.syllables) == len(expected_syllables(text))
        ends = [(s.start_s, s.end_s) for s in al.syllables]
        assert all(a < b for a, b in ends)
        assert all(ends[i][1] <= ends[i + 1][0] + 1e-9 for i in range(len(ends) - 1))
        said += [s.said for s in al.syllables]
    assert np.mean(said) >= 0.9


def test_a_sentence_against_another_sentence_is_not_judged_said(
    aishell: list[tuple[np.ndarray, str]],
) -> None:
    # Held-out rates are in bench/RESULTS-align.md; this is a floor that a broken GOP would miss.
    statuses, said = [], []
    for k, (samples, _) in enumerate(aishell):
        al = align(samples, aishell[(k + 3) % len(aishell)][1])
        statuses.append(al.status)
        said += [s.said for s in al.syllables]
        assert al.utterance_presence < 0.5
    assert "ok" not in statuses
    assert np.mean(said) <= 0.25


def test_first_word_only_of_a_two_word_text_misses_the_second_word(words: dict[str, np.ndarray]) -> None:
    al = align(words["北京"], "北京饭店")
    assert [s.said for s in al.syllables][2:] == [False, False]
    assert al.status in ("partial", "different_text")
    assert al.syllables[1].end_s <= words["北京"].size / SR


def test_extra_word_after_the_text_is_extra_speech(words: dict[str, np.ndarray]) -> None:
    samples = np.concatenate([words["上海"], np.zeros(int(0.2 * SR), np.float32), words["识别"]])
    al = align(samples, "上海")
    assert al.status == "extra_speech"
    assert al.extra_speech_s >= 0.3
    assert al.syllables[-1].end_s <= words["上海"].size / SR + 0.1


@pytest.mark.parametrize("text", ["你好", "请问洗手间在哪儿", "我想喝茶", "你叫什么名字"])
def test_digital_silence_is_judged_like_a_quiet_microphone(
    espeak_phrase: Callable[[str], Path], text: str
) -> None:
    """espeak-ng's pauses are exact zeros. Before the front end dithered, 你好 was taken for
    another text (presence 0.05) and 请问洗手间在哪儿's end flipped, against the same takes
    with a -70 dBFS noise floor; the two must now agree."""
    samples = decode_audio(espeak_phrase(text).read_bytes()).samples
    assert np.count_nonzero(samples == 0) > 800  # at least 800 samples of exact digital silence
    floor = np.random.default_rng(1).standard_normal(samples.size).astype(np.float32) * 10 ** (-70 / 20)
    expected = expected_syllables(text)
    silent, quiet = align_text(samples, SR, expected), align_text(samples + floor, SR, expected)
    assert silent.status == quiet.status
    assert [s.said for s in silent.syllables] == [s.said for s in quiet.syllables]
    gaps = [abs(a.presence - b.presence) for a, b in zip(silent.syllables, quiet.syllables, strict=True)]
    assert max(gaps) <= 0.2, gaps
