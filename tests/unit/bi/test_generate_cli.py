"""`bi generate` registers itself next to the other BI commands, whichever module asks first."""

from __future__ import annotations

import argparse

from sayzhong.bi import generate


def _parse(parser: argparse.ArgumentParser, *argv: str) -> argparse.Namespace:
    return parser.parse_args(list(argv))


def test_generate_joins_existing_bi_actions_once() -> None:
    top = argparse.ArgumentParser()
    commands = top.add_subparsers(dest="command")
    bi = commands.add_parser("bi")
    actions = bi.add_subparsers(dest="bi_command", required=True)
    actions.add_parser("aggregate")
    generate.register_cli(actions)  # handed the `bi` actions by the BI command module
    generate.register_cli(commands)  # and listed in sayzhong/cli.py as well: no conflict
    args = _parse(top, "bi", "generate", "--learners", "5", "--seed", "9", "--end", "2026-11-01")
    assert (args.bi_command, args.learners, args.seed, args.end) == ("generate", 5, 9, "2026-11-01")
    assert args.handler is generate._cli_generate
    assert _parse(top, "bi", "aggregate").bi_command == "aggregate"


def test_generate_creates_the_bi_command_when_alone() -> None:
    top = argparse.ArgumentParser()
    commands = top.add_subparsers(dest="command")
    generate.register_cli(commands)
    args = _parse(top, "bi", "generate", "--learners", "100000", "--force")
    assert args.learners == 100000 and args.force and args.months == 12
