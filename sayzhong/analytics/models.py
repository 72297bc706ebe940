"""Analytics table: product events captured by the default, local analytics sink."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from sayzhong.db import utcnow


class AnalyticsEvent(SQLModel, table=True):
    __tablename__ = "analytics_event"
    __table_args__ = (Index("ix_analytics_event_event_created", "event", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    event: str = Field(max_length=64)
    distinct_id: str = Field(max_length=64, index=True)
    """The user id as a string, or an anonymous id for visitors who have not signed up."""
    properties: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True)))


class AccountAttribution(SQLModel, table=True):
    """Where an account came from (issue 14): its first-touch and last-touch marketing sources.

    Two rows per account (`touch` = "first" | "last"), written once at sign-up from the necessary
    `sz_src` cookie (see analytics/attribution.py). UTM values are campaign labels chosen by our own
    marketing links, not personal data; the referrer is kept as a host name only.
    """

    __tablename__ = "account_attribution"
    __table_args__ = (UniqueConstraint("user_id", "touch", name="uq_account_attribution_user_touch"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    touch: str = Field(max_length=8)
    """first | last"""
    channel: str = Field(max_length=20)
    source: str = Field(default="", max_length=64)
    medium: str = Field(default="", max_length=64)
    campaign: str = Field(default="", max_length=64)
    term: str = Field(default="", max_length=64)
    content: str = Field(default="", max_length=64)
    referrer_host: str = Field(default="", max_length=120)
    landing_path: str = Field(default="", max_length=200)
    touched_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True)))


class MarketingTag(SQLModel, table=True):
    """An advertising/conversion tag configured by marketing: a script from an allow-listed https host,
    loaded in the browser only after *marketing* consent, on the listed pages (issue 14)."""

    __tablename__ = "marketing_tag"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80)
    script_url: str = Field(max_length=500)
    pages: str = Field(default="*", max_length=500)
    """Comma-separated path prefixes (e.g. "/,/signup"), or "*" for every page."""
    enabled: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True)))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True)))
