"""The growth events this package emits (names and property keys only — no personal data).

Kept in one block so the typed event catalogue (issue 14, events section) can absorb them as they are.
"""

from __future__ import annotations

REFERRAL_SIGNED_UP = "referral_signed_up"
"""properties: source (link|share), status (pending|refused), reason (refusal code or "")"""
REFERRAL_REWARDED = "referral_rewarded"
"""properties: role (referrer|referred), days"""
SHARE_CREATED = "share_created"
"""properties: kind (result|streak), name_shown (bool)"""
SHARE_VISITED = "share_visited"
"""properties: kind (result|streak); distinct id = the visitor's consent-cookie id"""

GROWTH_EVENTS = {
    REFERRAL_SIGNED_UP: ("source", "status", "reason"),
    REFERRAL_REWARDED: ("role", "days"),
    SHARE_CREATED: ("kind", "name_shown"),
    SHARE_VISITED: ("kind",),
}
