"""Deliberately broken copies of the content fail the check with a message that names the problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sayzhong.cli import main
from sayzhong.curriculum.loader import CurriculumError, check_curriculum, engine_reader, load_curriculum_from


def _phrase(data: dict[str, Any], phrase_id: str) -> dict[str, Any]:
    return next(p for p in data["phrases"] if p["id"] == phrase_id)


def _turn(data: dict[str, Any], turn_id: str) -> dict[str, Any]:
    return next(t for t in data["turns"] if t["id"] == turn_id)


def _messages(root: Path, *, engine: bool = True) -> list[str]:
    report = check_curriculum(root, reader=engine_reader() if engine else None)
    return [str(problem) for problem in report.problems]


def test_the_unchanged_copy_passes(content_copy: Any) -> None:
    assert _messages(content_copy.root) == []


def test_a_wrong_tone_is_reported_against_the_engine_reading(content_copy: Any) -> None:
    content_copy.edit(
        "units/01-greetings.json", lambda d: _phrase(d, "greetings.hello").update(pinyin="ni3 hao4")
    )
    messages = _messages(content_copy.root)
    assert len(messages) == 1
    assert "units/01-greetings.json › greetings.hello" in messages[0]
    assert (
        "syllable 2 (好): pinyin says tone 4 ('hao4'), the engine's dictionary tone is 3 ('hao3')"
        in messages[0]
    )


def test_a_wrong_syllable_is_reported(content_copy: Any) -> None:
    content_copy.edit(
        "units/08-small-talk.json",
        lambda d: _phrase(d, "small-talk.hobbies").update(pinyin="ni3 you3 shen2 me5 ai4 hao3"),
    )
    (message,) = _messages(content_copy.root)
    assert "small-talk.hobbies" in message and "'hao3'" in message and "'hao4'" in message


def test_a_dangling_dialogue_id_is_reported(content_copy: Any) -> None:
    content_copy.edit("dialogues/restaurant.json", lambda d: _turn(d, "p4").update(next="l9"))
    messages = _messages(content_copy.root, engine=False)
    assert any("restaurant" in m and "p4 points to missing turn 'l9'" in m for m in messages), messages


def test_a_duplicate_id_is_reported(content_copy: Any) -> None:
    content_copy.edit("units/06-family.json", lambda d: _phrase(d, "family.dad").update(id="greetings.hello"))
    messages = _messages(content_copy.root, engine=False)
    assert any(
        "duplicate id 'greetings.hello' (also used in units/01-greetings.json)" in m for m in messages
    ), messages


def test_a_missing_field_names_the_file_item_and_field(content_copy: Any) -> None:
    content_copy.edit("units/03-food-drink.json", lambda d: _phrase(d, "food-drink.cheers").pop("english"))
    messages = _messages(content_copy.root)
    assert len(messages) == 1
    assert messages[0].startswith("units/03-food-drink.json: phrases[")
    assert "(food-drink.cheers).english: Field required" in messages[0]


def test_a_missing_learner_line_field_is_reported(content_copy: Any) -> None:
    content_copy.edit("dialogues/hotel-checkin.json", lambda d: _turn(d, "l2")["options"][0].pop("pinyin"))
    (message,) = _messages(content_copy.root)
    assert "dialogues/hotel-checkin.json" in message and "(l2-here).pinyin: Field required" in message


def test_syllable_count_and_pinyin_syntax_are_checked(content_copy: Any) -> None:
    def change(data: dict[str, Any]) -> None:
        _phrase(data, "greetings.thank-you").update(pinyin="xie4")
        _phrase(data, "greetings.goodbye").update(pinyin="zai4 jian")

    content_copy.edit("units/01-greetings.json", change)
    messages = _messages(content_copy.root, engine=False)
    assert any("greetings.thank-you: 2 hanzi in '谢谢！' but 1 syllables in 'xie4'" in m for m in messages)
    assert any("greetings.goodbye: pinyin 'zai4 jian'" in m and "tone digit" in m for m in messages)


def test_a_dialogue_loop_is_reported(content_copy: Any) -> None:
    content_copy.edit(
        "dialogues/neighbour-chat.json", lambda d: _turn(d, "l4")["options"][0].update(next="p1")
    )
    messages = _messages(content_copy.root, engine=False)
    assert any("never reach an end" in m and "p1" in m for m in messages), messages


def test_turns_must_alternate_and_be_reachable(content_copy: Any) -> None:
    content_copy.edit("dialogues/family-chat.json", lambda d: _turn(d, "p1").update(next="p3"))
    messages = _messages(content_copy.root, engine=False)
    assert any("followed by another partner turn 'p3'" in m for m in messages), messages


def test_a_dialogue_without_a_real_branch_is_reported(content_copy: Any) -> None:
    def converge(data: dict[str, Any]) -> None:
        for option in _turn(data, "l2")["options"]:
            option["next"] = "p3-really"
        data["turns"] = [t for t in data["turns"] if t["id"] != "p3-modest"]

    content_copy.edit("dialogues/neighbour-chat.json", converge)
    messages = _messages(content_copy.root, engine=False)
    assert messages == [
        "dialogues/neighbour-chat.json › neighbour-chat: no branching choice: one learner turn "
        "needs 2-3 options leading to different turns"
    ]


def test_a_missing_tone_pair_and_wrong_sandhi_are_reported(content_copy: Any) -> None:
    def change(data: dict[str, Any]) -> None:
        data["pairs"] = [
            p for p in data["pairs"] if not p["pinyin"].endswith("5") or p["id"] != "drill.t2-5.pengyou"
        ]
        data["pairs"] = [p for p in data["pairs"] if p["id"] != "drill.t2-5.shenme"]
        next(p for p in data["pairs"] if p["id"] == "drill.t3-3.nihao")["surface_tones"] = [3, 3]

    content_copy.edit("tone_drills.json", change)
    messages = _messages(content_copy.root, engine=False)
    assert "tone_drills.json: tone pairs without a drill word: 2+5" in messages
    assert "tone_drills.json › drill.t3-3.nihao: tones [3, 3] are said [2, 3], not [3, 3]" in messages


def test_unit_sizes_are_enforced(content_copy: Any) -> None:
    content_copy.edit("units/07-travel.json", lambda d: d.update(phrases=d["phrases"][:10]))
    messages = _messages(content_copy.root, engine=False)
    assert "units/07-travel.json: unit 'travel' has 10 phrases; each unit needs 15+" in messages
    assert "units: 138 phrases in total; the curriculum needs 120+" not in messages


_REVIEWED_SHANG4 = {
    "id": "greetings.good-morning",
    "syllable": 2,
    "content": "shang4",
    "engine": "shang5",
    "reason": "test: a reviewer accepted this difference",
}


def test_an_unreviewed_disagreement_fails_and_a_reviewed_one_is_accepted(content_copy: Any) -> None:
    content_copy.edit(
        "units/01-greetings.json",
        lambda d: _phrase(d, "greetings.good-morning").update(pinyin="zao3 shang4 hao3"),
    )
    messages = _messages(content_copy.root)
    assert any("greetings.good-morning: syllable 2 (上): pinyin says tone 4" in m for m in messages), messages
    content_copy.edit("engine_disagreements.json", lambda d: d["disagreements"].append(_REVIEWED_SHANG4))
    assert _messages(content_copy.root) == []


def test_a_stale_engine_disagreement_is_reported(content_copy: Any) -> None:
    content_copy.edit("engine_disagreements.json", lambda d: d["disagreements"].append(_REVIEWED_SHANG4))
    messages = _messages(content_copy.root)
    assert any("stale entry for greetings.good-morning syllable 2" in m for m in messages), messages


def test_invalid_json_is_reported_with_its_position(content_copy: Any) -> None:
    (content_copy.root / "dialogues" / "restaurant.json").write_text('{"id": "restaurant",', encoding="utf-8")
    messages = _messages(content_copy.root, engine=False)
    assert len(messages) == 1 and messages[0].startswith("dialogues/restaurant.json: invalid JSON at line 1")


def test_loading_broken_content_raises_with_every_problem(content_copy: Any) -> None:
    content_copy.edit("dialogues/restaurant.json", lambda d: _turn(d, "p4").update(next="l9"))
    content_copy.edit("units/06-family.json", lambda d: _phrase(d, "family.dad").update(id="greetings.hello"))
    with pytest.raises(CurriculumError) as caught:
        load_curriculum_from(content_copy.root)
    assert len(caught.value.problems) == 2
    assert "missing turn 'l9'" in str(caught.value) and "duplicate id" in str(caught.value)


def test_cli_check_exits_non_zero_and_lists_problems(
    content_copy: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    content_copy.edit(
        "units/01-greetings.json", lambda d: _phrase(d, "greetings.hello").update(pinyin="ni3 hao4")
    )
    content_copy.edit("dialogues/restaurant.json", lambda d: _turn(d, "p4").update(next="l9"))
    assert main(["content", "check", "--path", str(content_copy.root)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("Content check FAILED: 2 problem(s)")
    assert "greetings.hello" in out and "missing turn 'l9'" in out


def test_cli_check_prints_a_summary_for_the_shipped_content(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["content", "check"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Content check passed.")
    assert "units: 8" in out and "dialogues: 8" in out and "reviewed disagreements" in out


def test_an_unreachable_turn_is_reported(content_copy: Any) -> None:
    def orphan(data: dict[str, Any]) -> None:
        data["turns"].append(
            {"id": "p9", "speaker": "partner", "hanzi": "再见！", "pinyin": "zai4 jian4", "english": "Bye!"}
        )

    content_copy.edit("dialogues/family-chat.json", orphan)
    messages = _messages(content_copy.root, engine=False)
    assert messages == ["dialogues/family-chat.json › family-chat: turns never reached from the start: p9"]


def test_cli_check_fails_when_the_engine_is_unavailable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from sayzhong.curriculum import cli as content_cli

    def missing() -> None:
        raise ImportError("No module named 'sayzhong.pronunciation.text'")

    monkeypatch.setattr(content_cli, "engine_reader", missing)
    assert main(["content", "check"]) == 1
    assert "cannot compare pinyin with the pronunciation engine" in capsys.readouterr().out
