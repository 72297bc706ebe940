"""Attribution (pure): channel rules, the signed `sz_src` cookie, first/last touch, campaign links."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sayzhong.analytics import attribution
from sayzhong.analytics.attribution import Touch
from sayzhong.errors import ValidationError

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
SECRET = "s" * 40


def _visit(query: dict[str, str] | None = None, referrer: str = "", path: str = "/") -> Touch:
    return attribution.touch_from_visit(
        query=query or {}, referrer=referrer, path=path, own_host="sayzhong.app", now=NOW
    )


@pytest.mark.parametrize(
    ("query", "referrer", "channel"),
    [
        ({}, "", "direct"),
        ({"utm_source": "google", "utm_medium": "cpc"}, "", "paid_search"),
        ({"utm_source": "facebook", "utm_medium": "paid_social"}, "", "paid_social"),
        ({"utm_source": "newsletter", "utm_medium": "email"}, "", "email"),
        ({}, "https://www.google.com/search?q=learn+tones", "organic_search"),
        ({}, "https://t.co/abc", "social"),
        ({}, "https://blog.example.org/mandarin-tips", "referral"),
        ({}, "https://sayzhong.app/pricing", "direct"),
        ({"utm_source": "partner"}, "", "other"),
    ],
)
def test_channels(query: dict[str, str], referrer: str, channel: str) -> None:
    assert _visit(query, referrer).channel == channel


def test_a_touch_keeps_labels_and_the_referrer_host_only() -> None:
    touch = _visit(
        {"utm_source": "Google", "utm_medium": "cpc", "utm_campaign": "Spring Sale!", "utm_term": "a@b.c"},
        "https://www.google.com/search?q=private+words",
        "/pricing?token=secret",
    )
    assert touch.source == "google" and touch.campaign == "spring_sale"
    assert touch.referrer_host == "www.google.com"
    assert touch.landing_path == "/pricing"
    assert "@" not in touch.term and "private" not in str(touch)
    assert touch.event_properties() == {"channel": "paid_search", "campaign": "spring_sale"}


def test_the_cookie_round_trips_and_refuses_tampering() -> None:
    first, last = _visit({"utm_source": "google", "utm_medium": "cpc"}), _visit(path="/signup")
    value = attribution.encode_cookie(first=first, last=last, secret=SECRET)
    assert attribution.decode_cookie(value, secret=SECRET) == (first, last)
    assert attribution.cookie_from_header(f"a=b; sz_src={value}", secret=SECRET) == (first, last)
    body, sig = value.rsplit(".", 1)
    assert attribution.decode_cookie(body[:-2] + "AA." + sig, secret=SECRET) is None
    assert attribution.decode_cookie(value, secret="other" * 8) is None
    assert attribution.decode_cookie("garbage", secret=SECRET) is None
    assert attribution.decode_cookie("x" * 5000, secret=SECRET) is None


def test_first_touch_stays_and_a_later_campaign_becomes_the_last_touch() -> None:
    ad = _visit({"utm_source": "google", "utm_medium": "cpc", "utm_campaign": "spring"})
    assert attribution.record_visit(None, ad) == (ad, ad)
    plain = _visit(path="/pricing")
    assert attribution.record_visit((ad, ad), plain) is None  # nothing to rewrite
    mail = _visit({"utm_source": "newsletter", "utm_medium": "email", "utm_campaign": "dec"})
    assert attribution.record_visit((ad, ad), mail) == (ad, mail)


def test_campaign_links_are_built_and_checked() -> None:
    link = attribution.build_campaign_link(
        app_url="https://sayzhong.app/",
        path="/pricing",
        source="google",
        medium="cpc",
        campaign="spring_sale",
    )
    assert (
        link.url == "https://sayzhong.app/pricing?utm_source=google&utm_medium=cpc&utm_campaign=spring_sale"
    )
    assert link.channel == "paid_search"
    with_extras = attribution.build_campaign_link(
        app_url="https://sayzhong.app",
        path="/",
        source="news",
        medium="email",
        campaign="dec",
        content="hero",
    )
    assert with_extras.url.endswith("&utm_content=hero") and with_extras.channel == "email"


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"path": "https://evil.example/"}, "campaign_bad_path"),
        ({"path": "/x?y=1"}, "campaign_bad_path"),
        ({"campaign": ""}, "campaign_missing"),
        ({"campaign": "Spring Sale"}, "campaign_bad_label"),
        ({"source": "a" * 65}, "campaign_bad_label"),
        ({"medium": "<script>"}, "campaign_bad_label"),
    ],
)
def test_bad_campaign_links_get_plain_errors(kwargs: dict[str, str], code: str) -> None:
    args = {"path": "/", "source": "google", "medium": "cpc", "campaign": "spring"} | kwargs
    with pytest.raises(ValidationError) as raised:
        attribution.build_campaign_link(app_url="https://sayzhong.app", **args)
    assert raised.value.code == code
