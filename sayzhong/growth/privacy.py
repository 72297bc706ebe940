"""Erasure for referrals and share cards: the learner's code, their shares (the public pages go
404 at once) and every referral they are on either side of. Billing grants already given stay with
the other learner; their own grants go with billing's erasure."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlmodel import Session, col

from sayzhong.growth.models import Referral, ReferralCode, ShareCard


def _run(session: Session, statement: Any) -> int:
    result = session.execute(statement, execution_options={"synchronize_session": "fetch"})
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def erase_growth_data(*, session: Session, user_id: int) -> int:
    shares = select(col(ShareCard.id)).where(col(ShareCard.user_id) == user_id)
    return (
        _run(
            session,
            delete(Referral).where(
                or_(col(Referral.referrer_id) == user_id, col(Referral.referred_id) == user_id)
            ),
        )
        # Sign-ups that other learners made through the shares keep their referral, without the share.
        + _run(session, update(Referral).where(col(Referral.share_id).in_(shares)).values(share_id=None))
        + _run(session, delete(ShareCard).where(col(ShareCard.user_id) == user_id))
        + _run(session, delete(ReferralCode).where(col(ReferralCode.user_id) == user_id))
    )
