"""Content checks beyond field types: ids, pinyin, engine readings, dialogue graphs, sizes.

Each check returns a list of `Problem`s rather than raising, so `content check` can list every
problem at once. The engine comparison takes the reader as an argument (the pronunciation engine's
`expected_syllables` in production) so the check stays pure and testable.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from sayzhong.curriculum.models import (
    Curriculum,
    Dialogue,
    EngineDisagreement,
    LearnerTurn,
    PairDrill,
    PartnerTurn,
    SpeakableItem,
)
from sayzhong.curriculum.pinyin import PinyinSyntaxError, hanzi_characters, normalise_letters, parse_numbered

MIN_UNITS = 8
MIN_PHRASES_PER_UNIT = 15
MIN_PHRASES_TOTAL = 120
MIN_DIALOGUES = 8
MIN_DIALOGUE_TURNS = 4
MIN_SYLLABLES_PER_TONE = 3
REQUIRED_UNITS = (
    "greetings",
    "numbers-time",
    "food-drink",
    "directions",
    "shopping",
    "family",
    "travel",
    "small-talk",
)
ALL_TONE_PAIRS = tuple((a, b) for a in (1, 2, 3, 4) for b in (1, 2, 3, 4, 5))


@dataclass(frozen=True, slots=True)
class Problem:
    where: str
    """File and item, e.g. "units/01-greetings.json › greetings.hello"."""
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class EngineSyllable(Protocol):
    """What the check needs from `sayzhong.pronunciation.text.ExpectedSyllable`."""

    @property
    def grapheme(self) -> str: ...
    @property
    def pinyin(self) -> str: ...
    @property
    def dictionary_tone(self) -> int: ...
    @property
    def surface_tone(self) -> int: ...


Reader = Callable[[str], Sequence[EngineSyllable]]


@dataclass(frozen=True, slots=True)
class Located:
    """A speakable item with the file it came from, for problem messages."""

    item: SpeakableItem
    source: str

    @property
    def where(self) -> str:
        return f"{self.source} › {self.item.id}"


def check_ids(items: Iterable[Located], extra_ids: Iterable[tuple[str, str]] = ()) -> list[Problem]:
    """Every phrase, drill, dialogue and dialogue line id is unique across the curriculum."""
    seen: dict[str, str] = {}
    problems: list[Problem] = []
    pairs = [(located.item.id, located.source) for located in items] + list(extra_ids)
    for item_id, source in pairs:
        if item_id in seen:
            problems.append(Problem(source, f"duplicate id {item_id!r} (also used in {seen[item_id]})"))
        else:
            seen[item_id] = source
    return problems


def check_text(located: Located) -> list[Problem]:
    """Pinyin syntax, and one syllable per hanzi (punctuation ignored)."""
    item = located.item
    problems: list[Problem] = []
    hanzi, stray = hanzi_characters(item.hanzi)
    if stray:
        problems.append(
            Problem(located.where, f"hanzi {item.hanzi!r} contains non-hanzi characters {''.join(stray)!r}")
        )
    try:
        syllables = parse_numbered(item.pinyin)
    except PinyinSyntaxError as exc:
        problems.append(Problem(located.where, f"pinyin {item.pinyin!r}: {exc}"))
        return problems
    if len(syllables) != len(hanzi):
        problems.append(
            Problem(
                located.where,
                f"{len(hanzi)} hanzi in {item.hanzi!r} but {len(syllables)} syllables in {item.pinyin!r}",
            )
        )
    if item.surface_tones is not None and len(item.surface_tones) != len(syllables):
        problems.append(
            Problem(located.where, f"{len(item.surface_tones)} surface tones for {len(syllables)} syllables")
        )
    return problems


def check_reading(
    located: Located,
    reader: Reader,
    disagreements: dict[tuple[str, int], EngineDisagreement] | None = None,
    used: set[tuple[str, int]] | None = None,
) -> list[Problem]:
    """The content's pinyin agrees with the engine's dictionary reading of the hanzi.

    Syllables and dictionary tones must match exactly, except for differences listed in
    `disagreements` (recorded in `used` so stale entries can be reported). Drills also declare
    their surface tones, which must match the engine's sandhi.
    """
    item = located.item
    disagreements = disagreements or {}
    try:
        ours = parse_numbered(item.pinyin)
    except PinyinSyntaxError:
        return []  # reported by check_text
    try:
        engine = list(reader(item.hanzi))
    except Exception as exc:  # the engine's failure is itself a content problem to report
        return [Problem(located.where, f"the engine could not read {item.hanzi!r}: {exc}")]
    engine_text = " ".join(f"{s.grapheme}={s.pinyin}" for s in engine)
    if len(engine) != len(ours):
        return [
            Problem(
                located.where,
                f"the engine reads {len(engine)} syllables in {item.hanzi!r} ({engine_text}) "
                f"but the pinyin {item.pinyin!r} has {len(ours)}",
            )
        ]
    problems: list[Problem] = []
    for position, (mine, theirs) in enumerate(zip(ours, engine, strict=True), start=1):
        their_letters = normalise_letters(theirs.pinyin.rstrip("012345"))
        ours_text = f"{mine.letters}{mine.tone}"
        theirs_text = f"{their_letters}{theirs.dictionary_tone}"
        if ours_text == theirs_text:
            continue
        known = disagreements.get((item.id, position))
        if known is not None and known.content == ours_text and known.engine == theirs_text:
            if used is not None:
                used.add((item.id, position))
            continue
        label = f"syllable {position} ({theirs.grapheme})"
        if mine.letters != their_letters:
            message = f"{label}: pinyin says {ours_text!r}, the engine reads {theirs_text!r}"
        else:
            message = (
                f"{label}: pinyin says tone {mine.tone} ({ours_text!r}), "
                f"the engine's dictionary tone is {theirs.dictionary_tone} ({theirs_text!r})"
            )
        problems.append(Problem(located.where, f"{message} in {item.hanzi!r} [engine: {engine_text}]"))
    if item.surface_tones is not None and not problems:
        engine_surface = tuple(s.surface_tone for s in engine)
        if engine_surface != item.surface_tones:
            problems.append(
                Problem(
                    located.where,
                    f"surface tones {list(item.surface_tones)} differ "
                    f"from the engine's {list(engine_surface)}",
                )
            )
    return problems


def check_dialogue(dialogue: Dialogue, source: str) -> list[Problem]:
    """Ids resolve, partner and learner turns alternate, every branch ends, one real choice exists."""
    where = f"{source} › {dialogue.id}"
    problems: list[Problem] = []
    turns: dict[str, PartnerTurn | LearnerTurn] = {}
    for turn in dialogue.turns:
        if turn.id in turns:
            problems.append(Problem(where, f"duplicate turn id {turn.id!r}"))
        turns[turn.id] = turn
    option_ids = Counter(
        option.id for turn in dialogue.turns if isinstance(turn, LearnerTurn) for option in turn.options
    )
    for line_id, count in option_ids.items():
        if count > 1 or line_id in turns:
            problems.append(Problem(where, f"line id {line_id!r} is used more than once in this dialogue"))
    if dialogue.start not in turns:
        problems.append(Problem(where, f"start turn {dialogue.start!r} does not exist"))
        return problems

    edges: dict[str, list[str | None]] = {}
    for turn in dialogue.turns:
        if isinstance(turn, PartnerTurn):
            targets: list[tuple[str, str | None]] = [(turn.id, turn.next)]
            expected = "learner"
        else:
            targets = [(f"{turn.id}/{option.id}", option.next) for option in turn.options]
            expected = "partner"
        edges[turn.id] = []
        for origin, target in targets:
            if target is None:
                edges[turn.id].append(None)
                continue
            following = turns.get(target)
            if following is None:
                problems.append(Problem(where, f"{origin} points to missing turn {target!r}"))
                continue
            if following.speaker != expected:
                problems.append(
                    Problem(
                        where,
                        f"{origin} is a {turn.speaker} line followed by another {following.speaker} "
                        f"turn {target!r}; partner and learner turns must alternate",
                    )
                )
            edges[turn.id].append(target)

    if any(p.message.endswith("must alternate") or "missing turn" in p.message for p in problems):
        return problems

    # Cycles would let a branch run forever; the dialogue graph must be acyclic.
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(node: str, path: list[str]) -> None:
        if cycle:
            return
        state[node] = 1
        for target in edges[node]:
            if target is None:
                continue
            if state.get(target) == 1:
                cycle.extend([*path[path.index(target) :], target])
                return
            if target not in state:
                visit(target, [*path, target])
        state[node] = 2

    visit(dialogue.start, [dialogue.start])
    if cycle:
        problems.append(Problem(where, "turns loop and never reach an end: " + " → ".join(cycle)))
        return problems
    unreachable = [turn.id for turn in dialogue.turns if turn.id not in state]
    if unreachable:
        problems.append(Problem(where, f"turns never reached from the start: {', '.join(unreachable)}"))

    # Shortest path (in turns) from the start to an end.
    shortest: dict[str, int] = {}

    def shortest_to_end(node: str) -> int:
        if node not in shortest:
            shortest[node] = 1 + min(0 if t is None else shortest_to_end(t) for t in edges[node])
        return shortest[node]

    length = shortest_to_end(dialogue.start)
    if length < MIN_DIALOGUE_TURNS:
        problems.append(
            Problem(where, f"the shortest path has {length} turns; every path needs {MIN_DIALOGUE_TURNS}+")
        )
    branching = [
        turn
        for turn in dialogue.turns
        if isinstance(turn, LearnerTurn)
        and turn.is_choice
        and len({option.next for option in turn.options}) == len(turn.options)
    ]
    if not branching:
        problems.append(
            Problem(
                where, "no branching choice: one learner turn needs 2-3 options leading to different turns"
            )
        )
    return problems


def check_sizes(curriculum: Curriculum, unit_sources: dict[str, str]) -> list[Problem]:
    problems: list[Problem] = []
    unit_ids = [unit.id for unit in curriculum.units]
    for unit in curriculum.units:
        if len(unit.phrases) < MIN_PHRASES_PER_UNIT:
            problems.append(
                Problem(
                    unit_sources.get(unit.id, unit.id),
                    f"unit {unit.id!r} has {len(unit.phrases)} phrases; "
                    f"each unit needs {MIN_PHRASES_PER_UNIT}+",
                )
            )
    for dup, count in Counter(unit_ids).items():
        if count > 1:
            problems.append(Problem("units", f"duplicate unit id {dup!r}"))
    orders = Counter(unit.order for unit in curriculum.units)
    for order, count in orders.items():
        if count > 1:
            problems.append(Problem("units", f"{count} units share order {order}"))
    missing = [name for name in REQUIRED_UNITS if name not in unit_ids]
    if missing:
        problems.append(Problem("units", f"missing required unit(s): {', '.join(missing)}"))
    if len(curriculum.units) < MIN_UNITS:
        problems.append(Problem("units", f"{len(curriculum.units)} units; the curriculum needs {MIN_UNITS}+"))
    total = sum(len(unit.phrases) for unit in curriculum.units)
    if total < MIN_PHRASES_TOTAL:
        problems.append(
            Problem("units", f"{total} phrases in total; the curriculum needs {MIN_PHRASES_TOTAL}+")
        )
    if len(curriculum.dialogues) < MIN_DIALOGUES:
        problems.append(
            Problem(
                "dialogues", f"{len(curriculum.dialogues)} dialogues; the curriculum needs {MIN_DIALOGUES}+"
            )
        )
    for dialogue in curriculum.dialogues:
        if dialogue.unit not in unit_ids:
            problems.append(Problem(f"dialogues › {dialogue.id}", f"unknown unit {dialogue.unit!r}"))
    return problems


def check_drills(curriculum: Curriculum, source: str) -> list[Problem]:
    """Single syllables for each tone, all 20 tone pairs, and correct surface tones."""
    drills = curriculum.drills
    problems: list[Problem] = []
    per_tone: Counter[int] = Counter()
    for single in drills.syllables:
        try:
            syllables = parse_numbered(single.pinyin)
        except PinyinSyntaxError:
            continue
        if len(syllables) != 1:
            problems.append(
                Problem(f"{source} › {single.id}", "a single-syllable drill must have one syllable")
            )
            continue
        per_tone[syllables[0].tone] += 1
    for tone in (1, 2, 3, 4):
        if per_tone[tone] < MIN_SYLLABLES_PER_TONE:
            problems.append(
                Problem(
                    source,
                    f"{per_tone[tone]} single syllables in tone {tone}; need {MIN_SYLLABLES_PER_TONE}+",
                )
            )
    covered: set[tuple[int, int]] = set()
    for drill in drills.pairs:
        tones = _pair_tones(drill, source, problems)
        if tones is None:
            continue
        covered.add(tones)
        expected = (2, 3) if tones == (3, 3) else tones
        if drill.surface_tones != expected:
            problems.append(
                Problem(
                    f"{source} › {drill.id}",
                    f"tones {list(tones)} are said {list(expected)}, not {list(drill.surface_tones)}",
                )
            )
    missing = [f"{a}+{b}" for a, b in ALL_TONE_PAIRS if (a, b) not in covered]
    if missing:
        problems.append(Problem(source, f"tone pairs without a drill word: {', '.join(missing)}"))
    for sandhi in drills.sandhi:
        _pair_tones(sandhi, source, problems, need_two=False)
    return problems


def _pair_tones(
    drill: PairDrill, source: str, problems: list[Problem], *, need_two: bool = True
) -> tuple[int, int] | None:
    try:
        syllables = parse_numbered(drill.pinyin)
    except PinyinSyntaxError:
        return None
    if need_two and len(syllables) != 2:
        problems.append(Problem(f"{source} › {drill.id}", "a tone-pair drill must have two syllables"))
        return None
    if len(syllables) != len(drill.surface_tones):
        return None  # reported by check_text
    if len(syllables) != 2:
        return None
    return (syllables[0].tone, syllables[1].tone)
