"""Queries over the shipped curriculum and the numbered-pinyin helpers."""

from __future__ import annotations

import pytest

from sayzhong.curriculum import service
from sayzhong.curriculum.models import LearnerTurn, PartnerTurn
from sayzhong.curriculum.pinyin import PinyinSyntaxError, hanzi_characters, parse_numbered, with_tone_marks
from sayzhong.errors import NotFoundError


def test_units_are_listed_in_teaching_order() -> None:
    units = service.list_units()
    assert [unit.order for unit in units] == sorted(unit.order for unit in units)
    assert units[0].id == "greetings"


def test_get_unit_and_phrase_by_id() -> None:
    unit = service.get_unit("food-drink")
    assert unit.title == "Food and drink"
    phrase = service.get_phrase("greetings.hello")
    assert (phrase.hanzi, phrase.pinyin, phrase.english) == ("你好", "ni3 hao3", "Hello.")
    assert service.unit_of_phrase("greetings.hello").id == "greetings"


def test_get_dialogue_and_follow_a_branch() -> None:
    dialogue = service.get_dialogue("restaurant")
    start = service.get_turn("restaurant", dialogue.start)
    assert isinstance(start, PartnerTurn)
    choice = service.get_turn("restaurant", "l2")
    assert isinstance(choice, LearnerTurn) and choice.is_choice
    targets = {option.next for option in choice.options}
    assert targets == {"p3-spicy", "p3-dumplings"}
    assert service.list_dialogues("food-drink") == (dialogue,)


def test_every_speakable_item_resolves_by_its_global_id() -> None:
    line = service.get_item("restaurant.l2-noodles")
    assert line.kind == "dialogue_line" and line.hanzi == "我要一碗牛肉面。"
    drill = service.get_item("drill.t3-3.nihao")
    assert drill.kind == "drill" and drill.surface_tones == (2, 3)
    assert service.get_item("greetings.hello").kind == "phrase"
    assert len(service.all_items()) > 250


def test_tone_drills_are_available() -> None:
    drills = service.tone_drills()
    assert len(drills.pairs) >= 20 and len(drills.syllables) >= 12


@pytest.mark.parametrize(
    "call",
    [
        lambda: service.get_unit("nope"),
        lambda: service.get_phrase("nope"),
        lambda: service.get_dialogue("nope"),
        lambda: service.get_turn("restaurant", "nope"),
        lambda: service.get_item("nope"),
    ],
)
def test_unknown_ids_raise_a_friendly_not_found(call: object) -> None:
    with pytest.raises(NotFoundError) as caught:
        call()  # type: ignore[operator]
    assert "does not exist" in caught.value.user_message


def test_numbered_pinyin_parses_and_rejects_bad_syllables() -> None:
    assert [(s.letters, s.tone) for s in parse_numbered("nü3 er2 lv4")] == [("nv", 3), ("er", 2), ("lv", 4)]
    with pytest.raises(PinyinSyntaxError, match=r"'hao' \(expected lower-case letters then a tone digit"):
        parse_numbered("ni3 hao")
    with pytest.raises(PinyinSyntaxError, match="'nii' is not a Mandarin syllable"):
        parse_numbered("nii3")
    with pytest.raises(PinyinSyntaxError, match="single spaces"):
        parse_numbered("ni3  hao3")


def test_tone_marks_and_hanzi_counting() -> None:
    assert with_tone_marks("ni3 hao3 ma5") == "nǐ hǎo ma"
    assert with_tone_marks("lv4 cha2") == "lǜ chá"
    assert hanzi_characters("你好！我叫A。") == (["你", "好", "我", "叫"], ["A"])
