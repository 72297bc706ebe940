"""`python -m sayzhong privacy …` — operator tools for data-subject requests.

- `privacy export --email E --out FILE.zip` writes the user's archive (same as the learner's export).
- `privacy erase --email E [--now]` schedules the deletion with the 14-day grace period, or with
  `--now` erases at once (for a request whose identity was verified).
- `privacy legal-check` validates every document under legal/.
Unknown addresses exit 1 with a clear message.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sayzhong.accounts.users import find_user_by_email, normalize_email
from sayzhong.audit import record_audit
from sayzhong.db import session_scope
from sayzhong.errors import SayZhongError


def register_cli(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("privacy", help="data export, erasure, legal documents")
    privacy = parser.add_subparsers(dest="privacy_command", required=True, metavar="ACTION")
    export = privacy.add_parser("export", help="write a user's data archive (ZIP)")
    export.add_argument("--email", required=True)
    export.add_argument("--out", required=True, type=Path)
    export.set_defaults(handler=_export)
    erase = privacy.add_parser("erase", help="delete a user's account and data")
    erase.add_argument("--email", required=True)
    erase.add_argument("--now", action="store_true", help="skip the 14-day grace period (verified request)")
    erase.set_defaults(handler=_erase)
    check = privacy.add_parser("legal-check", help="validate the documents under legal/")
    check.set_defaults(handler=_legal_check)


def _user_id(email: str) -> int:
    normalized = normalize_email(email)
    with session_scope() as session:
        user = find_user_by_email(session=session, email=normalized)
    if user is None:
        raise SayZhongError(f"No account uses the address {normalized}.")
    return user.id


def _export(args: argparse.Namespace) -> int:
    from sayzhong.privacy.export import build_export_zip

    try:
        user_id = _user_id(args.email)
        with session_scope() as session:
            data = build_export_zip(session=session, user_id=user_id)
            record_audit(
                session=session,
                action="privacy.export_requested",
                target=f"user:{user_id}",
                detail={"by": "cli"},
            )
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_bytes(data)
    except SayZhongError as exc:
        print(f"privacy export: {exc.user_message}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"privacy export: cannot write {args.out}: {exc.strerror}", file=sys.stderr)
        return 1
    print(f"privacy export: wrote {args.out} ({len(data)} bytes)")
    return 0


def _erase(args: argparse.Namespace) -> int:
    from sayzhong.privacy import erasure

    try:
        user_id = _user_id(args.email)
        if args.now:
            view = erasure.erase_now(session_factory=session_scope, user_id=user_id, requested_by="cli")
            print(f"privacy erase: account erased ({view.status}, {len(view.steps)} steps recorded)")
            return 0
        with session_scope() as session:
            view = erasure.request_erasure(
                session=session, user_id=user_id, reauthenticated=True, requested_by="cli"
            )
    except SayZhongError as exc:
        print(f"privacy erase: {exc.user_message}", file=sys.stderr)
        return 1
    print(
        f"privacy erase: scheduled for {view.scheduled_for:%Y-%m-%d %H:%M} UTC "
        "(the user was e-mailed a cancel link)"
    )
    return 0


def _legal_check(_args: argparse.Namespace) -> int:
    from sayzhong.legal.documents import check_documents

    problems = check_documents()
    for problem in problems:
        print(f"legal-check: {problem}", file=sys.stderr)
    if not problems:
        print("legal-check: all documents are valid")
    return 1 if problems else 0
