"""How results are put into words: tone changes, neutral tones, the live-region sentence, the
microphone check — the same wording wherever it appears."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from sayzhong.practice.hints import (
    heard_phrase,
    neutral_feedback,
    phrase_tone_changes,
    result_announcement,
    tone_change_note,
    voice_description,
)
from sayzhong.practice.results import parse_result
from sayzhong.practice.schemas import SyllableView


@dataclass
class Syl:
    grapheme: str
    pinyin: str
    expected_tone: int
    detected_tone: int | None
    verdict: str


def test_third_tone_sandhi_is_explained_in_the_learners_terms() -> None:
    assert tone_change_note("你", "ni3", 2) == (
        "你 nǐ is said ní (tone 2) here: a third tone before another third tone rises."
    )
    assert tone_change_note("好", "hao3", 3) == ""


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("你好", "你 nǐ is said ní (tone 2)"),
        ("不是", "不 bù is said bú (tone 2) here: it rises before a fourth tone"),
        ("一张", "一 yī is said yì (tone 4) here: it falls before tones 1, 2 and 3"),
        ("ni3 hao3", "nǐ is said ní (tone 2)"),
    ],
)
def test_phrase_notes_cover_the_common_tone_changes(text: str, fragment: str) -> None:
    notes = phrase_tone_changes(text)
    assert any(fragment in note for note in notes), notes


def test_a_phrase_without_changes_has_no_note_and_junk_is_harmless() -> None:
    assert phrase_tone_changes("妈") == []
    assert phrase_tone_changes("") == []
    assert phrase_tone_changes("<script>") == []


def test_the_result_card_uses_the_same_note_as_the_phrase_card() -> None:
    raw = {
        "NBest": [
            {
                "Words": [
                    {
                        "Word": "你好",
                        "Syllables": [
                            {
                                "Grapheme": "你",
                                "Syllable": "ni3",
                                "ExpectedTone": 2,
                                "ToneVerdict": "correct",
                            },
                            {
                                "Grapheme": "好",
                                "Syllable": "hao3",
                                "ExpectedTone": 3,
                                "ToneVerdict": "correct",
                            },
                        ],
                    }
                ]
            }
        ]
    }
    views = [SyllableView.from_parsed(s) for s in parse_result(raw).syllables]
    assert views[0].tone_change == phrase_tone_changes("你好")[0]
    assert views[1].tone_change == ""


def test_a_neutral_syllable_says_what_a_neutral_tone_needs() -> None:
    raw = {
        "NBest": [
            {
                "Words": [
                    {
                        "Word": "妈妈",
                        "Syllables": [
                            {
                                "Grapheme": "妈",
                                "Syllable": "ma1",
                                "ExpectedTone": 1,
                                "ToneVerdict": "correct",
                            },
                            {
                                "Grapheme": "妈",
                                "Syllable": "ma5",
                                "ExpectedTone": 5,
                                "ToneVerdict": "not_judged",
                                "NeutralCheck": "long",
                            },
                        ],
                    }
                ]
            }
        ]
    }
    neutral = SyllableView.from_parsed(parse_result(raw).syllables[1])
    assert neutral.verdict == "neutral" and neutral.neutral_check == "long"
    assert neutral.hint == neutral_feedback("long")
    assert "light and short" in neutral.hint and "long or stressed" in neutral.hint
    assert "unclear" not in heard_phrase("neutral", 5, None, "long")
    assert heard_phrase("neutral", 5, None, "light") == "fine"
    assert neutral_feedback("light").endswith("yours was fine.")


def test_an_unknown_neutral_check_reads_as_not_checked() -> None:
    raw = {
        "NBest": [{"Words": [{"Syllables": [{"Grapheme": "吗", "ExpectedTone": 5, "NeutralCheck": "x"}]}]}]
    }
    assert parse_result(raw).syllables[0].neutral_check is None


def test_the_live_region_sentence_counts_right_syllables_and_names_the_misses() -> None:
    syllables = [
        Syl("你", "ni3", 2, 2, "correct"),
        Syl("好", "hao3", 3, 4, "wrong_tone"),
        Syl("吗", "ma5", 5, None, "neutral"),
        Syl("我", "wo3", 3, 3, "correct"),
        Syl("很", "hen3", 3, None, "correct"),
    ]
    assert result_announcement(syllables) == "3 of 4 syllables right; 好: expected tone 3, you said 4"


def test_the_live_region_sentence_for_unclear_and_unsaid_takes() -> None:
    unclear = [Syl("好", "hao3", 3, None, "unclear")]
    assert (
        result_announcement(unclear)
        == "0 of 1 syllable right; 好: expected tone 3, we couldn't tell which tone"
    )
    nothing = [Syl("好", "hao3", 3, None, "not_said")]
    assert result_announcement(nothing, said_message="We didn't hear 好.") == "We didn't hear 好."


@pytest.mark.parametrize(
    ("hz", "semitones", "words"),
    [(110, 10, "fairly low"), (170, 10, "middle"), (230, 10, "fairly high"), (300, 18, "wide range")],
)
def test_the_microphone_check_speaks_plain_words(hz: float, semitones: float, words: str) -> None:
    text = voice_description(hz, semitones)
    assert words in text
    assert "Hz" not in text and "semitone" not in text
    assert "relative to your own voice" in text
