"""Pure rules behind referral abuse checks and share-card snapshots."""

from __future__ import annotations

import pytest

from sayzhong.growth import referrals, sharing


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Ana@Example.com", "ana@example.com"),
        ("ana+invite@example.com", "ana@example.com"),
        ("a.n.a@gmail.com", "ana@googlemail.com"),
        (" ana+x+y@example.com ", "ana@example.com"),
    ],
)
def test_one_mailbox_however_spelled(a: str, b: str) -> None:
    assert referrals.canonical_email(a) == referrals.canonical_email(b)


def test_dots_matter_outside_gmail() -> None:
    assert referrals.canonical_email("a.na@example.com") != referrals.canonical_email("ana@example.com")


@pytest.mark.parametrize(
    ("email", "disposable"),
    [
        ("bo@mailinator.com", True),
        ("bo@MAILINATOR.COM.", True),
        ("bo@eu.yopmail.com", True),
        ("bo@example.org", False),
        ("bo@notmailinator.com.example.org", False),
        ("bo@com", False),
    ],
)
def test_disposable_domains_and_their_subdomains(email: str, disposable: bool) -> None:
    assert referrals.is_disposable(email) is disposable


def test_the_shipped_list_is_clean() -> None:
    domains = referrals.disposable_domains()
    assert len(domains) > 50
    assert all(d == d.strip().lower() and "." in d and " " not in d for d in domains)
    assert "gmail.com" not in domains and "example.org" not in domains


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("abcdefgh", True),
        ("A-b_C-d_E-f_G-h_", True),
        ("short", False),
        ("../../etc", False),
        ("x" * 33, False),
    ],
)
def test_codes_and_slugs_are_checked_before_any_lookup(value: str, ok: bool) -> None:
    assert (referrals.valid_token(value) is not None) is ok


def test_ref_cookie_round_trip() -> None:
    header = "other=1; " + referrals.REF_COOKIE + "=" + referrals.ref_cookie_value(code="abcdefgh12345678")
    assert referrals.ref_from_cookie_header(header) == "c.abcdefgh12345678"
    assert referrals.ref_from_cookie_header("sz_ref=s.slugslug; x") == "s.slugslug"
    assert referrals.ref_from_cookie_header(None) is None


def test_first_name_only() -> None:
    assert sharing.first_name("Mei Lin") == "Mei"
    assert sharing.first_name("   ") is None


def test_contours_are_thinned_and_gaps_kept() -> None:
    long = tuple(float(i) for i in range(200))
    thinned = sharing._thin(long)
    assert len(thinned) == sharing.MAX_CONTOUR_POINTS and thinned[0] == 0.0 and thinned[-1] == 199.0
    assert sharing._thin((1.0, float("nan"), float("inf"), 2.0)) == [1.0, None, None, 2.0]
