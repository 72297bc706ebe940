"""Account tables: users, sessions, sign-in attempts, reset and verification tokens, OIDC links, 2FA.

Secrets that act as bearer credentials (session tokens, reset tokens, OIDC state) are stored only
as SHA-256 hex digests, so a database leak does not hand out working sessions or reset links.
Services in this package return frozen dataclasses, never these ORM objects.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from sayzhong.db import utcnow


def _utc_column(*, nullable: bool = False, index: bool = False) -> Column:
    return Column(DateTime(timezone=True), nullable=nullable, index=index)


class User(SQLModel, table=True):
    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True, index=True)
    """Normalised: validated by email-validator, then lower-cased."""
    password_hash: str | None = Field(default=None, max_length=255)
    """argon2id hash; None for accounts that only sign in through OIDC."""
    display_name: str = Field(max_length=80)
    timezone: str = Field(default="UTC", max_length=64)
    daily_goal_minutes: int = Field(default=10)
    role: str = Field(default="learner", max_length=20, index=True)
    email_verified: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column())
    password_changed_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    two_factor_enabled: bool = Field(default=False)
    """True once an authenticator app is confirmed (TwoFactorCredential); sign-in then asks for a code."""


class UserSession(SQLModel, table=True):
    __tablename__ = "user_session"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True, index=True)
    """SHA-256 hex of the cookie value; the raw token is never stored."""
    auth_method: str = Field(default="password", max_length=20)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column())
    last_seen_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column())
    expires_at: datetime = Field(sa_column=_utc_column())
    """Absolute expiry; the idle timeout is computed from last_seen_at."""
    ip: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=512)
    revoked_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))


class LoginAttempt(SQLModel, table=True):
    """One row per password sign-in attempt; the throttle counts recent failures per key."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_email_created", "email_key", "created_at"),
        Index("ix_login_attempt_ip_created", "ip", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    email_key: str = Field(max_length=320)
    """The e-mail as typed, normalised; kept even when no such account exists."""
    ip: str | None = Field(default=None, max_length=64)
    succeeded: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column(index=True))


class PasswordResetToken(SQLModel, table=True):
    __tablename__ = "password_reset_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column())
    expires_at: datetime = Field(sa_column=_utc_column())
    used_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    requested_ip: str | None = Field(default=None, max_length=64)


class OidcIdentity(SQLModel, table=True):
    __tablename__ = "oidc_identity"
    __table_args__ = (UniqueConstraint("issuer", "subject", name="uq_oidc_identity_issuer_subject"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    issuer: str = Field(max_length=512)
    subject: str = Field(max_length=255)
    email: str | None = Field(default=None, max_length=320)
    """E-mail the provider reported when the identity was linked (informational only)."""
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column())


class OidcLoginState(SQLModel, table=True):
    """Server-side half of an authorization request: consumed (deleted) by the callback."""

    __tablename__ = "oidc_login_state"

    id: int | None = Field(default=None, primary_key=True)
    state_hash: str = Field(max_length=64, unique=True, index=True)
    nonce: str = Field(max_length=128)
    code_verifier: str = Field(max_length=128)
    redirect_uri: str = Field(max_length=1024)
    purpose: str = Field(default="login", max_length=10)
    """"login" or "link" (link an identity to the signed-in user below)."""
    link_user_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column())
    expires_at: datetime = Field(sa_column=_utc_column(index=True))


# --- e-mail verification and two-factor sign-in ----------------------------------------------------


class EmailVerificationToken(SQLModel, table=True):
    """One e-mailed verification link: signed, single-use, expiring; only its SHA-256 is kept."""

    __tablename__ = "email_verification_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True, index=True)
    email: str = Field(max_length=320)
    """The address the link was sent to: a link for an address the account no longer uses is void."""
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column())
    expires_at: datetime = Field(sa_column=_utc_column())
    used_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))


class TwoFactorCredential(SQLModel, table=True):
    """A user's TOTP authenticator (RFC 6238); the secret is encrypted (Fernet, key from SECRET_KEY)."""

    __tablename__ = "two_factor_credential"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", unique=True, index=True, ondelete="CASCADE")
    secret_encrypted: str = Field(max_length=512)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column())
    confirmed_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    """None while enrolment waits for the first correct code."""
    last_used_step: int | None = Field(default=None)
    """The 30-second time step of the last accepted code: that code (and older ones) cannot be replayed."""


class TwoFactorRecoveryCode(SQLModel, table=True):
    """One-time recovery codes, shown once; only their SHA-256 is kept."""

    __tablename__ = "two_factor_recovery_code"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    code_hash: str = Field(max_length=64, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column())
    used_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))


class TwoFactorChallenge(SQLModel, table=True):
    """The half-finished sign-in between a correct password (or provider answer) and the code."""

    __tablename__ = "two_factor_challenge"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True, index=True)
    auth_method: str = Field(default="password", max_length=20)
    failures: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column())
    expires_at: datetime = Field(sa_column=_utc_column(index=True))
    used_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
