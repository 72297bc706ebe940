"""Reads the JSON content files into a validated, cached `Curriculum`.

Layout of a content folder (the shipped one is `sayzhong/curriculum/content/`):
    units/*.json        one Unit per file (file names sort in unit order)
    dialogues/*.json    one Dialogue per file
    tone_drills.json    ToneDrills

`load_curriculum()` parses and runs the structural checks (ids, pinyin syntax, syllable counts,
dialogue graphs, sizes) and raises `CurriculumError` listing every problem. `check_curriculum()`
adds the comparison with the pronunciation engine's reading of each hanzi.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import pydantic

from sayzhong.curriculum.models import (
    Curriculum,
    Dialogue,
    EngineDisagreement,
    EngineDisagreements,
    LearnerTurn,
    SpeakableItem,
    ToneDrills,
    Unit,
)
from sayzhong.curriculum.validation import (
    Located,
    Problem,
    Reader,
    check_dialogue,
    check_drills,
    check_ids,
    check_reading,
    check_sizes,
    check_text,
)
from sayzhong.errors import SayZhongError

CONTENT_DIR = Path(__file__).resolve().parent / "content"
DRILLS_FILE = "tone_drills.json"
DISAGREEMENTS_FILE = "engine_disagreements.json"

_M = TypeVar("_M", bound=pydantic.BaseModel)


class CurriculumError(SayZhongError):
    code = "curriculum_invalid"
    http_status = 500
    default_message = "The lesson content could not be loaded."

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__()

    def __str__(self) -> str:
        return f"{len(self.problems)} content problem(s):\n" + "\n".join(f"  - {p}" for p in self.problems)


@dataclass
class CheckReport:
    curriculum: Curriculum | None
    problems: list[Problem] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    """Item id -> file it came from (relative to the content folder)."""
    accepted: list[EngineDisagreement] = field(default_factory=list)
    """Reviewed differences from the engine that the check accepted."""
    engine_checked: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


def speakable_items(curriculum: Curriculum) -> list[SpeakableItem]:
    """Every phrase, dialogue line and drill, each under its global id."""
    items: list[SpeakableItem] = []
    for unit in curriculum.units:
        for phrase in unit.phrases:
            items.append(SpeakableItem(phrase.id, "phrase", phrase.hanzi, phrase.pinyin, phrase.english))
    for dialogue in curriculum.dialogues:
        for turn in dialogue.turns:
            lines = turn.options if isinstance(turn, LearnerTurn) else (turn.line,)
            for line in lines:
                items.append(
                    SpeakableItem(
                        f"{dialogue.id}.{line.id}", "dialogue_line", line.hanzi, line.pinyin, line.english
                    )
                )
    drills = curriculum.drills
    for syllable in drills.syllables:
        items.append(SpeakableItem(syllable.id, "drill", syllable.hanzi, syllable.pinyin, syllable.english))
    for pair in (*drills.pairs, *drills.sandhi):
        items.append(
            SpeakableItem(pair.id, "drill", pair.hanzi, pair.pinyin, pair.english, pair.surface_tones)
        )
    return items


def _describe_loc(raw: Any, loc: tuple[int | str, ...]) -> str:
    """("phrases", 3, "english") -> "phrases[3] (greetings.thanks).english"."""
    parts: list[str] = []
    node = raw
    for key in loc:
        if isinstance(key, int):
            label = f"[{key}]"
            if isinstance(node, list) and 0 <= key < len(node):
                node = node[key]
                if isinstance(node, dict) and isinstance(node.get("id"), str):
                    label += f" ({node['id']})"
            parts.append(label)
        else:
            if key in {"partner", "learner"} and not (isinstance(node, dict) and key in node):
                continue  # discriminated-union tag, not a real field
            node = node.get(key) if isinstance(node, dict) else None
            parts.append(f".{key}" if parts else key)
    return "".join(parts) or "(top level)"


def _parse(path: Path, model: type[_M], relative: str, problems: list[Problem]) -> _M | None:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(relative, f"cannot read file: {exc}"))
        return None
    except json.JSONDecodeError as exc:
        problems.append(Problem(relative, f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"))
        return None
    try:
        return model.model_validate(raw)
    except pydantic.ValidationError as exc:
        errors = exc.errors()
        item_locs = [tuple(error["loc"]) for error in errors]
        for error in errors:
            loc = tuple(error["loc"])
            # A list whose item failed also reports "too short"; the item's error says it all.
            if error["type"] == "too_short" and any(
                len(o) > len(loc) and o[: len(loc)] == loc for o in item_locs
            ):
                continue
            where = _describe_loc(raw, loc)
            problems.append(Problem(relative, f"{where}: {error['msg']}"))
        return None


def _read(root: Path) -> tuple[Curriculum | None, list[Problem], dict[str, str], dict[str, str]]:
    problems: list[Problem] = []
    unit_sources: dict[str, str] = {}
    dialogue_sources: dict[str, str] = {}
    units: list[Unit] = []
    dialogues: list[Dialogue] = []
    unit_files = sorted((root / "units").glob("*.json"))
    dialogue_files = sorted((root / "dialogues").glob("*.json"))
    if not unit_files:
        problems.append(Problem("units", f"no unit files in {root / 'units'}"))
    for path in unit_files:
        relative = f"units/{path.name}"
        unit = _parse(path, Unit, relative, problems)
        if unit is not None:
            units.append(unit)
            unit_sources[unit.id] = relative
    for path in dialogue_files:
        relative = f"dialogues/{path.name}"
        dialogue = _parse(path, Dialogue, relative, problems)
        if dialogue is not None:
            dialogues.append(dialogue)
            dialogue_sources[dialogue.id] = relative
    drills = _parse(root / DRILLS_FILE, ToneDrills, DRILLS_FILE, problems)
    if problems or drills is None:
        return None, problems, unit_sources, dialogue_sources
    units.sort(key=lambda unit: unit.order)
    curriculum = Curriculum(units=tuple(units), dialogues=tuple(dialogues), drills=drills)
    return curriculum, problems, unit_sources, dialogue_sources


def _locate(
    curriculum: Curriculum, unit_sources: dict[str, str], dialogue_sources: dict[str, str]
) -> list[Located]:
    by_id: dict[str, str] = {}
    for unit in curriculum.units:
        for phrase in unit.phrases:
            by_id.setdefault(phrase.id, unit_sources[unit.id])
    for dialogue in curriculum.dialogues:
        for item_id in _dialogue_line_ids(dialogue):
            by_id.setdefault(item_id, dialogue_sources[dialogue.id])
    return [Located(item, by_id.get(item.id, DRILLS_FILE)) for item in speakable_items(curriculum)]


def _dialogue_line_ids(dialogue: Dialogue) -> list[str]:
    ids: list[str] = []
    for turn in dialogue.turns:
        lines = turn.options if isinstance(turn, LearnerTurn) else (turn.line,)
        ids.extend(f"{dialogue.id}.{line.id}" for line in lines)
    return ids


def check_curriculum(root: Path | None = None, *, reader: Reader | None = None) -> CheckReport:
    """Run every check on a content folder; with `reader`, also compare pinyin to the engine."""
    root = root or CONTENT_DIR
    curriculum, problems, unit_sources, dialogue_sources = _read(root)
    if curriculum is None:
        return CheckReport(None, problems)
    located = _locate(curriculum, unit_sources, dialogue_sources)
    extra_ids = [(dialogue.id, dialogue_sources[dialogue.id]) for dialogue in curriculum.dialogues]
    problems.extend(check_ids(located, extra_ids))
    for entry in located:
        problems.extend(check_text(entry))
    for dialogue in curriculum.dialogues:
        problems.extend(check_dialogue(dialogue, dialogue_sources[dialogue.id]))
    problems.extend(check_sizes(curriculum, unit_sources))
    problems.extend(check_drills(curriculum, DRILLS_FILE))
    accepted: list[EngineDisagreement] = []
    if reader is not None:
        accepted = _check_readings(root, located, reader, problems)
    sources = {entry.item.id: entry.source for entry in located}
    return CheckReport(curriculum, problems, sources, accepted, engine_checked=reader is not None)


def _check_readings(
    root: Path, located: list[Located], reader: Reader, problems: list[Problem]
) -> list[EngineDisagreement]:
    known: dict[tuple[str, int], EngineDisagreement] = {}
    path = root / DISAGREEMENTS_FILE
    if path.exists():
        parsed = _parse(path, EngineDisagreements, DISAGREEMENTS_FILE, problems)
        for entry in parsed.disagreements if parsed else ():
            known[(entry.id, entry.syllable)] = entry
    used: set[tuple[str, int]] = set()
    for item in located:
        problems.extend(check_reading(item, reader, known, used))
    for key, entry in known.items():
        if key not in used:
            problems.append(
                Problem(
                    DISAGREEMENTS_FILE,
                    f"stale entry for {entry.id} syllable {entry.syllable} "
                    f"({entry.content} vs {entry.engine}): the item or engine changed; update or remove it",
                )
            )
    return [known[key] for key in sorted(used)]


def engine_reader() -> Reader:
    """The pronunciation engine's reading of hanzi (imported lazily: it loads dictionaries)."""
    from sayzhong.pronunciation.text import expected_syllables

    return expected_syllables


def load_curriculum_from(root: Path) -> Curriculum:
    """Load and structurally validate a content folder; raise CurriculumError listing every problem."""
    report = check_curriculum(root)
    if report.curriculum is None or report.problems:
        raise CurriculumError(report.problems)
    return report.curriculum


@lru_cache(maxsize=1)
def load_curriculum() -> Curriculum:
    """The shipped curriculum, validated once per process."""
    return load_curriculum_from(CONTENT_DIR)
