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

Admission control (issue 16): one argon2 check costs tens of milliseconds of CPU. A burst of
sign-ins used to queue without limit on the threads every other request needs too, so 450 sign-ins
at once starved the whole worker for over 30 s. `HASH_GATE` lets at most one check per core run at
a time and a few more wait; beyond that (or after waiting `wait_s`) the caller gets a clear
"busy, try again in a moment" answer at once (`PasswordCheckBusyError`, HTTP 503) and nothing is
checked, so no password guess is spent.
"""

from __future__ import annotations

import os
import re
import threading
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from sayzhong.errors import ServiceUnavailableError, ValidationError

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
    return hash_password("dummy password used to equalise sign-in timing")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    with COMMON_PASSWORDS_FILE.open(encoding="utf-8") as handle:
        return frozenset(line.rstrip("\n") for line in handle if line.strip())


class PasswordCheckBusyError(ServiceUnavailableError):
    code = "password_check_busy"
    default_message = "Many people are signing in right now. Please try again in a few seconds."


class HashGate:
    """At most `slots` argon2 computations at once in this process and at most `queue` callers
    waiting for one; the rest are turned away at once with `PasswordCheckBusyError`."""

    def __init__(self, *, slots: int, queue: int, wait_s: float) -> None:
        self.slots, self.queue, self.wait_s = slots, queue, wait_s
        self._free = threading.BoundedSemaphore(slots)
        self._lock = threading.Lock()
        self._inside = 0
        """Callers hashing or waiting to."""

    @contextmanager
    def admit(self) -> Iterator[None]:
        from sayzhong.ops import metrics

        with self._lock:
            if self._inside >= self.slots + self.queue:  # every slot busy and the queue full
                metrics.PASSWORD_CHECKS_TURNED_AWAY.labels("queue_full").inc()
                raise PasswordCheckBusyError()
            self._inside += 1
        try:
            if not self._free.acquire(timeout=self.wait_s):
                metrics.PASSWORD_CHECKS_TURNED_AWAY.labels("waited_too_long").inc()
                raise PasswordCheckBusyError()
            try:
                yield
            finally:
                self._free.release()
        finally:
            with self._lock:
                self._inside -= 1


# One check per core; a short queue: the default thread pool (cores + 4 threads) keeps free threads.
HASH_GATE = HashGate(slots=max(1, os.cpu_count() or 1), queue=2, wait_s=5.0)


def hash_password(password: str) -> str:
    with HASH_GATE.admit():
        return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    with HASH_GATE.admit():
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
