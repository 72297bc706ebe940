"""Plain, frozen data the accounts services hand to pages, routes and jobs (never ORM objects)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sayzhong.accounts.access import STAFF_ROLES, Role
from sayzhong.accounts.models import User, UserSession
from sayzhong.db import as_utc
from sayzhong.errors import AuthenticationError, SayZhongError


@dataclass(frozen=True, slots=True)
class UserInfo:
    id: int
    email: str
    display_name: str
    timezone: str
    daily_goal_minutes: int
    role: str
    email_verified: bool
    has_password: bool
    created_at: datetime
    two_factor_enabled: bool = False

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @classmethod
    def from_row(cls, row: User) -> UserInfo:
        assert row.id is not None
        return cls(
            id=row.id,
            email=row.email,
            display_name=row.display_name,
            timezone=row.timezone,
            daily_goal_minutes=row.daily_goal_minutes,
            role=row.role,
            email_verified=row.email_verified,
            has_password=row.password_hash is not None,
            created_at=as_utc(row.created_at),
            two_factor_enabled=row.two_factor_enabled,
        )


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """One signed-in device. `expires_at` is the absolute expiry (use it for the cookie's Max-Age)."""

    id: int
    user: UserInfo
    auth_method: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    idle_expires_at: datetime
    ip: str | None
    user_agent: str | None
    is_current: bool = False

    @classmethod
    def from_row(
        cls, row: UserSession, *, user: UserInfo, idle_timeout_s: float, is_current: bool = False
    ) -> SessionInfo:
        assert row.id is not None
        last_seen = as_utc(row.last_seen_at)
        expires = as_utc(row.expires_at)
        return cls(
            id=row.id,
            user=user,
            auth_method=row.auth_method,
            created_at=as_utc(row.created_at),
            last_seen_at=last_seen,
            expires_at=expires,
            idle_expires_at=min(expires, last_seen + timedelta(seconds=idle_timeout_s)),
            ip=row.ip,
            user_agent=row.user_agent,
            is_current=is_current,
        )


@dataclass(frozen=True, slots=True)
class SignInResult:
    """Outcome of a password sign-in.

    Failures are returned rather than raised so the caller's unit of work still commits the
    failed-attempt row and its audit entry (raising would roll them back and defeat throttling).
    Exactly one of (`user` and `token`) or `error` is set.
    """

    user: UserInfo | None = None
    token: str | None = None
    error: SayZhongError | None = None
    two_factor_challenge: str | None = None
    """Set instead of `token` when the account uses two-factor sign-in: the password (or provider)
    was right, and `sayzhong.accounts.two_factor.complete_two_factor_sign_in` must see a code for
    this challenge before a session exists."""
    new_account: bool = False
    """True when this sign-in created the account (OpenID Connect), so the caller can attribute it."""

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def needs_second_factor(self) -> bool:
        return self.error is None and self.two_factor_challenge is not None

    def unwrap(self) -> tuple[UserInfo, str]:
        """Return (user, raw session token) or raise the error. Call it after committing.

        A sign-in still waiting for its second factor raises AuthenticationError (code
        `two_factor_required`), so a caller that forgets the second step fails closed.
        """
        if self.error is not None:
            raise self.error
        if self.two_factor_challenge is not None:
            raise AuthenticationError(
                "Enter the code from your authenticator app to finish signing in.", code="two_factor_required"
            )
        assert self.user is not None and self.token is not None
        return self.user, self.token


@dataclass(frozen=True, slots=True)
class UserPage:
    items: list[UserInfo]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


@dataclass(frozen=True, slots=True)
class AdminBootstrapResult:
    user: UserInfo
    created: bool
    """False when an existing account was promoted."""
