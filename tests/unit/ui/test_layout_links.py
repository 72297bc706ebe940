"""Footer links appear only for pages that exist; the continue card names the unit and opens the
very phrase."""

from __future__ import annotations

import pytest

from pages import template
from sayzhong.curriculum import service as curriculum
from sayzhong.practice.schemas import ContinueItem
from state.home import _continue_target


def test_footer_shows_only_registered_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    # A dynamic route counts for the paths it serves: /help/[article] serves /help/contact.
    monkeypatch.setattr(template, "REGISTERED_ROUTES", ["/", "/help", "/help/[article]"])
    assert template.footer_links() == (("Help", "/help"), ("Contact", "/help/contact"))
    monkeypatch.setattr(template, "REGISTERED_ROUTES", ["/", "/home"])
    assert template.footer_links() == ()


def test_every_footer_entry_can_be_found_at_its_first_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(template, "REGISTERED_ROUTES", [paths[0] for _label, paths in template.FOOTER_LINKS])
    assert [label for label, _href in template.footer_links()] == ["Help", "Contact"]


def _item(item_id: str, **kw: object) -> ContinueItem:
    item = curriculum.get_item(item_id)
    fields: dict[str, object] = {"unit_id": None, "unit_title": None, "dialogue_id": None, **kw}
    return ContinueItem(
        item_id=item.id, kind=item.kind, hanzi=item.hanzi, pinyin=item.pinyin, english=item.english, **fields
    )  # type: ignore[arg-type]


def test_a_drill_continues_in_its_drill_unit_at_that_drill() -> None:
    title, href = _continue_target(_item("drill.t1.ma"))
    assert title == "Tone drills: single syllables"
    assert href == "/practice?unit=drills-syllables&item=drill.t1.ma"
    title, href = _continue_target(_item("drill.t1-1.jintian"))
    assert title == "Tone drills: two-syllable pairs" and href.endswith("item=drill.t1-1.jintian")


def test_a_phrase_continues_in_its_named_unit() -> None:
    unit = curriculum.list_units()[0]
    phrase = unit.phrases[1]
    title, href = _continue_target(_item(phrase.id, unit_id=unit.id, unit_title=unit.title))
    assert title == unit.title and title != "Lesson"
    assert href == f"/practice?unit={unit.id}&item={phrase.id}"
