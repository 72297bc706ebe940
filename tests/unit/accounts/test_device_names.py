"""Signed-in devices are shown as a browser and system, and a place without the full address."""

from __future__ import annotations

import pytest

from sayzhong.accounts.devices import approximate_place, describe_device

CHROME_WIN = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
EDGE_WIN = CHROME_WIN + " Edg/131.0.2903.70"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)
FIREFOX_LINUX = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)


@pytest.mark.parametrize(
    ("agent", "name"),
    [
        (CHROME_WIN, "Chrome on Windows"),
        (EDGE_WIN, "Edge on Windows"),
        (SAFARI_IPHONE, "Safari on iPhone"),
        (FIREFOX_LINUX, "Firefox on Linux"),
        (CHROME_ANDROID, "Chrome on Android"),
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/131.0 Safari/537.36",
            "Chrome on Linux",
        ),
        ("sayzhong-client/1.0 (python-httpx)", "SayZhong terminal client"),
        ("", "Unknown device"),
        (None, "Unknown device"),
        ("<script>alert(1)</script>", "Unknown device"),
    ],
)
def test_user_agents_become_readable_names(agent: str | None, name: str) -> None:
    assert describe_device(agent) == name


@pytest.mark.parametrize(
    ("ip", "place"),
    [
        ("127.0.0.1", "This computer"),
        ("::1", "This computer"),
        ("192.168.1.20", "Local network"),
        ("81.2.69.142", "Network 81.2.69.x"),
        ("2a02:8010:1234:5678::1", "Network 2a02:8010:1234::/48"),
        ("", "Unknown network"),
        (None, "Unknown network"),
        ("not an ip", "Unknown network"),
    ],
)
def test_places_never_show_the_full_address(ip: str | None, place: str) -> None:
    assert approximate_place(ip) == place
    if ip and place.startswith("Network"):
        assert ip not in place
