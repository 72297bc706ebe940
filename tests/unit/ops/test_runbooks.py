"""Every command a runbook tells an operator to run exists: our CLIs' sub-commands, scripts, make
targets and repository files; anything else must be one of the few named external CLIs."""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path

import pytest

from jobs.__main__ import ONE_SHOT
from sayzhong.cli import build_parser
from sayzhong.settings import REPO_ROOT

RUNBOOKS = sorted((REPO_ROOT / "docs/runbooks").glob("*.md"))
EXTERNAL = {"az", "curl", "docker"}  # Azure CLI, curl, Docker: installed on operator machines, not here
REPO_PATH = re.compile(r"^(deploy|scripts|bench|tests|docs|alembic)/[\w./-]+$")


def _commands(path: Path) -> list[list[str]]:
    out = []
    for block in re.findall(r"```sh\n(.*?)```", path.read_text(), re.S):
        for line in block.splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                words = shlex.split(line)
                while words and re.match(r"^[A-Z_]+=", words[0]):
                    words.pop(0)  # environment assignments before the command
                out.append(words)
    return out


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _check_sayzhong(args: list[str]) -> None:
    parser = build_parser()
    for word in args:
        if word.startswith("-"):
            return
        choices = _subcommands(parser)
        if not choices:
            return
        assert word in choices, f"python -m sayzhong has no command {word!r}"
        parser = choices[word]


def _check(words: list[str]) -> None:
    tool = words[0]
    if tool == "python":
        if words[1:3] == ["-m", "sayzhong"]:
            _check_sayzhong(words[3:])
        elif words[1:3] == ["-m", "jobs"]:
            assert words[3] == "--once" and words[4] in ONE_SHOT, words
        elif words[1:3] == ["-m", "pytest"]:
            assert (REPO_ROOT / words[3]).is_file(), words
        elif words[1] != "-c":
            assert (REPO_ROOT / words[1]).is_file(), words
    elif tool.startswith("scripts/"):
        assert (REPO_ROOT / tool).is_file(), tool
    elif tool == "make":
        assert re.search(rf"^{re.escape(words[1])}:", (REPO_ROOT / "Makefile").read_text(), re.M), words
    elif tool == "py-spy":  # the profiler, pinned in the dev requirements
        assert re.search(r"^py-spy==", (REPO_ROOT / "requirements-dev.txt").read_text(), re.M)
    elif tool == "alembic":
        assert words[1] in {"upgrade", "check", "current", "history"}, words
    else:
        assert tool in EXTERNAL, f"unknown command {tool!r}"
    for word in words:
        if REPO_PATH.match(word):
            assert (REPO_ROOT / word).exists(), f"{word} does not exist"


@pytest.mark.parametrize("runbook", RUNBOOKS, ids=lambda p: p.name)
def test_every_runbook_command_exists(runbook: Path) -> None:
    for words in _commands(runbook):
        _check(words)


def test_the_index_lists_every_runbook() -> None:
    index = (REPO_ROOT / "docs/runbooks/README.md").read_text()
    for runbook in RUNBOOKS:
        if runbook.name != "README.md":
            assert f"({runbook.name})" in index, runbook.name


def test_the_checker_catches_a_command_that_does_not_exist() -> None:
    with pytest.raises(AssertionError):
        _check(["python", "-m", "sayzhong", "backup", "teleport"])
    with pytest.raises(AssertionError):
        _check(["kubectl", "get", "pods"])
    with pytest.raises(AssertionError):
        _check(["docker", "build", "-f", "deploy/Nofile", "."])
