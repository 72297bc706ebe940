"""`python -m sayzhong create-admin EMAIL [--password-stdin]`: bootstrap the first administrator.

Without --password-stdin the command prompts (when run in a terminal); an empty answer, or no
terminal, generates a strong password and prints it once. An existing account is promoted and
keeps its password.
"""

from __future__ import annotations

import argparse
import getpass
import secrets
import sys
from typing import Any

from sayzhong.accounts.passwords import check_password_policy
from sayzhong.accounts.staff import create_admin
from sayzhong.accounts.users import find_user_by_email, normalize_email
from sayzhong.db import session_scope
from sayzhong.errors import SayZhongError


def register_cli(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "create-admin",
        help="create an administrator account, or promote an existing account to admin",
        description=__doc__,
    )
    parser.add_argument("email", metavar="EMAIL")
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the new account's password from the first line of standard input",
    )
    parser.set_defaults(handler=_create_admin_command)

    reset = sub.add_parser(
        "reset-two-factor",
        help="remove a user's authenticator and recovery codes (lost phone); ends their sessions",
        description=(
            "Staff 2FA recovery: after checking who is asking (see docs/operations.md), remove the "
            "account's authenticator app and recovery codes and sign it out everywhere. A staff "
            "member then enrols a new app before any staff page opens. Audited as two_factor.disabled."
        ),
    )
    reset.add_argument("email", metavar="EMAIL")
    reset.add_argument("--reason", required=True, help="why (ticket number, who verified the person)")
    reset.set_defaults(handler=_reset_two_factor_command)


def _generated_password() -> str:
    return secrets.token_urlsafe(18)


def _read_password(args: argparse.Namespace) -> tuple[str, bool]:
    """(password, generated?)"""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n"), False
    if sys.stdin.isatty():
        first = getpass.getpass("Password for the new admin (leave empty to generate one): ")
        if not first:
            return _generated_password(), True
        if getpass.getpass("Repeat the password: ") != first:
            raise SayZhongError("The two passwords differ.")
        return first, False
    return _generated_password(), True


def _create_admin_command(args: argparse.Namespace) -> int:
    out, err = sys.stdout, sys.stderr
    try:
        email = normalize_email(args.email)
        # Ask for a password only when the account is new, so promoting never prompts.
        with session_scope() as session:
            known = find_user_by_email(session=session, email=email) is not None
        password: str | None = None
        generated = False
        if not known:
            password, generated = _read_password(args)
            check_password_policy(password, email=email)
        with session_scope() as session:
            result = create_admin(session=session, email=email, password=password)
    except SayZhongError as exc:
        print(f"create-admin: {exc.user_message}", file=err)
        return 1
    if result.created:
        print(f"Created administrator {result.user.email} (user id {result.user.id}).", file=out)
        if generated:
            print(f"Generated password (shown only this once): {password}", file=out)
    else:
        print(
            f"{result.user.email} is now an administrator (existing account, password unchanged).", file=out
        )
    return 0


def _reset_two_factor_command(args: argparse.Namespace) -> int:
    from sayzhong.accounts.two_factor import reset_two_factor

    try:
        with session_scope() as session:
            user = find_user_by_email(session=session, email=args.email)
            if user is None:
                raise SayZhongError("No account uses that e-mail address.")
            if not user.two_factor_enabled:
                print(f"{user.email} does not use two-factor sign-in; nothing to reset.")
                return 0
            reset_two_factor(session=session, user_id=user.id, reason=args.reason)
    except SayZhongError as exc:
        print(f"reset-two-factor: {exc.user_message}", file=sys.stderr)
        return 1
    print(f"Two-factor sign-in reset for {user.email}; all their sessions were ended.")
    return 0
