"""Pure checks of the code rules: RFC 6238 test vectors, the ±1 step window, replay refusal,
recovery-code typing, the verification rule and link shape (no database)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from sayzhong import routes
from sayzhong.accounts import two_factor, verification
from sayzhong.errors import PermissionDeniedError
from sayzhong.notifications.service import REDACTED, redact_links
from sayzhong.settings import Settings

# RFC 6238 Appendix B, SHA-1 seed "12345678901234567890" (base32 below); 6-digit codes are the last
# six digits of the RFC's 8-digit values.
RFC_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
RFC_VECTORS = [
    (59, "287082"),
    (1111111109, "081804"),
    (1111111111, "050471"),
    (1234567890, "005924"),
    (2000000000, "279037"),
]


def _at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


@pytest.mark.parametrize(("unix_time", "code"), RFC_VECTORS)
def test_codes_match_the_rfc_6238_test_vectors(unix_time: int, code: str) -> None:
    step = two_factor._matching_step(RFC_SECRET, code, now=_at(unix_time), last_used_step=None)
    assert step == unix_time // 30


def test_one_step_of_drift_either_way_is_accepted_and_no_more() -> None:
    code = "287082"  # step 1 (t = 30..59)
    assert two_factor._matching_step(RFC_SECRET, code, now=_at(75), last_used_step=None) == 1  # step 2
    assert two_factor._matching_step(RFC_SECRET, code, now=_at(5), last_used_step=None) == 1  # step 0
    assert two_factor._matching_step(RFC_SECRET, code, now=_at(95), last_used_step=None) is None  # step 3


def test_a_code_from_the_last_used_step_or_older_is_refused() -> None:
    assert two_factor._matching_step(RFC_SECRET, "287082", now=_at(59), last_used_step=1) is None
    assert two_factor._matching_step(RFC_SECRET, "287082", now=_at(59), last_used_step=0) == 1


@pytest.mark.parametrize("typed", ["28708", "2870822", "abcdef", "", "287 08x"])
def test_malformed_codes_never_match(typed: str) -> None:
    assert two_factor._matching_step(RFC_SECRET, typed, now=_at(59), last_used_step=None) is None


def test_codes_are_typed_loosely() -> None:
    assert two_factor._normalise_code(" ABCDE-fghjk ") == "abcdefghjk"
    assert two_factor._normalise_code("287 082") == "287082"
    assert two_factor._normalise_code(None) == ""  # type: ignore[arg-type]


def test_the_secret_is_encrypted_and_a_different_key_cannot_read_it() -> None:
    one = Settings(secret_key="k" * 40)
    other = Settings(secret_key="j" * 40)
    sealed = two_factor._encrypt(one, RFC_SECRET)
    assert RFC_SECRET not in sealed
    assert two_factor._decrypt(one, sealed) == RFC_SECRET
    with pytest.raises(Exception) as err:
        two_factor._decrypt(other, sealed)
    assert getattr(err.value, "code", "") == "two_factor_unreadable"


@dataclass(frozen=True)
class _Person:
    email_verified: bool


def test_only_verified_addresses_may_get_marketing_reminders_or_exports() -> None:
    assert verification.may_email_marketing(_Person(True))
    assert not verification.may_email_marketing(_Person(False))
    verification.require_verified_email(_Person(True))
    with pytest.raises(PermissionDeniedError):
        verification.require_verified_email(_Person(False))


def test_verification_links_are_redacted_in_the_staff_outbox() -> None:
    link = routes.verify_email_url("https://sayzhong.app/", "abc.def-ghi")
    assert link == "https://sayzhong.app/verify-email?token=abc.def-ghi"
    assert redact_links(f"Open {link} now") == f"Open https://sayzhong.app/verify-email?token={REDACTED} now"
