"""Readable names for signed-in devices: "Chrome on Windows" instead of a raw user-agent, and an
approximate place instead of a full IP address (shown to the learner and to support staff).

There is no location database offline, so "place" is the network the sign-in came from: this
computer, a local network, or the public address with its last part hidden.
"""

from __future__ import annotations

import ipaddress
import re

_BROWSERS = (
    # Order matters: Edge and Opera also say "Chrome", Chrome also says "Safari".
    ("Edge", re.compile(r"\bEdg(?:e|A|iOS)?/")),
    ("Opera", re.compile(r"\bOPR/|\bOpera\b")),
    ("Samsung Internet", re.compile(r"\bSamsungBrowser/")),
    ("Firefox", re.compile(r"\bFirefox/|\bFxiOS/")),
    ("Chrome", re.compile(r"(?:\b|Headless)Chrome/|\bCriOS/|\bChromium/")),
    ("Safari", re.compile(r"\bSafari/")),
)
_SYSTEMS = (
    ("iPhone", re.compile(r"\biPhone\b")),
    ("iPad", re.compile(r"\biPad\b")),
    ("Android", re.compile(r"\bAndroid\b")),
    ("ChromeOS", re.compile(r"\bCrOS\b")),
    ("Windows", re.compile(r"\bWindows\b")),
    ("macOS", re.compile(r"\bMac OS X\b|\bMacintosh\b")),
    ("Linux", re.compile(r"\bLinux\b")),
)
_CLIENTS = (
    ("SayZhong terminal client", re.compile(r"sayzhong-client", re.I)),
    ("Command-line tool", re.compile(r"^(?:curl|python-httpx|python-requests|Wget)/", re.I)),
)


def describe_device(user_agent: str | None) -> str:
    """ "Chrome on Windows", "Safari on iPhone", "SayZhong terminal client" or "Unknown device"."""
    agent = (user_agent or "").strip()[:512]
    if not agent:
        return "Unknown device"
    for name, pattern in _CLIENTS:
        if pattern.search(agent):
            return name
    browser = next((name for name, pattern in _BROWSERS if pattern.search(agent)), None)
    system = next((name for name, pattern in _SYSTEMS if pattern.search(agent)), None)
    if browser and system:
        return f"{browser} on {system}"
    if browser or system:
        return f"{browser or 'A browser'}{' on ' + system if system else ''}"
    return "Unknown device"


def approximate_place(ip: str | None) -> str:
    """Where a sign-in came from, without the full address."""
    try:
        address = ipaddress.ip_address((ip or "").strip())
    except ValueError:
        return "Unknown network"
    if address.is_loopback:
        return "This computer"
    if address.is_private or address.is_link_local:
        return "Local network"
    if isinstance(address, ipaddress.IPv4Address):
        first, second, third, _ = str(address).split(".")
        return f"Network {first}.{second}.{third}.x"
    network = ipaddress.IPv6Network(f"{address}/48", strict=False)
    return f"Network {network.network_address.compressed}/48"
