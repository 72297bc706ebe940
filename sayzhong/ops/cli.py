"""Operator commands: `python -m sayzhong seed`."""

from __future__ import annotations

import argparse
import secrets

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


def register_cli(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("seed", help="create development seed data (an admin account) if missing")
    p.set_defaults(handler=seed)
