"""Analytics table: product events captured by the default, local analytics sink."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index
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
