"""Password hashing (argon2id) and the password policy.

Hashing uses the OWASP Password Storage Cheat Sheet's argon2id baseline: 19 MiB memory, 2
iterations, parallelism 1. `verify_password_or_dummy` always runs one argon2 verification, so
sign-in takes the same time whether or not the e-mail belongs to an account.

Policy (ASVS 2.1 / NIST 800-63B): 8–128 characters, any characters allowed (no composition rules),
not the e-mail address, not in the bundled list of common passwords (and not such a password with
a short run of digits or symbols tacked on, like "sunshine2024!").

`common_passwords.txt` is the 20,000-entry list Django ships as
django/contrib/auth/common-passwords.txt.gz (created by Royce Williams from breached-password
corpora; lower-cased and deduplicated), decompressed unchanged: 19,640 lines.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from sayzhong.errors import ValidationError

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")

# Passwords that only make sense for this product (ASVS 2.1.7 "context-specific words").
_CONTEXT_WORDS = ("sayzhong", "say zhong")
_TRAILING_DECORATION = re.compile(r"[\d\W_]{1,6}$")
_LEADING_DECORATION = re.compile(r"^[\d\W_]{1,4}")


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    return PasswordHasher(
        time_cost=2, memory_cost=19 * 1024, parallelism=1, hash_len=32, salt_len=16, type=Type.ID
    )


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher().hash("dummy password used to equalise sign-in timing")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    with COMMON_PASSWORDS_FILE.open(encoding="utf-8") as handle:
        return frozenset(line.rstrip("\n") for line in handle if line.strip())


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def verify_password_or_dummy(password_hash: str | None, password: str) -> bool:
    """Verify against `password_hash`, or burn the same time on a dummy hash and return False."""
    if password_hash is None:
        verify_password(_dummy_hash(), password)
        return False
    return verify_password(password_hash, password)


def needs_rehash(password_hash: str) -> bool:
    try:
        return _hasher().check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def is_common_password(password: str) -> bool:
    lowered = unicodedata.normalize("NFKC", password).lower()
    words = common_passwords()
    if lowered in words:
        return True
    if any(word in lowered for word in _CONTEXT_WORDS):
        return True
    # "password123!", "!!qwerty2024": a listed password with a little decoration is no stronger.
    core = _LEADING_DECORATION.sub("", _TRAILING_DECORATION.sub("", lowered))
    if len(core) >= 4 and core != lowered and core in words:
        return True
    # One repeated character ("aaaaaaaa") or a single short pattern repeated ("abcabcabc").
    for size in range(1, 4):
        unit = lowered[:size]
        if unit and unit * (len(lowered) // size) + unit[: len(lowered) % size] == lowered:
            return True
    return False


def check_password_policy(password: str, *, email: str | None = None) -> None:
    """Raise ValidationError with a message the user can act on, or return None."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            f"Your password must be at least {MIN_PASSWORD_LENGTH} characters long.",
            code="password_too_short",
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationError(
            f"Your password can be at most {MAX_PASSWORD_LENGTH} characters long.", code="password_too_long"
        )
    if email:
        lowered = password.strip().lower()
        local_part = email.split("@", 1)[0].lower()
        if lowered == email.lower() or (len(local_part) >= 4 and lowered == local_part):
            raise ValidationError("Your password must not be your e-mail address.", code="password_is_email")
    if is_common_password(password):
        raise ValidationError(
            "This password is too common and easy to guess. Please choose a less predictable one — "
            "a few unrelated words work well.",
            code="password_too_common",
        )
