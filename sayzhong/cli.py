"""`python -m sayzhong …` — operator and learner command line.

Each feature registers its own sub-commands through a `register_cli(subparsers)` function in its
`cli.py`; this module only assembles them, so adding a command never touches another feature.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Feature modules that contribute sub-commands (each has register_cli(subparsers)).
_COMMAND_MODULES = (
    "sayzhong.accounts.cli",
    "sayzhong.pronunciation.cli",
    "sayzhong.curriculum.cli",
    "sayzhong.ops.cli",
    "sayzhong.support.cli",
    "sayzhong.privacy.cli",
    "sayzhong.billing.cli",
    "sayzhong.notifications.cli",  # issue 14: bounces and suppressions
    "sayzhong.bi.generate",  # issue 15: `bi generate` (synthetic data)
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sayzhong", description="SayZhong command line")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # feature not built yet
                continue
            raise
        module.register_cli(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    result = handler(args)
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
