"""`python -m sayzhong email …`: bounce imports and the suppression list (issue 14; docs/operations.md)."""

from __future__ import annotations

import argparse
import json

from sayzhong.db import session_scope
from sayzhong.errors import SayZhongError
from sayzhong.notifications import preferences


def import_bounces(args: argparse.Namespace) -> int:
    import mailbox

    try:
        with session_scope() as session:
            counts = preferences.import_bounce_mbox(session=session, path=args.mbox)
    except (OSError, mailbox.Error, SayZhongError) as exc:
        print(f"Could not import {args.mbox}: {getattr(exc, 'user_message', exc)}")
        return 1
    print(json.dumps(counts))
    return 0


def suppress(args: argparse.Namespace) -> int:
    try:
        with session_scope() as session:
            added = preferences.suppress(
                session=session, email=args.email, reason="manual", source="cli", detail=args.reason
            )
    except SayZhongError as exc:
        print(exc.user_message)
        return 1
    print("suppressed" if added else "already suppressed")
    return 0


def unsuppress(args: argparse.Namespace) -> int:
    with session_scope() as session:
        removed = preferences.unsuppress(session=session, email=args.email)
    print("removed" if removed else "not on the suppression list")
    return 0 if removed else 1


def send_reminders(_args: argparse.Namespace) -> int:
    from sayzhong.notifications.reminders import run_reminders

    print(json.dumps(run_reminders()))
    return 0


def register_cli(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("email", help="reminder e-mail: bounces, suppression list, send due reminders")
    email_sub = parser.add_subparsers(dest="email_command", required=True, metavar="COMMAND")
    p = email_sub.add_parser("import-bounces", help="suppress hard bounces found in an mbox of DSNs")
    p.add_argument("mbox", metavar="FILE.mbox")
    p.set_defaults(handler=import_bounces)
    p = email_sub.add_parser("suppress", help="stop non-transactional mail to an address")
    p.add_argument("email")
    p.add_argument("--reason", default="", help="why (kept for staff)")
    p.set_defaults(handler=suppress)
    p = email_sub.add_parser("unsuppress", help="remove an address from the suppression list")
    p.add_argument("email")
    p.set_defaults(handler=unsuppress)
    p = email_sub.add_parser("send-reminders", help="send the reminders due now (the jobs runner does it)")
    p.set_defaults(handler=send_reminders)
