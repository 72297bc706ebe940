"""Server-side sessions: opaque random tokens in an HttpOnly cookie, SHA-256 digests in the DB.

A session ends at the first of: sign-out (revoked_at), the idle timeout since last_seen_at, or the
absolute timeout since sign-in (expires_at). `resolve_session` re-reads the user on every call, so
role changes take effect on the next request.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeGuard

from sqlalchemy import ColumnElement, bindparam, delete, or_
from sqlmodel import Session, col, select

from sayzhong.accounts.models import User, UserSession
from sayzhong.accounts.schemas import SessionInfo, UserInfo
from sayzhong.db import as_utc, utcnow
from sayzhong.errors import AuthenticationError
from sayzhong.settings import Settings, get_settings

# Only bump last_seen_at when it is at least this stale, so every page view is not a DB write.
_LAST_SEEN_RESOLUTION = timedelta(seconds=60)
_MAX_TOKEN_LENGTH = 256
SESSION_RETENTION_AFTER_END = timedelta(days=30)
DEACTIVATED_MESSAGE = (
    "This account has been deactivated. If you think this is a mistake, contact support and we'll help."
)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _idle_timeout(settings: Settings) -> timedelta:
    return timedelta(minutes=settings.session_idle_timeout_minutes)


def create_session(
    *,
    session: Session,
    user_id: int,
    ip: str | None,
    user_agent: str | None,
    auth_method: str = "password",
    replaces_token: str | None = None,
) -> str:
    """Start a session and return the raw token for the cookie (shown nowhere else).

    `replaces_token` is the cookie presented at sign-in, if any: it is revoked (session rotation).
    """
    settings = get_settings()
    owner = session.get(User, user_id)
    if owner is not None and owner.deactivated_at is not None:
        # Every way in (password, OpenID Connect, right after sign-up) ends here.
        raise AuthenticationError(DEACTIVATED_MESSAGE, code="account_deactivated")
    if replaces_token:
        revoke_token(session=session, token=replaces_token)
    token = new_token()
    now = utcnow()
    session.add(
        UserSession(
            user_id=user_id,
            token_hash=hash_token(token),
            auth_method=auth_method,
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(hours=settings.session_absolute_timeout_hours),
            ip=ip[:64] if ip else None,
            user_agent=user_agent[:512] if user_agent else None,
        )
    )
    session.flush()
    return token


def _plausible(token: str | None) -> TypeGuard[str]:
    """Worth a database lookup: present and not absurdly long."""
    return bool(token) and len(token or "") <= _MAX_TOKEN_LENGTH


def _lookup(session: Session, token: str | None) -> UserSession | None:
    if not _plausible(token):
        return None
    return session.exec(select(UserSession).where(col(UserSession.token_hash) == hash_token(token))).first()


@dataclass(frozen=True, slots=True)
class PageReads:
    """A page's own reads, made in its guard's session lookup (`resolve_session_with`): one
    statement per page load. `joined`: models outer-joined to the user on their `user_id` (at most
    one row per user); `columns`: scalar subqueries correlated to `User.id`. Build one per page, at
    import: the same objects every load, so the statement is built and compiled once."""

    joined: tuple[Any, ...] = ()
    columns: tuple[ColumnElement[Any], ...] = ()


_STATEMENTS: dict[tuple[int, ...], tuple[tuple[object, ...], Any]] = {}


def _session_statement(extra: tuple[ColumnElement[Any], ...], joined: tuple[Any, ...] = ()) -> Any:
    """The lookup by token digest, built once per set of extra columns and joined models (callers
    pass the same objects each time): SQLAlchemy then reuses its compiled form and cache key
    instead of building and hashing the statement on every page load."""
    key = tuple(id(part) for part in (*joined, *extra))
    found = _STATEMENTS.get(key)
    if found is None:
        statement = (
            select(UserSession, User, *joined, *extra)
            .join(User, col(User.id) == col(UserSession.user_id))
            .where(col(UserSession.token_hash) == bindparam("token_hash"))
        )
        for model in joined:
            statement = statement.outerjoin(model, col(model.user_id) == col(User.id))
        # Holds the parts themselves, so the ids in its key stay theirs.
        found = _STATEMENTS.setdefault(key, ((*joined, *extra), statement))
    return found[1]


def resolve_session(*, session: Session, token: str | None) -> SessionInfo | None:
    """The live session for a cookie value, or None (unknown, tampered, revoked or timed out).

    Slides last_seen_at forward, so the caller should commit.
    """
    found = resolve_session_with(session=session, token=token)
    return found[0] if found else None


def resolve_session_with(
    *,
    session: Session,
    token: str | None,
    extra: Sequence[ColumnElement[Any]] = (),
    joined: Sequence[Any] = (),
    params: Mapping[str, Any] | None = None,
) -> tuple[SessionInfo, tuple[Any, ...]] | None:
    """`resolve_session`, plus more read in the same round trip and returned in order beside the
    live session: the rows of the `joined` models that belong to the user (outer-joined on their
    `user_id`: a model with at most one row per user, else None), then the `extra` columns (scalar
    subqueries correlated to `User.id`: the privacy gate's checks on every signed-in page load, a
    page's own figures). `params`: the values those bind. None when the session is not live."""
    if not _plausible(token):
        return None
    # The session and its user in one round trip: every page load and API call starts here.
    found = session.exec(
        _session_statement(tuple(extra), tuple(joined)),
        params={**(params or {}), "token_hash": hash_token(token)},
    ).first()
    if found is None:
        return None
    row, user = found[0], found[1]
    values: tuple[Any, ...] = tuple(found[2:])
    if row.revoked_at is not None:
        return None
    settings = get_settings()
    now = utcnow()
    idle = _idle_timeout(settings)
    if as_utc(row.expires_at) <= now or as_utc(row.last_seen_at) + idle <= now:
        return None
    if user.deactivated_at is not None:
        return None
    if now - as_utc(row.last_seen_at) >= _LAST_SEEN_RESOLUTION:
        row.last_seen_at = now
        session.add(row)
        session.flush()
    info = SessionInfo.from_row(
        row, user=UserInfo.from_row(user), idle_timeout_s=idle.total_seconds(), is_current=True
    )
    return info, values


def revoke_token(*, session: Session, token: str | None) -> int | None:
    """Revoke the session behind `token`; returns its user id (None if there was none)."""
    row = _lookup(session, token)
    if row is None:
        return None
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.add(row)
        session.flush()
    return row.user_id


def list_active_sessions(
    *, session: Session, user_id: int, current_token: str | None = None
) -> list[SessionInfo]:
    settings = get_settings()
    now = utcnow()
    idle = _idle_timeout(settings)
    user = session.get(User, user_id)
    if user is None:
        return []
    info = UserInfo.from_row(user)
    current_hash = hash_token(current_token) if current_token else None
    rows = session.exec(
        select(UserSession)
        .where(
            col(UserSession.user_id) == user_id,
            col(UserSession.revoked_at).is_(None),
            col(UserSession.expires_at) > now,
            col(UserSession.last_seen_at) > now - idle,
        )
        .order_by(col(UserSession.last_seen_at).desc())
    ).all()
    return [
        SessionInfo.from_row(
            row, user=info, idle_timeout_s=idle.total_seconds(), is_current=row.token_hash == current_hash
        )
        for row in rows
    ]


def revoke_user_sessions(*, session: Session, user_id: int, keep_token: str | None = None) -> int:
    """Revoke every live session of a user except the one behind `keep_token`; returns the count."""
    keep_hash = hash_token(keep_token) if keep_token else None
    now = utcnow()
    rows = session.exec(
        select(UserSession).where(col(UserSession.user_id) == user_id, col(UserSession.revoked_at).is_(None))
    ).all()
    count = 0
    for row in rows:
        if keep_hash is not None and row.token_hash == keep_hash:
            continue
        row.revoked_at = now
        session.add(row)
        count += 1
    session.flush()
    return count


def revoke_session_by_id(*, session: Session, user_id: int, session_id: int) -> bool:
    """Sign out one of the user's devices (from the account page). False if not theirs/unknown."""
    row = session.get(UserSession, session_id)
    if row is None or row.user_id != user_id:
        return False
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.add(row)
        session.flush()
    return True


def purge_ended_sessions(*, session: Session, older_than: timedelta = SESSION_RETENTION_AFTER_END) -> int:
    """Delete sessions that ended (expired or revoked) more than `older_than` ago. For the jobs runner."""
    cutoff = utcnow() - older_than
    idle_cutoff = cutoff - _idle_timeout(get_settings())
    result = session.execute(
        delete(UserSession).where(
            or_(
                col(UserSession.expires_at) < cutoff,
                col(UserSession.revoked_at) < cutoff,
                col(UserSession.last_seen_at) < idle_cutoff,
            )
        ),
        execution_options={"synchronize_session": "fetch"},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
