"""Content models: frozen, plain data (never database tables).

Every speakable item (unit phrase, drill item, dialogue line) carries hanzi, numbered pinyin with
dictionary tones (5 = neutral, syllables separated by spaces) and English.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Id = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9]+(?:[-_][a-z0-9]+)*(?:\.[a-z0-9]+(?:[-_][a-z0-9]+)*)*$")
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Tone = Annotated[int, Field(ge=1, le=5)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Phrase(_Frozen):
    """A phrase taught in a unit."""

    id: Id
    hanzi: Text
    pinyin: Text
    english: Text
    note: Text
    """Short usage note: when to say it, and any tone change to listen for."""


class Unit(_Frozen):
    id: Id
    order: int = Field(ge=1)
    title: Text
    description: Text
    phrases: tuple[Phrase, ...]


class DialogueLine(_Frozen):
    """One spoken line; `next` is the id of the following turn, or None when the dialogue ends."""

    id: Id
    hanzi: Text
    pinyin: Text
    english: Text
    next: Id | None = None


class PartnerTurn(_Frozen):
    id: Id
    speaker: Literal["partner"]
    hanzi: Text
    pinyin: Text
    english: Text
    next: Id | None = None

    @property
    def line(self) -> DialogueLine:
        return DialogueLine(
            id=self.id, hanzi=self.hanzi, pinyin=self.pinyin, english=self.english, next=self.next
        )


class LearnerTurn(_Frozen):
    """The learner says one of `options`; two or three options make a branching choice."""

    id: Id
    speaker: Literal["learner"]
    hint: str = ""
    """Optional English prompt shown above the choices."""
    options: tuple[DialogueLine, ...] = Field(min_length=1, max_length=3)

    @property
    def is_choice(self) -> bool:
        return len(self.options) > 1


Turn = Annotated[PartnerTurn | LearnerTurn, Field(discriminator="speaker")]


class Dialogue(_Frozen):
    id: Id
    title: Text
    unit: Id
    """The unit this role-play belongs to."""
    scenario: Text
    """One or two English sentences setting the scene for the learner."""
    start: Id
    turns: tuple[Turn, ...]

    def turn(self, turn_id: str) -> PartnerTurn | LearnerTurn | None:
        for turn in self.turns:
            if turn.id == turn_id:
                return turn
        return None


class SyllableDrill(_Frozen):
    """One syllable said in isolation, for practising a single tone."""

    id: Id
    hanzi: Text
    pinyin: Text
    english: Text


class PairDrill(_Frozen):
    """A two-syllable word; `surface_tones` are the tones actually said (after sandhi)."""

    id: Id
    hanzi: Text
    pinyin: Text
    english: Text
    surface_tones: tuple[Tone, ...]
    note: str = ""


class ToneDrills(_Frozen):
    syllables: tuple[SyllableDrill, ...]
    pairs: tuple[PairDrill, ...]
    sandhi: tuple[PairDrill, ...] = ()
    """Words whose tones change in speech (一, 不, third-tone pairs), with the surface tones to say."""


class EngineDisagreement(_Frozen):
    """A reviewed case where the content deliberately differs from the engine's reading.

    Listed in `engine_disagreements.json` with the reason. The check accepts exactly this
    difference and reports the entry as stale once the engine agrees with the content.
    """

    id: Id
    """The speakable item's global id."""
    syllable: int = Field(ge=1)
    """1-based position of the syllable in the item."""
    content: Text
    """The content's syllable, e.g. "shang5"."""
    engine: Text
    """The engine's syllable with its dictionary tone, e.g. "shang4"."""
    reason: Text


class EngineDisagreements(_Frozen):
    disagreements: tuple[EngineDisagreement, ...] = ()


class Curriculum(_Frozen):
    units: tuple[Unit, ...]
    dialogues: tuple[Dialogue, ...]
    drills: ToneDrills


ItemKind = Literal["phrase", "dialogue_line", "drill"]


@dataclass(frozen=True, slots=True)
class SpeakableItem:
    """Anything with reference audio that a learner can say, under one global id.

    Phrases keep their own id; a dialogue line is `<dialogue id>.<line id>`; drills keep theirs.
    """

    id: str
    kind: ItemKind
    hanzi: str
    pinyin: str
    english: str
    surface_tones: tuple[int, ...] | None = None
    """Only drills declare surface tones; elsewhere the engine derives them."""
