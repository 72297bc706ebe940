"""Personal access tokens for the JSON API and the terminal client.

Only a SHA-256 hex digest of each token is stored, so a database leak does not hand out working
API credentials. `prefix` keeps the first characters of the token so the account page can show
which token is which. Services in `sayzhong.api.tokens` return `TokenInfo`, never these rows.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime
from sqlmodel import Field, SQLModel

from sayzhong.db import utcnow


def _utc_column(*, nullable: bool = False, index: bool = False) -> Column:
    return Column(DateTime(timezone=True), nullable=nullable, index=index)


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=60)
    """The learner's label for the token, e.g. "laptop terminal"."""
    prefix: str = Field(max_length=16)
    """First characters of the raw token, shown on the account page (not secret on its own)."""
    token_hash: str = Field(max_length=64, unique=True, index=True)
    """SHA-256 hex of the raw token; the raw token is shown once and never stored."""
    scopes: str = Field(max_length=200)
    """Space-separated, e.g. "practice:read practice:write"."""
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column())
    expires_at: datetime = Field(sa_column=_utc_column())
    last_used_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
