"""Experiment tables: definitions (marketing), exposures (one row per unit that saw a variant), QA overrides.

A *unit* is what is randomised: the visitor id from the necessary `sz_consent` cookie for a visitor,
or `user:<id>` for a signed-in learner who was never enrolled as a visitor. When a visitor signs up,
their exposure rows get the new `user_id`, so the variant follows them (sticky across sign-in).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, UniqueConstraint
from sqlmodel import Field, SQLModel

from sayzhong.db import utcnow


def _utc(*, nullable: bool = False) -> Column:
    return Column(DateTime(timezone=True), nullable=nullable)


class Experiment(SQLModel, table=True):
    __tablename__ = "experiment"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=64, unique=True, index=True)
    name: str = Field(max_length=120)
    hypothesis: str = Field(default="", max_length=1000)
    variants: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    """[{"key": "control", "weight": 50}, …]; the first variant is the control."""
    audience: str = Field(max_length=20)
    device: str = Field(default="any", max_length=10)
    primary_metric: str = Field(max_length=40)
    guardrail_metrics: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    minimum_sample: int = Field(default=1000)
    """Units per variant before a decision should be taken."""
    status: str = Field(default="draft", max_length=10, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_utc())
    started_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    stopped_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))


class ExperimentExposure(SQLModel, table=True):
    """A unit saw a variant (reported by the component that rendered it); first and latest view."""

    __tablename__ = "experiment_exposure"
    __table_args__ = (UniqueConstraint("experiment_id", "unit_id", name="uq_experiment_exposure_unit"),)

    id: int | None = Field(default=None, primary_key=True)
    experiment_id: int = Field(foreign_key="experiment.id", index=True, ondelete="CASCADE")
    unit_id: str = Field(max_length=64, index=True)
    user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True, ondelete="CASCADE")
    variant: str = Field(max_length=40)
    device: str = Field(default="desktop", max_length=10)
    views: int = Field(default=1)
    first_exposed_at: datetime = Field(default_factory=utcnow, sa_column=_utc())
    last_exposed_at: datetime = Field(default_factory=utcnow, sa_column=_utc())


class ExperimentOverride(SQLModel, table=True):
    """QA: force a variant for one visitor or user. Overridden units never count in the results."""

    __tablename__ = "experiment_override"
    __table_args__ = (UniqueConstraint("experiment_id", "unit_id", name="uq_experiment_override_unit"),)

    id: int | None = Field(default=None, primary_key=True)
    experiment_id: int = Field(foreign_key="experiment.id", index=True, ondelete="CASCADE")
    unit_id: str = Field(max_length=64)
    user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True, ondelete="CASCADE")
    variant: str = Field(max_length=40)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc())
