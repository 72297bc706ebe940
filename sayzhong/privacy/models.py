"""Privacy tables: consent records, exports, erasure requests, e-mail tombstones, staff DSR queue.

`consent_record` is append-only (proof of consent): a new choice is a new row. On erasure a
user's consent rows are unlinked (user_id cleared); the random visitor id links to nobody.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, Text
from sqlmodel import Field, SQLModel

from sayzhong.db import utcnow


def _utc(*, nullable: bool = False, index: bool = False) -> Column:
    return Column(DateTime(timezone=True), nullable=nullable, index=index)


class ConsentRecord(SQLModel, table=True):
    __tablename__ = "consent_record"
    __table_args__ = (
        Index("ix_consent_record_visitor", "visitor_id", "id"),
        Index("ix_consent_record_user", "user_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    visitor_id: str = Field(max_length=40)
    """Random id kept in the necessary `sz_consent` cookie; identifies a browser, not a person."""
    user_id: int | None = Field(default=None)
    """The signed-in user who chose (no foreign key: rows outlive an erased account, unlinked)."""
    analytics: bool = Field(default=False)
    marketing: bool = Field(default=False)
    gpc: bool = Field(default=False)
    """The browser sent Global Privacy Control with this decision."""
    source: str = Field(max_length=20)
    """banner | settings | gpc | do_not_sell | signup"""
    banner_version: int = Field(default=1)
    policy_version: int = Field(default=1)
    """Cookie-policy version the visitor answered; a newer policy asks again."""
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc())


class DataExport(SQLModel, table=True):
    __tablename__ = "data_export"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    status: str = Field(default="queued", max_length=12)
    """queued | building | ready | failed | expired"""
    progress: int = Field(default=0)
    """0-100, shown on the account page while the archive is built."""
    file_name: str | None = Field(default=None, max_length=80)
    """Random name under DATA_DIR/exports; the link carries a signed token, never this name."""
    size_bytes: int = Field(default=0)
    error: str | None = Field(default=None, max_length=300)
    requested_by: str = Field(default="self", max_length=12)
    """self | staff | cli"""
    requested_at: datetime = Field(default_factory=utcnow, sa_column=_utc(index=True))
    finished_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    expires_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))


class ErasureRequest(SQLModel, table=True):
    """One account deletion: pending through the grace period, then erased step by step.

    `steps` records each participant's outcome so an interrupted erasure resumes where it stopped.
    Once done, `user_id` is cleared and only the pseudonym remains.
    """

    __tablename__ = "erasure_request"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(default=None, index=True)
    subject: str = Field(max_length=24)
    """Pseudonym of the account (keyed hash of the user id), used in the audit log afterwards."""
    status: str = Field(default="pending", max_length=12)
    """pending | cancelled | erasing | done"""
    requested_by: str = Field(default="self", max_length=12)
    cancel_token_hash: str | None = Field(default=None, max_length=64)
    requested_at: datetime = Field(default_factory=utcnow, sa_column=_utc())
    scheduled_for: datetime = Field(sa_column=_utc(index=True))
    finished_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    steps: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    attempts: int = Field(default=0)


class EmailTombstone(SQLModel, table=True):
    """A keyed hash of an erased account's e-mail: stops a silent re-use for a new trial."""

    __tablename__ = "email_tombstone"

    id: int | None = Field(default=None, primary_key=True)
    email_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc())


class DsrRequest(SQLModel, table=True):
    """A data-subject request received by e-mail from someone who cannot sign in (staff queue)."""

    __tablename__ = "dsr_request"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=12)
    """access | erasure | correction | objection"""
    requester_email: str = Field(max_length=320, index=True)
    requester_name: str = Field(default="", max_length=120)
    details: str = Field(default="", sa_column=Column(Text, nullable=False))
    status: str = Field(default="new", max_length=12)
    """new | verified | done | rejected"""
    identity_method: str | None = Field(default=None, max_length=200)
    """How staff verified the requester (e.g. "reply from the account address")."""
    identity_verified_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    user_id: int | None = Field(default=None)
    """The matching account, once identified (no foreign key: the request outlives an erasure)."""
    received_at: datetime = Field(default_factory=utcnow, sa_column=_utc())
    due_at: datetime = Field(sa_column=_utc(index=True))
    closed_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    resolution: str = Field(default="", max_length=500)
