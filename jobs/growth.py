"""Referral rewards that failed at the referred learner's first take, retried every 15 minutes (issue 14)."""

from __future__ import annotations

from sayzhong.growth import referrals
from sayzhong.ops.jobs import run_recorded


def run_referral_rewards() -> object:
    return run_recorded("referral_rewards", lambda: referrals.retry_pending_rewards())
