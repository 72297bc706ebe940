"""`python -m sayzhong content check | render-audio`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from sayzhong.curriculum.loader import (
    CheckReport,
    check_curriculum,
    engine_reader,
    load_curriculum,
    speakable_items,
)
from sayzhong.curriculum.models import Curriculum, LearnerTurn
from sayzhong.curriculum.validation import Problem, Reader


def register_cli(sub: Any) -> None:
    content = sub.add_parser("content", help="check lesson content and render its reference audio")
    commands = content.add_subparsers(dest="content_command", required=True, metavar="SUBCOMMAND")

    check = commands.add_parser("check", help="validate units, dialogues and drills; list every problem")
    check.add_argument(
        "--path", type=Path, default=None, help="content folder (default: the shipped content)"
    )
    check.set_defaults(handler=run_check)

    render = commands.add_parser("render-audio", help="pre-render reference audio for every phrase and drill")
    render.add_argument("--force", action="store_true", help="render again even when cached")
    render.set_defaults(handler=run_render_audio)


def run_check(args: argparse.Namespace, *, out: TextIO | None = None, reader: Reader | None = None) -> int:
    out = out or sys.stdout
    engine_problem: Problem | None = None
    if reader is None:
        try:
            reader = engine_reader()
        except ImportError as exc:
            engine_problem = Problem(
                "engine", f"cannot compare pinyin with the pronunciation engine ({exc}); is it installed?"
            )
    report = check_curriculum(args.path, reader=reader)
    problems = list(report.problems)
    if engine_problem is not None:
        problems.append(engine_problem)
    if problems:
        print(f"Content check FAILED: {len(problems)} problem(s)", file=out)
        for problem in problems:
            print(f"  - {problem}", file=out)
        return 1
    assert report.curriculum is not None
    print(summarise(report.curriculum, report), file=out)
    return 0


def summarise(curriculum: Curriculum, report: CheckReport | None = None) -> str:
    phrases = sum(len(unit.phrases) for unit in curriculum.units)
    learner_turns = [t for d in curriculum.dialogues for t in d.turns if isinstance(t, LearnerTurn)]
    partner_turns = sum(1 for d in curriculum.dialogues for t in d.turns if not isinstance(t, LearnerTurn))
    choices = sum(1 for t in learner_turns if t.is_choice)
    learner_lines = sum(len(t.options) for t in learner_turns)
    drills = curriculum.drills
    lines = [
        "Content check passed.",
        f"  units: {len(curriculum.units)} ("
        + ", ".join(f"{u.id} {len(u.phrases)}" for u in curriculum.units)
        + f"), {phrases} phrases",
        f"  dialogues: {len(curriculum.dialogues)}, {partner_turns} partner lines, "
        f"{learner_lines} learner lines, {choices} learner choices",
        f"  tone drills: {len(drills.syllables)} single syllables, {len(drills.pairs)} tone-pair words, "
        f"{len(drills.sandhi)} sandhi words",
        f"  speakable items: {len(speakable_items(curriculum))}",
    ]
    if report is not None and report.engine_checked:
        lines.append(f"  reviewed disagreements with the engine accepted: {len(report.accepted)}")
        lines.extend(
            f"    {d.id} syllable {d.syllable}: {d.content} (engine {d.engine})" for d in report.accepted
        )
    return "\n".join(lines)


def run_render_audio(args: argparse.Namespace, *, out: TextIO | None = None) -> int:
    from sayzhong.curriculum.reference_audio import reference_audio_store, render_all

    out = out or sys.stdout
    store = reference_audio_store()
    items = speakable_items(load_curriculum())
    print(f"Rendering reference audio with {store.voice.voice_id} into {store.root} …", file=out)
    summary = render_all(store, items, force=bool(getattr(args, "force", False)))
    print(
        f"  rendered {summary.rendered}, already cached {summary.cached}, failed {len(summary.failed)}",
        file=out,
    )
    for item_id, reason in summary.failed:
        print(f"  - {item_id}: {reason}", file=out)
    return 1 if summary.failed else 0
