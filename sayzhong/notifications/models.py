"""The local e-mail outbox: messages the default mailer "sent", readable by admins in the staff area."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, Text
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
