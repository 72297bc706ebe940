"""`sayzhong-client`: the terminal learner client — argument parsing and the command table.

    sayzhong-client [--server URL] login | logout | lessons | practice UNIT | review | devices | sync | status

Exit codes: 0 done (also when a take was scored offline and queued), 1 failed, 2 bad usage,
3 the access token is missing, expired or revoked (run `login`).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from sayzhong.client import audio as audio_mod
from sayzhong.client.api import ClientError
from sayzhong.client.commands import (
    cmd_devices,
    cmd_lessons,
    cmd_login,
    cmd_logout,
    cmd_review,
    cmd_status,
)
from sayzhong.client.context import EXIT_FAILED, Context
from sayzhong.client.practice import cmd_practice
from sayzhong.client.sync import cmd_sync


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sayzhong-client",
        description="Practise Mandarin pronunciation from the terminal with your microphone.",
    )
    parser.add_argument(
        "--server", help="SayZhong address (default: saved, $SAYZHONG_SERVER, or http://localhost:3000)"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, help_text: str, *, json_flag: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        if json_flag:
            p.add_argument("--json", action="store_true", help="print JSON for scripts")
        return p

    login = add("login", "store an access token from your account page (checked with the server)")
    login.add_argument("--token", help="the token (default: read from the terminal or stdin)")
    add("logout", "remove the stored token from this computer")
    add("lessons", "list the lessons")
    practice = add("practice", "practise a lesson's phrases with your microphone")
    practice.add_argument("unit", metavar="UNIT", help="lesson id (see `lessons`)")
    practice.add_argument("--phrase", help="start at this phrase (number from 1, or phrase id)")
    practice.add_argument("--device", help="input device number or name (see `devices`)")
    practice.add_argument("--output-device", help="output device for the example (number or name)")
    practice.add_argument("--wav", metavar="FILE", help="submit this audio file instead of recording")
    practice.add_argument("--no-play", action="store_true", help="do not play the example first")
    practice.add_argument(
        "--max-seconds", type=float, default=audio_mod.DEFAULT_MAX_SECONDS, help="longest take"
    )
    practice.add_argument(
        "--silence", type=float, default=audio_mod.DEFAULT_SILENCE_S, help="seconds of quiet that end a take"
    )
    add("review", "show what is due for review")
    add("devices", "list microphones and speakers")
    add("sync", "upload takes recorded offline")
    add("status", "show server, account, queue and microphone")
    return parser


COMMANDS: dict[str, Callable[[Context], int]] = {
    "login": cmd_login,
    "logout": cmd_logout,
    "lessons": cmd_lessons,
    "practice": cmd_practice,
    "review": cmd_review,
    "devices": cmd_devices,
    "sync": cmd_sync,
    "status": cmd_status,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    ctx = Context(args, sys.stdout, sys.stderr)
    try:
        return COMMANDS[args.command](ctx)
    except ClientError as exc:
        return ctx.fail(exc)
    except KeyboardInterrupt:
        ctx.note("Stopped.")
        return 130
    except Exception as exc:
        if os.environ.get("SAYZHONG_DEBUG"):
            raise
        ctx.note(f"Unexpected error: {type(exc).__name__}: {exc} (set SAYZHONG_DEBUG=1 for details)")
        return EXIT_FAILED
