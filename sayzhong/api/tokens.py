"""Personal access tokens: create (shown once), list, revoke, and authenticate API requests.

Tokens look like `szp_<40 random url-safe characters>`; the `szp_` prefix lets secret scanners and
people recognise them. Only the SHA-256 digest is stored. Every function is keyword-only, takes the
caller's `Session`, flushes but never commits, and returns frozen `TokenInfo` dataclasses.

Scopes:
- `practice:read`  — profile, lessons, reference audio, own attempts, progress and reviews;
- `practice:write` — submit attempts.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import func
from sqlmodel import Session, col, select

from sayzhong.accounts import users
from sayzhong.accounts.schemas import UserInfo
from sayzhong.api.models import ApiToken
from sayzhong.audit import record_audit
from sayzhong.db import as_utc, utcnow
from sayzhong.errors import AuthenticationError, NotFoundError, PermissionDeniedError, ValidationError

TOKEN_PREFIX = "szp_"
PREFIX_DISPLAY_LENGTH = len(TOKEN_PREFIX) + 6
SCOPE_READ = "practice:read"
SCOPE_WRITE = "practice:write"
SCOPES: dict[str, str] = {
    SCOPE_READ: "Read your profile, lessons, reference audio, attempts, progress and reviews.",
    SCOPE_WRITE: "Submit recordings for scoring.",
}
DEFAULT_SCOPES: tuple[str, ...] = (SCOPE_READ, SCOPE_WRITE)
MIN_EXPIRY_DAYS = 1
MAX_EXPIRY_DAYS = 365
DEFAULT_EXPIRY_DAYS = 90
MAX_NAME_LENGTH = 60
MAX_ACTIVE_TOKENS_PER_USER = 20
# Writing last_used_at on every request would turn each read into a write; a minute is precise enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# Ended tokens stay listed (as expired/revoked) on the account page for a while, then are deleted.
TOKEN_RETENTION_AFTER_END = timedelta(days=30)
_RAW_TOKEN = re.compile(r"^szp_[A-Za-z0-9_-]{20,100}$")
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")

TokenStatus = Literal["active", "expired", "revoked"]


class TokenMissingError(AuthenticationError):
    code = "token_missing"
    default_message = "Send your access token in the Authorization header: “Bearer szp_…”."


class TokenInvalidError(AuthenticationError):
    code = "token_invalid"
    default_message = "This access token is not valid. Create a new token on your account page."


class TokenExpiredError(AuthenticationError):
    code = "token_expired"
    default_message = "This access token has expired. Create a new token on your account page."


class TokenRevokedError(AuthenticationError):
    code = "token_revoked"
    default_message = "This access token was revoked. Create a new token on your account page."


class InsufficientScopeError(PermissionDeniedError):
    code = "insufficient_scope"
    default_message = "This access token is not allowed to do that. Create a token with the needed scope."


@dataclass(frozen=True, slots=True)
class TokenInfo:
    id: int
    user_id: int
    name: str
    prefix: str
    """E.g. "szp_Ab12Cd…": enough to tell tokens apart, useless as a credential."""
    scopes: tuple[str, ...]
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def status(self) -> TokenStatus:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= utcnow():
            return "expired"
        return "active"

    @property
    def is_active(self) -> bool:
        return self.status == "active"

    @classmethod
    def from_row(cls, row: ApiToken) -> TokenInfo:
        assert row.id is not None
        return cls(
            id=row.id,
            user_id=row.user_id,
            name=row.name,
            prefix=row.prefix,
            scopes=parse_scopes(row.scopes),
            created_at=as_utc(row.created_at),
            expires_at=as_utc(row.expires_at),
            last_used_at=as_utc(row.last_used_at) if row.last_used_at else None,
            revoked_at=as_utc(row.revoked_at) if row.revoked_at else None,
        )


@dataclass(frozen=True, slots=True)
class TokenAuth:
    """Who an API request acts for, and what its token allows."""

    user: UserInfo
    scopes: frozenset[str]
    token: TokenInfo

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def new_raw_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(30)


def parse_scopes(value: str) -> tuple[str, ...]:
    return tuple(sorted({part for part in value.split() if part}))


def _clean_scopes(scopes: str | list[str] | tuple[str, ...] | frozenset[str] | set[str]) -> tuple[str, ...]:
    parts = scopes.split() if isinstance(scopes, str) else list(scopes)
    unknown = sorted({p for p in parts if p not in SCOPES})
    if unknown:
        raise ValidationError(
            f"Unknown scope {unknown[0]!r}. Choose from: {', '.join(SCOPES)}.", code="unknown_scope"
        )
    cleaned = tuple(sorted(set(parts)))
    if not cleaned:
        raise ValidationError("Choose at least one permission for the token.", code="scopes_missing")
    return cleaned


def _clean_name(name: str) -> str:
    cleaned = re.sub(r"\s+", " ", unicodedata.normalize("NFC", _CONTROL_CHARS.sub("", name or ""))).strip()
    if not cleaned:
        raise ValidationError("Give the token a name, e.g. “laptop terminal”.", code="token_name_missing")
    if len(cleaned) > MAX_NAME_LENGTH:
        raise ValidationError(
            f"The token name can be at most {MAX_NAME_LENGTH} characters long.", code="token_name_too_long"
        )
    return cleaned


def create_token(
    *,
    session: Session,
    user_id: int,
    name: str,
    scopes: str | list[str] | tuple[str, ...] | frozenset[str] | set[str] = DEFAULT_SCOPES,
    expires_in_days: int = DEFAULT_EXPIRY_DAYS,
    ip: str | None = None,
) -> tuple[TokenInfo, str]:
    """Create a token for the user. Returns (info, raw token); show the raw token once, then forget it."""
    user = users.get_user(session=session, user_id=user_id)  # NotFoundError for unknown users
    clean_name = _clean_name(name)
    clean_scopes = _clean_scopes(scopes)
    if (
        isinstance(expires_in_days, bool)
        or not isinstance(expires_in_days, int)
        or not MIN_EXPIRY_DAYS <= expires_in_days <= MAX_EXPIRY_DAYS
    ):
        raise ValidationError(
            f"A token must expire after {MIN_EXPIRY_DAYS} to {MAX_EXPIRY_DAYS} days.",
            code="token_expiry_invalid",
        )
    now = utcnow()
    active = session.exec(
        select(func.count())
        .select_from(ApiToken)
        .where(
            col(ApiToken.user_id) == user.id,
            col(ApiToken.revoked_at).is_(None),
            col(ApiToken.expires_at) > now,
        )
    ).one()
    if int(active) >= MAX_ACTIVE_TOKENS_PER_USER:
        raise ValidationError(
            f"You already have {MAX_ACTIVE_TOKENS_PER_USER} active tokens. "
            "Revoke one you no longer use first.",
            code="token_limit_reached",
        )
    raw = new_raw_token()
    row = ApiToken(
        user_id=user.id,
        name=clean_name,
        prefix=raw[:PREFIX_DISPLAY_LENGTH],
        token_hash=hash_token(raw),
        scopes=" ".join(clean_scopes),
        created_at=now,
        expires_at=now + timedelta(days=expires_in_days),
    )
    session.add(row)
    session.flush()
    info = TokenInfo.from_row(row)
    record_audit(
        session=session,
        action="api_token.created",
        actor_id=user.id,
        target=f"api_token:{info.id}",
        ip=ip,
        detail={"name": info.name, "scopes": list(info.scopes), "expires_at": info.expires_at.isoformat()},
    )
    return info, raw


def list_tokens(*, session: Session, user_id: int, include_revoked: bool = False) -> list[TokenInfo]:
    """The user's tokens, newest first (expired ones included, revoked ones only when asked)."""
    query = select(ApiToken).where(col(ApiToken.user_id) == user_id)
    if not include_revoked:
        query = query.where(col(ApiToken.revoked_at).is_(None))
    rows = session.exec(query.order_by(col(ApiToken.id).desc())).all()
    return [TokenInfo.from_row(row) for row in rows]


def revoke_token(*, session: Session, user_id: int, token_id: int, ip: str | None = None) -> TokenInfo:
    """Revoke one of the user's tokens (revoking twice is harmless). Other users' tokens are "not found"."""
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != user_id:
        raise NotFoundError("We could not find that access token.", code="token_not_found")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.add(row)
        session.flush()
        record_audit(
            session=session,
            action="api_token.revoked",
            actor_id=user_id,
            target=f"api_token:{token_id}",
            ip=ip,
        )
    return TokenInfo.from_row(row)


def revoke_all_tokens(*, session: Session, user_id: int, ip: str | None = None) -> int:
    """Revoke every active token of the user (e.g. after a password reset). Returns how many."""
    now = utcnow()
    rows = session.exec(
        select(ApiToken).where(col(ApiToken.user_id) == user_id, col(ApiToken.revoked_at).is_(None))
    ).all()
    for row in rows:
        row.revoked_at = now
        session.add(row)
    session.flush()
    if rows:
        record_audit(
            session=session,
            action="api_token.revoked_all",
            actor_id=user_id,
            target=f"user:{user_id}",
            ip=ip,
            detail={"count": len(rows)},
        )
    return len(rows)


def purge_ended_tokens(*, session: Session, older_than: timedelta = TOKEN_RETENTION_AFTER_END) -> int:
    """Delete tokens that expired or were revoked more than `older_than` ago (retention job)."""
    cutoff = utcnow() - older_than
    rows = session.exec(
        select(ApiToken).where(
            (col(ApiToken.expires_at) < cutoff)
            | (col(ApiToken.revoked_at).is_not(None) & (col(ApiToken.revoked_at) < cutoff))
        )
    ).all()
    for row in rows:
        session.delete(row)
    session.flush()
    return len(rows)


def authenticate_token(*, session: Session, token: str | None) -> TokenAuth:
    """Resolve a raw bearer token, or raise `TokenMissingError`, `TokenInvalidError`, `TokenExpiredError`
    or `TokenRevokedError`."""
    if not token:
        raise TokenMissingError()
    if not _RAW_TOKEN.match(token):
        raise TokenInvalidError()
    row = session.exec(select(ApiToken).where(col(ApiToken.token_hash) == hash_token(token))).first()
    if row is None:
        raise TokenInvalidError()
    info = TokenInfo.from_row(row)
    if info.status == "revoked":
        raise TokenRevokedError()
    if info.status == "expired":
        raise TokenExpiredError()
    try:
        user = users.get_user(session=session, user_id=row.user_id)
    except NotFoundError:
        raise TokenInvalidError() from None
    now = utcnow()
    if info.last_used_at is None or now - info.last_used_at >= LAST_USED_RESOLUTION:
        row.last_used_at = now
        session.add(row)
        session.flush()
        info = TokenInfo.from_row(row)
    return TokenAuth(user=user, scopes=frozenset(info.scopes), token=info)


def require_scope(auth: TokenAuth, scope: str) -> None:
    if not auth.has_scope(scope):
        raise InsufficientScopeError(
            f"This access token lacks the “{scope}” permission. Create a token that includes it."
        )
