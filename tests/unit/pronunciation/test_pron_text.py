"""Expected syllables: pinyin parsing, neutral tones, 一/不 and third-tone sandhi."""

from __future__ import annotations

import pytest

from sayzhong.errors import SayZhongError
from sayzhong.pronunciation.text import ExpectedSyllable, TextError, expected_syllables


def surface(text: str) -> list[int]:
    return [s.surface_tone for s in expected_syllables(text)]


def dictionary(text: str) -> list[int]:
    return [s.dictionary_tone for s in expected_syllables(text)]


@pytest.mark.parametrize(
    ("text", "tones"),
    [
        ("你好", [2, 3]),
        ("很好", [2, 3]),
        ("我很好", [2, 2, 3]),
        ("展览馆", [2, 2, 3]),
        ("小老虎", [3, 2, 3]),
        ("我想喝茶", [2, 3, 1, 2]),
        ("可以", [2, 3]),
        ("水果", [2, 3]),
        ("老鼠", [2, 3]),
        ("我也很好", [2, 2, 2, 3]),
        ("我买了五本书", [2, 3, 5, 2, 3, 1]),
    ],
)
def test_third_tone_sandhi_follows_word_structure(text: str, tones: list[int]) -> None:
    assert surface(text) == tones


@pytest.mark.parametrize(
    ("text", "alternatives"),
    [
        ("很好", [(), ()]),
        ("你好", [(), ()]),
        ("展览馆", [(), (), ()]),
        ("我很好", [(3,), (), ()]),
        ("我也很好", [(), (3,), (), ()]),
        ("请你给我打电话", [(), (3,), (), (3,), (), (), ()]),
    ],
)
def test_sandhi_across_prosodic_words_also_accepts_tone_3(
    text: str, alternatives: list[tuple[int, ...]]
) -> None:
    syls = expected_syllables(text)
    assert [s.alternative_tones for s in syls] == alternatives
    assert all(s.accepted_tones[0] == s.surface_tone for s in syls)


def test_third_tone_sandhi_stops_at_punctuation() -> None:
    assert surface("好，好") == [3, 3]


def test_third_tone_before_neutral_keeps_its_tone() -> None:
    assert surface("姐姐") == [3, 5]
    assert surface("我的") == [3, 5]


@pytest.mark.parametrize(
    ("text", "tones"),
    [
        ("一个", [2, 4]),
        ("一样", [2, 4]),
        ("一天", [4, 1]),
        ("一起", [4, 3]),
        ("一年", [4, 2]),
        ("一", [1]),
        ("第一", [4, 1]),
        ("十一", [2, 1]),
        ("统一", [3, 1]),
        ("一月", [1, 4]),
        ("看一看", [4, 5, 4]),
        ("不要", [2, 4]),
        ("不对", [2, 4]),
        ("不好", [4, 3]),
        ("不吃", [4, 1]),
        ("好不好", [3, 5, 3]),
        ("是不是", [4, 5, 4]),
        ("一百", [4, 3]),
        ("第一课", [4, 1, 4]),
        ("好久不见", [2, 3, 2, 4]),
        ("不客气", [2, 4, 5]),
    ],
)
def test_yi_and_bu_change_tone_by_context(text: str, tones: list[int]) -> None:
    assert surface(text) == tones


def test_yi_and_bu_keep_their_dictionary_tone() -> None:
    assert dictionary("一个") == [1, 4]
    assert dictionary("不对") == [4, 4]
    assert dictionary("看一看") == [4, 1, 4]


@pytest.mark.parametrize(
    ("text", "tones"),
    [
        ("妈妈", [1, 5]),
        ("爸爸", [4, 5]),
        ("谢谢", [4, 5]),
        ("东西", [1, 5]),
        ("朋友", [2, 5]),
        ("桌子", [1, 5]),
        ("好了吗", [3, 5, 5]),
        ("我们的", [3, 5, 5]),
        ("看看", [4, 5]),
        ("常常", [2, 2]),
    ],
)
def test_neutral_tones(text: str, tones: list[int]) -> None:
    assert surface(text) == tones


def test_neutral_syllables_are_not_judged() -> None:
    syls = expected_syllables("妈妈")
    assert [s.judged for s in syls] == [True, False]


def test_syllable_fields_for_hanzi() -> None:
    first = expected_syllables("我想喝茶")[0]
    assert first == ExpectedSyllable(
        grapheme="我",
        pinyin="wo3",
        dictionary_tone=3,
        surface_tone=2,
        initial="",
        final="uo",
        word_index=0,
        alternative_tones=(3,),
    )
    syls = expected_syllables("我想喝茶")
    assert [s.initial for s in syls] == ["", "x", "h", "ch"]
    assert [s.pinyin for s in syls] == ["wo3", "xiang3", "he1", "cha2"]


def test_polyphones_use_phrase_context() -> None:
    assert [s.pinyin for s in expected_syllables("银行")] == ["yin2", "hang2"]
    assert expected_syllables("行走")[0].pinyin == "xing2"


@pytest.mark.parametrize("text", ["wo3 xiang3 he1 cha2", "wǒ xiǎng hē chá", "WO3 XIANG3 HE1 CHA2"])
def test_pinyin_forms_give_the_same_syllables(text: str) -> None:
    syls = expected_syllables(text)
    assert [s.pinyin for s in syls] == ["wo3", "xiang3", "he1", "cha2"]
    assert [s.surface_tone for s in syls] == [2, 3, 1, 2]
    assert [s.grapheme for s in syls] == ["wǒ", "xiǎng", "hē", "chá"]


def test_pinyin_without_spaces_is_split_into_syllables() -> None:
    assert [s.pinyin for s in expected_syllables("nǐhǎo")] == ["ni3", "hao3"]
    assert [s.pinyin for s in expected_syllables("ni3hao3")] == ["ni3", "hao3"]
    assert [s.pinyin for s in expected_syllables("xi1'an1")] == ["xi1", "an1"]
    assert [s.pinyin for s in expected_syllables("Xī'ān")] == ["xi1", "an1"]


def test_pinyin_umlaut_spellings() -> None:
    assert [s.pinyin for s in expected_syllables("lv4 nü3 lu:4")] == ["lv4", "nv3", "lv4"]


def test_pinyin_neutral_tone_forms() -> None:
    assert surface("ma1 ma") == [1, 5]
    assert surface("ma1 ma5") == [1, 5]
    assert surface("ma1 ma0") == [1, 5]


def test_pinyin_gets_third_tone_sandhi_but_not_yi_bu_rules() -> None:
    assert surface("ni3 hao3") == [2, 3]
    assert surface("zhan3lan3guan3") == [2, 2, 3]
    assert surface("yi1 ge4") == [1, 4]  # could be 衣, so left as written


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "text_empty"),
        ("   ", "text_empty"),
        ("hello world", "text_bad_pinyin"),
        ("ni hao", "text_no_tones"),
        ("我有3个", "text_mixed"),
        ("ni3 hao7", "text_bad_pinyin"),
        ("xq3", "text_bad_pinyin"),
        ("我" * 600, "text_too_long"),
    ],
)
def test_unreadable_text_raises_a_clear_error(text: str, code: str) -> None:
    with pytest.raises(TextError) as info:
        expected_syllables(text)
    assert info.value.code == code
    assert isinstance(info.value, SayZhongError)
    assert len(info.value.user_message) > 10


@pytest.mark.parametrize(
    ("text", "tones"),
    [
        ("早上好！", [3, 5, 3]),  # jieba keeps 早上好 whole; 上 is still neutral (zǎoshang)
        ("晚上好！", [3, 5, 3]),
        ("昨天晚上", [2, 1, 3, 5]),
        ("明天早上", [2, 1, 3, 5]),
    ],
)
def test_time_words_keep_their_neutral_shang_inside_longer_words(text: str, tones: list[int]) -> None:
    assert surface(text) == tones


def test_a_reviewed_reading_sets_the_tones_before_the_sandhi_rules() -> None:
    # 东西 "east and west" (dōngxī), not the engine's 东西 "thing" (dōngxi).
    assert surface("东西") == [1, 5]
    assert [s.surface_tone for s in expected_syllables("东西", reading="dong1 xi1")] == [1, 1]
    # The rules still run on the reviewed tones: 3-3 sandhi, 一 before a 4th tone.
    assert [s.surface_tone for s in expected_syllables("你好", reading="ni3 hao3")] == [2, 3]
    assert [s.surface_tone for s in expected_syllables("一个", reading="yi1 ge4")] == [2, 4]
    syllables = expected_syllables("早上好！", reading="zao3 shang5 hao3")
    assert [(s.pinyin, s.surface_tone) for s in syllables] == [("zao3", 3), ("shang5", 5), ("hao3", 3)]


def test_a_reading_that_does_not_fit_the_text_is_refused() -> None:
    with pytest.raises(TextError, match="2 syllables but the text has 3"):
        expected_syllables("早上好", reading="zao3 shang5")
    with pytest.raises(TextError, match="not numbered pinyin"):
        expected_syllables("早上", reading="zǎo shang")
