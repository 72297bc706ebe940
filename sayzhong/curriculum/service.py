"""Queries over the shipped curriculum (validated once, cached per process).

Unknown ids raise `NotFoundError`, whose message is safe to show a learner.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sayzhong.curriculum.loader import load_curriculum, speakable_items
from sayzhong.curriculum.models import (
    Dialogue,
    LearnerTurn,
    PartnerTurn,
    Phrase,
    SpeakableItem,
    ToneDrills,
    Unit,
)
from sayzhong.errors import NotFoundError


class UnitNotFoundError(NotFoundError):
    code = "unit_not_found"
    default_message = "That lesson does not exist."


class ItemNotFoundError(NotFoundError):
    code = "item_not_found"
    default_message = "That practice item does not exist."


@dataclass(frozen=True, slots=True)
class _Index:
    units: dict[str, Unit]
    phrases: dict[str, Phrase]
    phrase_units: dict[str, str]
    dialogues: dict[str, Dialogue]
    items: dict[str, SpeakableItem]


@lru_cache(maxsize=1)
def _index() -> _Index:
    curriculum = load_curriculum()
    units = {unit.id: unit for unit in curriculum.units}
    phrases = {phrase.id: phrase for unit in curriculum.units for phrase in unit.phrases}
    phrase_units = {phrase.id: unit.id for unit in curriculum.units for phrase in unit.phrases}
    dialogues = {dialogue.id: dialogue for dialogue in curriculum.dialogues}
    items = {item.id: item for item in speakable_items(curriculum)}
    return _Index(units, phrases, phrase_units, dialogues, items)


def list_units() -> tuple[Unit, ...]:
    """Units in teaching order."""
    return load_curriculum().units


def get_unit(unit_id: str) -> Unit:
    unit = _index().units.get(unit_id)
    if unit is None:
        raise UnitNotFoundError()
    return unit


def get_phrase(phrase_id: str) -> Phrase:
    phrase = _index().phrases.get(phrase_id)
    if phrase is None:
        raise NotFoundError("That phrase does not exist.", code="phrase_not_found")
    return phrase


def unit_of_phrase(phrase_id: str) -> Unit:
    get_phrase(phrase_id)
    return _index().units[_index().phrase_units[phrase_id]]


def list_dialogues(unit_id: str | None = None) -> tuple[Dialogue, ...]:
    dialogues = load_curriculum().dialogues
    if unit_id is None:
        return dialogues
    return tuple(dialogue for dialogue in dialogues if dialogue.unit == unit_id)


def get_dialogue(dialogue_id: str) -> Dialogue:
    dialogue = _index().dialogues.get(dialogue_id)
    if dialogue is None:
        raise NotFoundError("That conversation does not exist.", code="dialogue_not_found")
    return dialogue


def get_turn(dialogue_id: str, turn_id: str) -> PartnerTurn | LearnerTurn:
    turn = get_dialogue(dialogue_id).turn(turn_id)
    if turn is None:
        raise NotFoundError("That part of the conversation does not exist.", code="turn_not_found")
    return turn


def tone_drills() -> ToneDrills:
    return load_curriculum().drills


def get_item(item_id: str) -> SpeakableItem:
    """Any speakable item: a phrase id, a drill id, or `<dialogue id>.<line id>`."""
    item = _index().items.get(item_id)
    if item is None:
        raise ItemNotFoundError()
    return item


def all_items() -> tuple[SpeakableItem, ...]:
    """Every phrase, dialogue line and drill (for pre-rendering audio and review scheduling)."""
    return tuple(_index().items.values())
