"""Referral and share-card tables.

`referral_code`: one unguessable code per learner (their invite link). `referral`: one row per
referred learner (unique), pending until their first scored take, then rewarded exactly once — or
refused at sign-up with a reason. `share_card`: a snapshot of a result or streak the learner chose
to publish under an unguessable slug, until they revoke it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index
from sqlmodel import Field, SQLModel

from sayzhong.db import utcnow


def _utc(*, nullable: bool = False) -> Column:
    return Column(DateTime(timezone=True), nullable=nullable)


class ReferralCode(SQLModel, table=True):
    """A learner's invite code (created the first time they open the invite page)."""

    __tablename__ = "referral_code"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", unique=True, ondelete="CASCADE")
    code: str = Field(max_length=32, unique=True)
    visitor_id: str | None = Field(default=None, max_length=64)
    """The referrer's own browser (consent cookie id) when they last opened the invite page: a
    sign-up from the same browser is refused as the same device."""
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc())


class Referral(SQLModel, table=True):
    """One referred sign-up. `referred_id` is unique: a learner is attributed (and rewarded) once."""

    __tablename__ = "referral"
    __table_args__ = (Index("ix_referral_referrer_created", "referrer_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    referrer_id: int = Field(foreign_key="user_account.id", ondelete="CASCADE")
    referred_id: int = Field(foreign_key="user_account.id", unique=True, ondelete="CASCADE")
    status: str = Field(max_length=16)
    """pending | rewarded | refused"""
    refused_reason: str | None = Field(default=None, max_length=32)
    """self_referral | same_device | disposable_email | monthly_cap"""
    source: str = Field(default="link", max_length=16)
    """link (the invite link) | share (a share card's page)"""
    share_id: int | None = Field(default=None, foreign_key="share_card.id", ondelete="SET NULL")
    referrer_grant_id: int | None = Field(default=None)
    referred_grant_id: int | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc())
    rewarded_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))


class ShareCard(SQLModel, table=True):
    """A result or streak published by its learner; `payload` is the snapshot the card shows."""

    __tablename__ = "share_card"
    __table_args__ = (Index("ix_share_card_user_created", "user_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", ondelete="CASCADE")
    slug: str = Field(max_length=32, unique=True)
    kind: str = Field(max_length=16)
    """result | streak"""
    attempt_id: int | None = Field(default=None)
    """The shared take (no foreign key: the card is a snapshot and outlives the take's retention)."""
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    display_name: str | None = Field(default=None, max_length=40)
    """Shown only when the learner ticked "show my first name"."""
    visits: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc())
    revoked_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
