"""Job runs: every scheduled job records start, end, what it purged and any error."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime
from sqlmodel import Field, SQLModel

from sayzhong.db import utcnow


class JobRun(SQLModel, table=True):
    __tablename__ = "job_run"

    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=60, index=True)
    status: str = Field(default="running", max_length=10)
    """running | ok | failed"""
    started_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    finished_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    counts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    error: str | None = Field(default=None, max_length=1000)
