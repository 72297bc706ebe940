"""`python -m sayzhong email …`: bounce imports, the suppression list, reminders and product-news campaigns
(issue 14; docs/operations.md)."""

from __future__ import annotations

import argparse
import dataclasses
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


def send_news(args: argparse.Namespace) -> int:
    from pathlib import Path

    from sayzhong.notifications import news

    try:
        body = Path(args.body_file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"Could not read {args.body_file}: {exc}")
        return 1
    try:
        letter = news.validate_news(campaign=args.campaign, subject=args.subject, body=body)
        if args.dry_run:
            with session_scope() as session:
                audience = len(news.news_audience(session=session))
                done = news.campaign_sent_count(session=session, campaign=letter.campaign)
            print(json.dumps({"campaign": letter.campaign, "audience": audience, "already_sent": done}))
            return 0
        result = news.send_product_news(
            campaign=letter.campaign, subject=letter.subject, body=letter.body, actor=None
        )
    except SayZhongError as exc:
        print(exc.user_message)
        return 1
    print(json.dumps(dataclasses.asdict(result)))
    return 0 if result.failed == 0 else 1


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
    p = email_sub.add_parser(
        "send-news",
        help="send a product-news campaign to verified learners who opted in (once per campaign and learner)",
    )
    p.add_argument("--campaign", required=True, help="short key, e.g. 2026-12-new-dialogues (re-runs skip)")
    p.add_argument("--subject", required=True)
    p.add_argument("--body-file", required=True, metavar="FILE.txt", help="the message, plain text (UTF-8)")
    p.add_argument("--dry-run", action="store_true", help="only count who would get it")
    p.set_defaults(handler=send_news)
