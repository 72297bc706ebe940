"""Billing tables: the local mirror of Stripe customers and subscriptions, staff grants, webhook
events (stored once by event id before they are handled), trial claims, held takes and reconciler findings.

Stripe is the source of truth for money; these rows are what entitlements read, refreshed from Stripe
by webhooks (which re-read the subscription), by the learner's own actions and by the daily reconciler.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from sayzhong.db import utcnow


def _utc(*, nullable: bool = False, index: bool = False) -> Column:
    return Column(DateTime(timezone=True), nullable=nullable, index=index)


class BillingCustomer(SQLModel, table=True):
    """The Stripe customer of one user (created when they first open card entry)."""

    __tablename__ = "billing_customer"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", unique=True, index=True, ondelete="CASCADE")
    stripe_customer_id: str = Field(max_length=255, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc())
    converted_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    """When the learner's first paid Plus invoice was handled: set once (a conditional update), so the
    `ad_conversion` event is emitted exactly once whatever Stripe redelivers."""


class BillingSubscription(SQLModel, table=True):
    """Local copy of one Stripe subscription, as last read from Stripe."""

    __tablename__ = "billing_subscription"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    stripe_subscription_id: str = Field(max_length=255, unique=True)
    plan_id: str = Field(max_length=100)
    status: str = Field(max_length=32)
    """Stripe's status: trialing | active | past_due | unpaid | canceled | incomplete | incomplete_expired."""
    trial_end: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    current_period_end: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    cancel_at_period_end: bool = Field(default=False)
    cancel_reason: str | None = Field(default=None, max_length=500)
    latest_invoice_id: str | None = Field(default=None, max_length=255)
    pending: str | None = Field(default=None, max_length=64)
    """A change the learner asked for that Stripe has not confirmed yet (shown as "pending")."""
    pending_since: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    synced_at: datetime = Field(default_factory=utcnow, sa_column=_utc())
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc())


class BillingGrant(SQLModel, table=True):
    """A complimentary plan given by staff for a period, with the reason (audited)."""

    __tablename__ = "billing_grant"
    __table_args__ = (Index("ix_billing_grant_user_ends", "user_id", "ends_at"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", ondelete="CASCADE")
    plan: str = Field(default="plus", max_length=20)
    starts_at: datetime = Field(default_factory=utcnow, sa_column=_utc())
    ends_at: datetime = Field(sa_column=_utc())
    reason: str = Field(max_length=500)
    granted_by: int | None = Field(default=None)
    """Staff user id (no foreign key: the grant's history outlives staff accounts)."""
    revoked_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    revoked_by: int | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc())


class BillingWebhookEvent(SQLModel, table=True):
    """One Stripe event, stored once (unique event id) before it is handled by the webhook job."""

    __tablename__ = "billing_webhook_event"
    __table_args__ = (Index("ix_billing_webhook_event_status_next", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=255, unique=True)
    type: str = Field(max_length=100, index=True)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=16)
    """pending | handled | ignored (type we do not act on) | failed (gave up after the last retry)."""
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_column=_utc())
    locked_until: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    last_error: str | None = Field(default=None, max_length=1000)
    received_at: datetime = Field(default_factory=utcnow, sa_column=_utc())
    handled_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))


class BillingTrialClaim(SQLModel, table=True):
    """Who has had the free trial, by a hash of the normalised e-mail (kept after erasure on purpose:
    it is the tombstone that stops a second trial by re-registering)."""

    __tablename__ = "billing_trial_claim"

    id: int | None = Field(default=None, primary_key=True)
    email_hash: str = Field(max_length=64, unique=True)
    claimed_at: datetime = Field(default_factory=utcnow, sa_column=_utc())


class BillingHeldTake(SQLModel, table=True):
    """A take uploaded after the learner hit a limit: kept (audio stored) to be scored later."""

    __tablename__ = "billing_held_take"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    item_id: str = Field(max_length=200)
    mode: str = Field(max_length=20)
    audio_path: str = Field(max_length=255)
    content_type: str = Field(max_length=64)
    reason: str = Field(max_length=32)
    idempotency_key: str | None = Field(default=None, max_length=128)
    """The upload's key: a re-sent take is held once, and scored later under the same key."""
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc())
    scored_attempt_id: int | None = Field(default=None)


class BillingDailyUsage(SQLModel, table=True):
    """Scored takes claimed on the Free plan in one local day of a learner: the row the daily limit is
    claimed on atomically (`entitlements.claim_scored_take`), so two uploads racing at the last take
    cannot both be scored."""

    __tablename__ = "billing_daily_usage"
    __table_args__ = (UniqueConstraint("user_id", "day", name="uq_billing_daily_usage_user_day"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", ondelete="CASCADE")
    day: str = Field(max_length=10)
    """The learner's local date (YYYY-MM-DD in their account time zone)."""
    scored: int = Field(default=0)


class BillingReconcileFinding(SQLModel, table=True):
    """A difference between a local subscription and Stripe found (and repaired) by the reconciler."""

    __tablename__ = "billing_reconcile_finding"

    id: int | None = Field(default=None, primary_key=True)
    run_at: datetime = Field(default_factory=utcnow, sa_column=_utc(index=True))
    user_id: int | None = Field(default=None)
    stripe_subscription_id: str = Field(max_length=255)
    field: str = Field(max_length=64)
    local_value: str | None = Field(default=None, max_length=255)
    stripe_value: str | None = Field(default=None, max_length=255)
    repaired: bool = Field(default=True)
