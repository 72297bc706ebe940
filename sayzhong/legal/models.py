"""Append-only record of which version of which legal document each user accepted, and how."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, Index
from sqlmodel import Field, SQLModel

from sayzhong.db import utcnow


class LegalAcceptance(SQLModel, table=True):
    __tablename__ = "legal_acceptance"
    __table_args__ = (Index("ix_legal_acceptance_user_doc", "user_id", "document", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", ondelete="CASCADE")
    document: str = Field(max_length=20)
    version: int
    method: str = Field(max_length=20)
    """"signup", "reconsent", "oidc" (first sign-in through a provider), "notice_seen" (privacy notice)."""
    accepted_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
