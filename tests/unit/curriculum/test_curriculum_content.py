"""The shipped content passes every check, including agreement with the engine's reading."""

from __future__ import annotations

import pytest

from sayzhong.curriculum.loader import check_curriculum, engine_reader, load_curriculum, speakable_items
from sayzhong.curriculum.models import LearnerTurn
from sayzhong.curriculum.pinyin import with_tone_marks
from sayzhong.curriculum.validation import ALL_TONE_PAIRS, REQUIRED_UNITS


def test_shipped_content_passes_the_full_check() -> None:
    report = check_curriculum(reader=engine_reader())
    assert report.problems == []
    assert report.engine_checked


def test_shipped_content_meets_the_size_requirements() -> None:
    curriculum = load_curriculum()
    assert [unit.id for unit in curriculum.units] == list(REQUIRED_UNITS)
    assert all(len(unit.phrases) >= 15 for unit in curriculum.units)
    assert sum(len(unit.phrases) for unit in curriculum.units) >= 120
    assert len(curriculum.dialogues) >= 8


def test_every_dialogue_offers_a_choice_that_branches() -> None:
    for dialogue in load_curriculum().dialogues:
        branching = [
            turn
            for turn in dialogue.turns
            if isinstance(turn, LearnerTurn)
            and len(turn.options) >= 2
            and len({option.next for option in turn.options}) == len(turn.options)
        ]
        assert branching, dialogue.id


def test_drills_cover_every_tone_and_tone_pair() -> None:
    drills = load_curriculum().drills
    single_tones = [int(d.pinyin[-1]) for d in drills.syllables]
    assert all(single_tones.count(tone) >= 3 for tone in (1, 2, 3, 4))
    pairs = {(int(d.pinyin.split()[0][-1]), int(d.pinyin.split()[1][-1])) for d in drills.pairs}
    assert pairs == set(ALL_TONE_PAIRS)
    third_pairs = [d for d in drills.pairs if d.pinyin.endswith("3") and d.pinyin.split()[0].endswith("3")]
    assert {d.hanzi for d in third_pairs} >= {"你好", "可以"}
    assert all(d.surface_tones == (2, 3) for d in third_pairs)


@pytest.mark.parametrize(
    "word", ["你好", "很好", "一个", "不是", "不要", "看一看", "妈妈", "谢谢", "东西", "的", "了", "吗"]
)
def test_phrases_exercise_sandhi_and_neutral_tones(word: str) -> None:
    phrases = [phrase for unit in load_curriculum().units for phrase in unit.phrases]
    assert any(word in phrase.hanzi for phrase in phrases), word


def test_speakable_items_have_unique_ids_and_displayable_pinyin() -> None:
    items = speakable_items(load_curriculum())
    assert len({item.id for item in items}) == len(items)
    hello = next(item for item in items if item.id == "greetings.hello")
    assert with_tone_marks(hello.pinyin) == "nǐ hǎo"
