from __future__ import annotations

import pytest

from sayzhong.accounts import passwords
from sayzhong.errors import ValidationError


def _code(password: str, email: str | None = None) -> str | None:
    try:
        passwords.check_password_policy(password, email=email)
    except ValidationError as exc:
        return exc.code
    return None


def test_bundled_list_has_at_least_ten_thousand_entries() -> None:
    words = passwords.common_passwords()
    assert len(words) >= 10_000
    assert "password" in words and "qwerty" in words


def test_too_short_password_is_rejected_with_length_in_message() -> None:
    with pytest.raises(ValidationError, match="at least 8 characters"):
        passwords.check_password_policy("Ab1!xyz")


def test_password_of_exactly_128_characters_is_accepted_and_129_rejected() -> None:
    assert _code("k7#Qz" * 25 + "abc") is None
    assert _code("k7#Qz" * 25 + "abcd") == "password_too_long"


@pytest.mark.parametrize("common", ["password", "iloveyou", "sunshine", "PASSWORD", "Qwerty123", "football"])
def test_common_password_is_rejected(common: str) -> None:
    assert _code(common.ljust(8, "1")) == "password_too_common"


@pytest.mark.parametrize(
    "decorated", ["password2024!", "sunshine123", "!!princess99", "aaaaaaaaaa", "abcabcabcabc"]
)
def test_common_password_with_decoration_or_repetition_is_rejected(decorated: str) -> None:
    assert _code(decorated) == "password_too_common"


def test_product_name_is_rejected() -> None:
    assert _code("MySayZhongLogin") == "password_too_common"


def test_password_equal_to_email_is_rejected() -> None:
    assert _code("Mei.Lin@example.com", email="mei.lin@example.com") == "password_is_email"


def test_strong_password_is_accepted() -> None:
    assert _code("tonal plum kite 42", email="mei@example.com") is None
    assert _code("声调练习很有意思吧") is None


def test_hash_is_argon2id_with_owasp_parameters_and_verifies() -> None:
    hashed = passwords.hash_password("tonal plum kite 42")
    assert hashed.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert passwords.verify_password(hashed, "tonal plum kite 42")
    assert not passwords.verify_password(hashed, "tonal plum kite 43")
    assert not passwords.needs_rehash(hashed)


def test_dummy_verification_never_succeeds() -> None:
    assert passwords.verify_password_or_dummy(None, "anything at all") is False


def test_garbage_hash_does_not_verify() -> None:
    assert passwords.verify_password("not-a-hash", "whatever") is False
