"""Account erasure: a 14-day grace period (account locked, cancel link by e-mail), then a hard
delete through every feature's erasure participant, each step recorded so an interrupted erasure
resumes where it stopped. Afterwards only a keyed hash of the e-mail (tombstone) and the
pseudonymised audit trail remain.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Exists, exists, func, or_, text
from sqlmodel import Session, col, select

from sayzhong import routes
from sayzhong.accounts import sessions as sessions_mod
from sayzhong.accounts.models import User, UserSession
from sayzhong.api import tokens
from sayzhong.audit import record_audit
from sayzhong.db import as_utc, utcnow
from sayzhong.errors import NotFoundError, PermissionDeniedError, ValidationError
from sayzhong.notifications.ports import EmailMessageData, Mailer
from sayzhong.practice.models import Attempt
from sayzhong.privacy.models import EmailTombstone, ErasureRequest
from sayzhong.privacy.participants import ERASURE_PARTICIPANTS, load_participant
from sayzhong.privacy.ports import ErasureSubject
from sayzhong.settings import Settings, get_settings

log = logging.getLogger(__name__)

GRACE_PERIOD = timedelta(days=14)
INACTIVITY_LIMIT = timedelta(days=730)
INACTIVITY_WARNING = timedelta(days=30)
UNVERIFIED_LIMIT = timedelta(days=7)
CANCEL_PATH = routes.CANCEL_DELETION
SessionFactory = Callable[[], AbstractContextManager[Session]]


@dataclass(frozen=True, slots=True)
class ErasureView:
    id: int
    status: str
    requested_by: str
    requested_at: datetime
    scheduled_for: datetime
    finished_at: datetime | None
    steps: dict[str, Any]


def _view(row: ErasureRequest) -> ErasureView:
    assert row.id is not None
    return ErasureView(
        id=row.id,
        status=row.status,
        requested_by=row.requested_by,
        requested_at=as_utc(row.requested_at),
        scheduled_for=as_utc(row.scheduled_for),
        finished_at=as_utc(row.finished_at) if row.finished_at else None,
        steps=dict(row.steps or {}),
    )


def _key(settings: Settings) -> bytes:
    return hashlib.sha256(b"sayzhong-privacy:" + settings.secret_key.encode()).digest()


def email_hash(email: str, settings: Settings | None = None) -> str:
    """Keyed (salted) hash of a normalised e-mail: the tombstone kept after erasure."""
    return hmac.new(
        _key(settings or get_settings()), email.strip().lower().encode(), hashlib.sha256
    ).hexdigest()


def pseudonym(user_id: int, settings: Settings | None = None) -> str:
    digest = hmac.new(
        _key(settings or get_settings()), f"user:{user_id}".encode(), hashlib.sha256
    ).hexdigest()
    return f"erased:{digest[:16]}"


def is_tombstoned(*, session: Session, email: str) -> bool:
    """True when an erased account used this address (billing uses it to refuse a second trial)."""
    return (
        session.exec(
            select(EmailTombstone.id).where(col(EmailTombstone.email_hash) == email_hash(email))
        ).first()
        is not None
    )


OPEN_STATUSES = ("pending", "erasing")


def _open_requests(session: Session, user_id: int) -> list[ErasureRequest]:
    """The learner's erasure requests not yet done or cancelled, newest first."""
    return list(
        session.exec(
            select(ErasureRequest)
            .where(col(ErasureRequest.user_id) == user_id, col(ErasureRequest.status).in_(OPEN_STATUSES))
            .order_by(col(ErasureRequest.id).desc())
        ).all()
    )


def open_request_column() -> Exists:
    """Whether the user has an erasure request open (pending or erasing), as an EXISTS correlated to
    `User.id`: the privacy gate reads it beside the session on every signed-in page load, and only
    then runs `erasure_on_page_load`."""
    # Equalities, not IN: an IN list is expanded on every execution ("post-compile"), and this runs
    # on every signed-in page load.
    return exists().where(
        col(ErasureRequest.user_id) == col(User.id),
        or_(*(col(ErasureRequest.status) == status for status in OPEN_STATUSES)),
    )


def pending_erasure(*, session: Session, user_id: int) -> ErasureView | None:
    rows = _open_requests(session, user_id)
    return _view(rows[0]) if rows else None


def _cancel_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def cancel_url(settings: Settings, token: str) -> str:
    return f"{settings.app_url.rstrip('/')}{CANCEL_PATH}?token={token}"


def request_erasure(
    *,
    session: Session,
    user_id: int,
    reauthenticated: bool,
    requested_by: str = "self",
    current_token: str | None = None,
    ip: str | None = None,
    mailer: Mailer | None = None,
    grace: timedelta = GRACE_PERIOD,
) -> ErasureView:
    """Start the grace period: the account is locked (other sessions and API tokens ended) and the
    learner gets an e-mail with a cancel link. `reauthenticated` must come from a fresh password
    check or provider sign-in by the caller."""
    if not reauthenticated:
        raise PermissionDeniedError(
            "Please confirm it is you before deleting the account.", code="reauth_required"
        )
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError("We could not find that account.")
    existing = pending_erasure(session=session, user_id=user_id)
    if existing is not None and existing.requested_by != "inactivity":
        return existing
    if existing is not None:
        cancel_erasure(session=session, user_id=user_id, reason="replaced")
    token = secrets.token_urlsafe(32)
    now = utcnow()
    row = ErasureRequest(
        user_id=user_id,
        subject=pseudonym(user_id),
        requested_by=requested_by,
        cancel_token_hash=_cancel_hash(token),
        requested_at=now,
        scheduled_for=now + grace,
    )
    session.add(row)
    session.flush()
    sessions_mod.revoke_user_sessions(session=session, user_id=user_id, keep_token=current_token)
    tokens.revoke_all_tokens(session=session, user_id=user_id, ip=ip)
    record_audit(
        session=session,
        action="privacy.erasure_requested",
        actor_id=user_id if requested_by == "self" else None,
        target=f"user:{user_id}",
        ip=ip,
        detail={"by": requested_by, "scheduled_for": row.scheduled_for.isoformat()},
    )
    settings = get_settings()
    if mailer is None:
        from sayzhong import wiring

        mailer = wiring.get_mailer(settings, session=session)
    mailer.send(
        EmailMessageData(
            to=user.email,
            subject="Your SayZhong account will be deleted in 14 days",
            text_body=(
                f"Hello {user.display_name},\n\nyou asked us to delete your SayZhong account. It is locked "
                f"now and will be deleted for good on {row.scheduled_for:%d %B %Y}, with your recordings, "
                "practice history and voice calibration.\n\nChanged your mind? Cancel the deletion here:\n\n"
                f"{cancel_url(settings, token)}\n\n"
                "If you did not ask for this, cancel it and change your password.\n"
            ),
        )
    )
    return _view(row)


def cancel_erasure(
    *,
    session: Session,
    user_id: int | None = None,
    token: str | None = None,
    reason: str = "user",
    ip: str | None = None,
) -> ErasureView:
    """Cancel a pending deletion by the e-mailed token or for a signed-in user."""
    query = select(ErasureRequest).where(col(ErasureRequest.status) == "pending")
    if token:
        query = query.where(col(ErasureRequest.cancel_token_hash) == _cancel_hash(token))
    elif user_id is not None:
        query = query.where(col(ErasureRequest.user_id) == user_id)
    else:
        raise ValidationError("Nothing to cancel.", code="erasure_nothing_to_cancel")
    row = session.exec(query.order_by(col(ErasureRequest.id).desc())).first()
    if row is None:
        raise NotFoundError(
            "There is no pending deletion for this link: it was cancelled already, or the account is gone.",
            code="erasure_not_pending",
        )
    row.status, row.finished_at, row.cancel_token_hash = "cancelled", utcnow(), None
    session.add(row)
    session.flush()
    record_audit(
        session=session,
        action="privacy.erasure_cancelled",
        actor_id=row.user_id if reason == "user" else None,
        target=f"user:{row.user_id}",
        ip=ip,
        detail={"reason": reason},
    )
    return _view(row)


def _secure_delete_pass(session: Session) -> None:
    """Deleted rows must not stay readable in the database files. SQLite connections run with
    `secure_delete` (sayzhong.db) — this makes sure of it for connections made elsewhere;
    PostgreSQL's VACUUM reclaims the space (the privacy policy says how long backups keep it)."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("PRAGMA secure_delete=ON"))


def _checkpoint(session: Session) -> None:
    """Move the write-ahead log into the database file and truncate it (SQLite)."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))


def run_erasure(*, session_factory: SessionFactory, request_id: int) -> ErasureView:
    """Erase one account now, step by step. A failing step is recorded and raised; the next run
    resumes at that step (finished steps are skipped)."""
    with session_factory() as session:
        row = session.get(ErasureRequest, request_id)
        if row is None:
            raise NotFoundError("No such erasure request.")
        if row.status == "done":
            return _view(row)
        if row.status == "cancelled":
            raise ValidationError("That deletion was cancelled.", code="erasure_cancelled")
        assert row.user_id is not None
        user = session.get(User, row.user_id)
        email = user.email if user else str(row.steps.get("_email", ""))
        row.status, row.attempts = "erasing", row.attempts + 1
        # The e-mail is kept on the request only while steps that need it are unfinished.
        row.steps = {**row.steps, "_email": email}
        session.add(row)
        subject = ErasureSubject(user_id=row.user_id, email=email, pseudonym=row.subject)
        done_steps = {k for k, v in row.steps.items() if isinstance(v, dict) and v.get("status") == "done"}
    for name, path in ERASURE_PARTICIPANTS:
        if name in done_steps:
            continue
        try:
            with session_factory() as session:
                _secure_delete_pass(session)
                count = load_participant(path)(session=session, subject=subject)
        except Exception as exc:
            log.exception("erasure %s: step %s failed", request_id, name)
            with session_factory() as session:
                row = session.get(ErasureRequest, request_id)
                assert row is not None
                row.steps = {
                    **row.steps,
                    name: {"status": "failed", "error": type(exc).__name__, "at": utcnow().isoformat()},
                }
                session.add(row)
            raise
        with session_factory() as session:
            row = session.get(ErasureRequest, request_id)
            assert row is not None
            row.steps = {**row.steps, name: {"status": "done", "count": count, "at": utcnow().isoformat()}}
            session.add(row)
    with session_factory() as session:
        _secure_delete_pass(session)
        if not session.exec(
            select(EmailTombstone.id).where(col(EmailTombstone.email_hash) == email_hash(email))
        ).first():
            session.add(EmailTombstone(email_hash=email_hash(email)))
        row = session.get(ErasureRequest, request_id)
        assert row is not None
        row.status, row.finished_at, row.user_id, row.cancel_token_hash = "done", utcnow(), None, None
        row.steps = {k: v for k, v in row.steps.items() if k != "_email"}
        session.add(row)
        record_audit(
            session=session,
            action="privacy.erasure_completed",
            target=row.subject,
            detail={"steps": len(ERASURE_PARTICIPANTS)},
        )
        view = _view(row)
    with session_factory() as session:
        _checkpoint(session)
    return view


def erase_now(*, session_factory: SessionFactory, user_id: int, requested_by: str = "cli") -> ErasureView:
    """Skip the grace period (operator CLI or staff, for a verified request)."""
    with session_factory() as session:
        user = session.get(User, user_id)
        if user is None:
            raise NotFoundError("We could not find that account.")
        row = session.exec(
            select(ErasureRequest).where(
                col(ErasureRequest.user_id) == user_id, col(ErasureRequest.status).in_(("pending", "erasing"))
            )
        ).first()
        if row is None:
            row = ErasureRequest(
                user_id=user_id, subject=pseudonym(user_id), requested_by=requested_by, scheduled_for=utcnow()
            )
            session.add(row)
            session.flush()
            record_audit(
                session=session,
                action="privacy.erasure_requested",
                target=f"user:{user_id}",
                detail={"by": requested_by},
            )
        request_id = row.id
    assert request_id is not None
    return run_erasure(session_factory=session_factory, request_id=request_id)


def run_due_erasures(*, session_factory: SessionFactory) -> dict[str, int]:
    """Job: erase accounts whose grace period is over, and resume interrupted ones. A failing
    erasure is retried on the next run; the others go on."""
    with session_factory() as session:
        ids = session.exec(
            select(ErasureRequest.id).where(
                col(ErasureRequest.status).in_(("pending", "erasing")),
                col(ErasureRequest.scheduled_for) <= utcnow(),
            )
        ).all()
    done = failed = 0
    for request_id in ids:
        assert request_id is not None
        try:
            run_erasure(session_factory=session_factory, request_id=request_id)
            done += 1
        except Exception:
            failed += 1
    if failed:
        raise RuntimeError(f"{failed} erasure(s) failed and will be retried ({done} done)")
    return {"erased": done}


ERASURE_LATE = timedelta(hours=2)


def overdue_erasures(*, session: Session, now: datetime | None = None, late: timedelta = ERASURE_LATE) -> int:
    """Erasures still not done `late` after they were due: the erasure job is stuck or failing
    (it runs every 15 minutes and resumes interrupted ones)."""
    cutoff = (now or utcnow()) - late
    return int(
        session.exec(
            select(func.count())
            .select_from(ErasureRequest)
            .where(
                col(ErasureRequest.status).in_(("pending", "erasing")),
                col(ErasureRequest.scheduled_for) < cutoff,
            )
        ).one()
    )


def _last_activity(session: Session, user: User) -> datetime:
    candidates = [as_utc(user.created_at)]
    seen = session.exec(
        select(UserSession.last_seen_at)
        .where(col(UserSession.user_id) == user.id)
        .order_by(col(UserSession.last_seen_at).desc())
    ).first()
    attempt = session.exec(
        select(Attempt.created_at)
        .where(col(Attempt.user_id) == user.id)
        .order_by(col(Attempt.created_at).desc())
    ).first()
    candidates += [as_utc(v) for v in (seen, attempt) if v is not None]
    return max(candidates)


def warn_inactive_accounts(*, session: Session, mailer: Mailer | None = None) -> int:
    """Job: accounts unused for 24 months minus 30 days get a warning and a deletion scheduled in 30
    days; signing in cancels it (see `gate`)."""
    from sayzhong.accounts.access import STAFF_ROLES

    settings = get_settings()
    cutoff = utcnow() - (INACTIVITY_LIMIT - INACTIVITY_WARNING)
    warned = 0
    for user in session.exec(select(User).where(col(User.created_at) < cutoff)).all():
        assert user.id is not None
        if user.role in STAFF_ROLES or pending_erasure(session=session, user_id=user.id) is not None:
            continue
        if _last_activity(session, user) >= cutoff:
            continue
        row = ErasureRequest(
            user_id=user.id,
            subject=pseudonym(user.id),
            requested_by="inactivity",
            scheduled_for=utcnow() + INACTIVITY_WARNING,
        )
        session.add(row)
        if mailer is None:
            from sayzhong import wiring

            mailer = wiring.get_mailer(settings, session=session)
        mailer.send(
            EmailMessageData(
                to=user.email,
                subject="Your SayZhong account will be deleted in 30 days",
                text_body=(
                    f"Hello {user.display_name},\n\nyou have not used SayZhong for almost two years, "
                    f"so we will delete your account and recordings on {row.scheduled_for:%d %B %Y}."
                    "\n\nTo keep it, just "
                    f"sign in before then: {settings.app_url.rstrip('/')}/signin\n"
                ),
            )
        )
        warned += 1
    session.flush()
    return warned


def schedule_unverified_accounts(*, session: Session, limit: timedelta = UNVERIFIED_LIMIT) -> int:
    """Job: learner accounts whose e-mail was never verified within 7 days are erased at once."""
    from sayzhong.accounts.access import STAFF_ROLES

    cutoff = utcnow() - limit
    scheduled = 0
    for user in session.exec(
        select(User).where(col(User.email_verified).is_(False), col(User.created_at) < cutoff)
    ).all():
        assert user.id is not None
        if user.role in STAFF_ROLES or pending_erasure(session=session, user_id=user.id) is not None:
            continue
        session.add(
            ErasureRequest(
                user_id=user.id, subject=pseudonym(user.id), requested_by="unverified", scheduled_for=utcnow()
            )
        )
        scheduled += 1
    session.flush()
    return scheduled


def erasure_on_page_load(*, session: Session, user_id: int) -> ErasureView | None:
    """A signed-in page load's erasure check, in one query: using the account again keeps it (an
    inactivity deletion is cancelled), and the erasure still pending, if any, is returned."""
    rows = _open_requests(session, user_id)
    if any(r.status == "pending" and r.requested_by == "inactivity" for r in rows):
        cancel_erasure(session=session, user_id=user_id, reason="signed_in")
        return pending_erasure(session=session, user_id=user_id)
    return _view(rows[0]) if rows else None


REAUTH_WINDOW = timedelta(minutes=10)


def reauthenticate(
    *, session: Session, user_id: int, password: str | None, session_token: str | None
) -> bool:
    """Fresh proof that the account holder is here: the password, or (provider-only accounts) a
    provider sign-in less than 10 minutes old."""
    from sayzhong.accounts.passwords import verify_password

    user = session.get(User, user_id)
    if user is None:
        return False
    if user.password_hash:
        return (
            bool(password)
            and len(password or "") <= 1024
            and verify_password(user.password_hash, password or "")
        )
    info = sessions_mod.resolve_session(session=session, token=session_token)
    return (
        info is not None
        and info.user.id == user_id
        and info.auth_method == "oidc"
        and utcnow() - info.created_at <= REAUTH_WINDOW
    )
