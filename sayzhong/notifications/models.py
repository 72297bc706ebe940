"""E-mail tables: the local outbox (messages the default mailer "sent", readable by admins) and, for
reminders and other non-transactional mail, preferences, claimed deliveries and suppressions."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, DateTime, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from sayzhong.db import utcnow


class OutboxEmail(SQLModel, table=True):
    __tablename__ = "outbox_email"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False, index=True)
    )
    to_address: str = Field(max_length=320, index=True)
    from_address: str = Field(max_length=320)
    subject: str = Field(max_length=998)
    text_body: str = Field(sa_column=Column(Text, nullable=False))
    html_body: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    sent_via: str = Field(default="outbox", max_length=20)
    """Which adapter handled it: "outbox" (kept here only) — SMTP-sent mail is not stored."""


# --- practice reminders and other non-transactional e-mail (issue 14) ------------------------------


class EmailPreference(SQLModel, table=True):
    """A learner's opt-ins per e-mail category and the local time of the daily reminder.

    No row means nothing opted in: non-transactional mail is opt-in only. The time zone is the
    account's (`user_account.timezone`), which the preference centre fills from the browser.
    """

    __tablename__ = "email_preference"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", unique=True, index=True, ondelete="CASCADE")
    daily_reminder: bool = Field(default=False)
    streak_reminder: bool = Field(default=False)
    weekly_summary: bool = Field(default=False)
    product_news: bool = Field(default=False)
    reminder_time: str = Field(default="18:00", max_length=5)
    """"HH:MM" in the learner's time zone."""
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class EmailDelivery(SQLModel, table=True):
    """One claimed send per learner, category and local day (the Monday for the weekly summary).

    The row is inserted and committed *before* the message goes out; the unique constraint makes a
    second run (restarted or concurrent) find it taken and send nothing.
    """

    __tablename__ = "email_delivery"
    __table_args__ = (
        UniqueConstraint("user_id", "category", "local_day", name="uq_email_delivery_user_category_day"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    category: str = Field(max_length=20)
    local_day: date
    status: str = Field(default="claimed", max_length=10)
    """claimed (sending now, or the run died mid-send: never retried) | sent"""
    claimed_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False, index=True)
    )
    sent_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))


class ProductNewsDelivery(SQLModel, table=True):
    """One product-news campaign sent to one learner (`notifications/news.py`).

    Claimed like `EmailDelivery` (committed before the message goes out); the unique pair makes a
    re-run of the same campaign send nothing twice. Not purged, so an old campaign re-run stays a no-op.
    """

    __tablename__ = "product_news_delivery"
    __table_args__ = (UniqueConstraint("campaign", "user_id", name="uq_product_news_delivery_campaign_user"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign: str = Field(max_length=64, index=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    status: str = Field(default="claimed", max_length=10)
    """claimed (sending now, or the run died mid-send: never retried) | sent"""
    claimed_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    sent_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))


class EmailSuppression(SQLModel, table=True):
    """An address that bounced hard or complained: it gets no non-transactional mail."""

    __tablename__ = "email_suppression"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True, index=True)
    reason: str = Field(max_length=12)
    """bounce | complaint | manual"""
    source: str = Field(default="", max_length=40)
    """webhook | dsn | cli"""
    detail: str = Field(default="", max_length=500)
    """The provider's diagnostic (e.g. "5.1.1 user unknown"), for staff."""
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
