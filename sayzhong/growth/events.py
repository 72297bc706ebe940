"""The growth events this package emits: their definitions live in the one event catalogue."""

from __future__ import annotations

from sayzhong.analytics.catalog import REFERRAL_REWARDED, REFERRAL_SIGNED_UP, SHARE_CREATED, SHARE_VISITED

__all__ = ["REFERRAL_REWARDED", "REFERRAL_SIGNED_UP", "SHARE_CREATED", "SHARE_VISITED"]
