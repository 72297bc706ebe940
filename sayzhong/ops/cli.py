"""Operator commands: `python -m sayzhong seed`, `python -m sayzhong backup …`."""

from __future__ import annotations

import argparse
import json
import secrets
import time
from pathlib import Path

from sayzhong import guard_cache
from sayzhong.accounts import staff, users
from sayzhong.db import session_scope
from sayzhong.settings import get_settings

DEV_ADMIN_EMAIL = "admin@sayzhong.app"


def seed(_args: argparse.Namespace) -> int:
    """Development seed: one admin account so the staff area can be tried. Never runs in production."""
    settings = get_settings()
    if settings.is_prod:
        print("seed: skipped in production; use `python -m sayzhong create-admin EMAIL`.")
        return 0
    password_file = settings.data_dir / "dev-admin-password.txt"
    with session_scope() as session:
        if users.find_user_by_email(session=session, email=DEV_ADMIN_EMAIL) is not None:
            return 0
        password = "sz-" + secrets.token_urlsafe(12)
        staff.create_admin(session=session, email=DEV_ADMIN_EMAIL, password=password)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    password_file.write_text(password + "\n")
    password_file.chmod(0o600)
    print(f"seed: created {DEV_ADMIN_EMAIL}; its password is in {password_file}")
    return 0


def backup_create(args: argparse.Namespace) -> int:
    from sayzhong.ops import backup

    settings = get_settings()
    start = time.perf_counter()
    made = backup.create_backup(settings, dest=Path(args.dest) if args.dest else None)
    print(
        f"backup: {made.path} ({made.manifest['total_bytes']} bytes, {len(made.manifest['files'])} files, "
        f"{time.perf_counter() - start:.1f} s)"
    )
    if args.offsite:
        print(f"backup: encrypted off-site copy {backup.copy_offsite(made, settings)}")
    if args.keep:
        for gone in backup.prune_backups(made.path.parent, keep=args.keep):
            print(f"backup: pruned {gone}")
    return 0


def backup_verify(args: argparse.Namespace) -> int:
    from sayzhong.ops import backup

    problems = backup.verify_backup(Path(args.path))
    for problem in problems:
        print(f"backup: {problem}")
    print("backup: intact" if not problems else f"backup: {len(problems)} problem(s)")
    return 1 if problems else 0


def backup_list(_args: argparse.Namespace) -> int:
    from sayzhong.ops import backup

    for item in backup.list_backups(backup.backup_root(get_settings())):
        print(f"{item.path}\t{item.manifest['total_bytes']}\t{item.manifest['database']}")
    return 0


def backup_restore(args: argparse.Namespace) -> int:
    from sayzhong.ops import backup

    settings = get_settings()
    path = Path(args.path)
    if path.is_file():  # an encrypted off-site copy: unpack it next to the other backups first
        if not settings.backup_encryption_key:
            print("backup: set BACKUP_ENCRYPTION_KEY to open an encrypted copy.")
            return 2
        path = backup.decrypt_backup(
            path, backup.backup_root(settings) / "from-offsite", passphrase=settings.backup_encryption_key
        )
    if not args.yes:
        print(f"backup: this REPLACES the database and recordings with {path}. Re-run with --yes.")
        return 2
    start = time.perf_counter()
    manifest = backup.restore_backup(settings, path)
    # The restore wrote outside the ORM: no web worker may answer a page load from before it.
    guard_cache.bump_everyone()
    print(
        json.dumps(
            {
                "restored": str(path),
                "rows": manifest["row_counts"],
                "seconds": round(time.perf_counter() - start, 2),
            }
        )
    )
    return 0


def guard_cache_reset(_args: argparse.Namespace) -> int:
    """After a change made outside the app (psql): every web worker reads each page load's guard
    from the database again (sayzhong/guard_cache.py)."""
    if not guard_cache.bump_everyone():
        print("guard-cache-reset: nothing to do (no REDIS_URL, or GUARD_CACHE_SECONDS=0: nothing is cached)")
        return 0
    print("guard-cache-reset: every web worker's remembered page-load guards are stale now")
    return 0


def register_cli(sub: argparse._SubParsersAction) -> None:
    g = sub.add_parser(
        "guard-cache-reset",
        help="make every web worker read page-load guards afresh (after a change made outside the app)",
    )
    g.set_defaults(handler=guard_cache_reset)

    p = sub.add_parser("seed", help="create development seed data (an admin account) if missing")
    p.set_defaults(handler=seed)

    b = sub.add_parser("backup", help="back up, verify, list and restore the database and recordings")
    bsub = b.add_subparsers(dest="backup_command", required=True, metavar="ACTION")
    create = bsub.add_parser("create", help="write a new backup (database + recordings + manifest)")
    create.add_argument("--dest", help="folder for the backup (default BACKUP_DIR or DATA_DIR/backups)")
    create.add_argument(
        "--offsite", action="store_true", help="also write an encrypted copy to BACKUP_OFFSITE_DIR"
    )
    create.add_argument("--keep", type=int, default=0, help="then keep only this many newest backups")
    create.set_defaults(handler=backup_create)
    verify = bsub.add_parser("verify", help="check every file of a backup against its manifest")
    verify.add_argument("path")
    verify.set_defaults(handler=backup_verify)
    listing = bsub.add_parser("list", help="list complete backups, newest first")
    listing.set_defaults(handler=backup_list)
    restore = bsub.add_parser("restore", help="replace the database and recordings with a backup")
    restore.add_argument("path", help="a backup folder, or an encrypted .szbackup file")
    restore.add_argument("--yes", action="store_true", help="confirm: the current data is replaced")
    restore.set_defaults(handler=backup_restore)
