"""`python -m sayzhong support …`: classify tickets in bulk, seed help articles, check SLAs."""

from __future__ import annotations

import argparse
import json
import sys

from sayzhong.support.routing import MAX_TEXT, Router


def _router() -> Router:
    """The live router (committed examples + staff corrections), or the committed one without a database."""
    from sqlalchemy.exc import SQLAlchemyError

    from sayzhong.db import session_scope
    from sayzhong.support import service

    try:
        with session_scope() as session:
            return service.get_router(session=session)
    except SQLAlchemyError:
        from sayzhong.support.routing import base_router

        print("note: database unavailable; using the committed training examples only", file=sys.stderr)
        return base_router()


def classify(args: argparse.Namespace) -> int:
    """One JSON line out per line in, in order; a bad line answers {"line": n, "error": "…"}."""
    router = _router()
    failures = 0
    try:
        handle = sys.stdin if args.batch == "-" else open(args.batch, encoding="utf-8")
    except OSError as exc:
        print(f"error: cannot read {args.batch}: {exc.strerror}", file=sys.stderr)
        return 2
    with handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                if not isinstance(data, dict):
                    raise ValueError("expected an object with subject and body")
                subject, body = data.get("subject", ""), data.get("body", "")
                if not isinstance(subject, str) or not isinstance(body, str) or not (subject or body).strip():
                    raise ValueError("subject and body must be text, and not both empty")
            except (json.JSONDecodeError, ValueError) as exc:
                failures += 1
                message = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
                print(json.dumps({"line": number, "error": f"not a ticket: {message}"}))
                continue
            routing = router.route(subject[:300], body[:MAX_TEXT])
            print(json.dumps(routing.to_dict(), ensure_ascii=False))
    return 1 if failures else 0


def seed_articles(_args: argparse.Namespace) -> int:
    from sayzhong.db import session_scope
    from sayzhong.support.help import seed_articles as seed

    with session_scope() as session:
        changed = seed(session=session)
    print(f"help articles: {changed} added or refreshed from the repository")
    return 0


def check_sla(_args: argparse.Namespace) -> int:
    from sayzhong.db import session_scope
    from sayzhong.support.service import check_sla as run

    with session_scope() as session:
        sent = run(session=session)
    for line in sent:
        print(line)
    return 0


def export_disputed(args: argparse.Namespace) -> int:
    from pathlib import Path

    from sayzhong.db import session_scope
    from sayzhong.support.feedback import export_disputed as run

    with session_scope() as session:
        written = run(session=session, out_dir=Path(args.out_dir))
    print(f"exported {written} disputed takes (shared with consent) to {args.out_dir}")
    return 0


def register_cli(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("support", help="support centre: classify tickets, seed help articles, SLAs")
    support_sub = parser.add_subparsers(dest="support_command", required=True, metavar="COMMAND")
    p = support_sub.add_parser(
        "classify", help="route tickets: JSON lines {subject, body} in, {queue, priority, confidence} out"
    )
    p.add_argument("--batch", required=True, metavar="FILE.jsonl", help="JSON lines file ('-' for stdin)")
    p.set_defaults(handler=classify)
    p = support_sub.add_parser("seed-articles", help="add or refresh help articles from the repository")
    p.set_defaults(handler=seed_articles)
    p = support_sub.add_parser(
        "export-disputed",
        help="write disputed takes learners shared, with manifest.jsonl (engine evaluation set)",
    )
    p.add_argument("out_dir", metavar="DIR")
    p.set_defaults(handler=export_disputed)
    p = support_sub.add_parser("check-sla", help="e-mail SLA warnings and breaches (once each)")
    p.set_defaults(handler=check_sla)
