"""Support desk: what staff see and do for one learner — a detail view (sign-up, plan, last
activity, attempt count, signed-in devices, audit trail), deactivate / reactivate, sign out
everywhere, and resend the e-mail confirmation link.

Every function checks the caller's role itself and records an audit row; nothing returned here
holds a secret (no password hash, session or API token, and devices show an approximate place
instead of the full IP address).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from sayzhong.accounts.access import HasRole, Role, require_role
from sayzhong.accounts.devices import approximate_place, describe_device
from sayzhong.accounts.models import User, UserSession
from sayzhong.accounts.sessions import revoke_user_sessions
from sayzhong.audit import AuditEvent, record_audit
from sayzhong.db import as_utc, utcnow
from sayzhong.errors import NotFoundError, PermissionDeniedError, ValidationError

SUPPORT_ROLES = (Role.SUPPORT, Role.ADMIN)
AUDIT_TRAIL_LENGTH = 25


@dataclass(frozen=True, slots=True)
class DeviceSummary:
    device: str
    place: str
    signed_in_at: datetime
    last_seen_at: datetime
    live: bool


@dataclass(frozen=True, slots=True)
class AuditLine:
    when: datetime
    action: str
    by: str
    """"the learner", "staff #7" or "anonymous"."""


@dataclass(frozen=True, slots=True)
class UserDetail:
    id: int
    email: str
    display_name: str
    role: str
    email_verified: bool
    signed_up_at: datetime
    sign_up_method: str
    plan: str
    last_activity_at: datetime | None
    attempts_count: int
    deactivated_at: datetime | None
    devices: tuple[DeviceSummary, ...]
    audit_trail: tuple[AuditLine, ...]

    @property
    def active(self) -> bool:
        return self.deactivated_at is None


def _target(user_id: int) -> str:
    return f"user:{user_id}"


def _row(session: Session, user_id: int) -> User:
    row = session.get(User, user_id)
    if row is None or row.id is None:
        raise NotFoundError("That account does not exist.", code="user_not_found")
    return row


def _attempts(session: Session, user_id: int) -> tuple[int, datetime | None]:
    from sayzhong.practice.models import Attempt  # practice owns attempts; read-only here

    count, last = session.exec(
        select(func.count(), func.max(Attempt.created_at)).where(col(Attempt.user_id) == user_id)
    ).one()
    return int(count), as_utc(last) if last else None


def _plan(session: Session, user_id: int) -> str:
    """The learner's plan as billing's one entitlement check sees it (Free, Plus by subscription with
    its status, or Plus by a staff grant)."""
    from sayzhong.billing.entitlements import entitlement_for

    ent = entitlement_for(session=session, user_id=user_id)
    if ent.plan == "free":
        return "Free"
    if ent.source == "grant":
        return "Plus (complimentary grant)"
    return f"Plus ({ent.status or 'active'})"


def _devices(session: Session, user_id: int) -> tuple[DeviceSummary, ...]:
    rows = session.exec(
        select(UserSession)
        .where(col(UserSession.user_id) == user_id)
        .order_by(col(UserSession.last_seen_at).desc())
        .limit(20)
    ).all()
    now = utcnow()
    return tuple(
        DeviceSummary(
            device=describe_device(row.user_agent),
            place=approximate_place(row.ip),
            signed_in_at=as_utc(row.created_at),
            last_seen_at=as_utc(row.last_seen_at),
            live=row.revoked_at is None and as_utc(row.expires_at) > now,
        )
        for row in rows
    )


def _trail(session: Session, user_id: int) -> tuple[tuple[AuditLine, ...], str]:
    rows = session.exec(
        select(AuditEvent)
        .where(or_(col(AuditEvent.target) == _target(user_id), col(AuditEvent.actor_id) == user_id))
        .order_by(col(AuditEvent.id).desc())
        .limit(AUDIT_TRAIL_LENGTH)
    ).all()
    lines = tuple(
        AuditLine(
            when=as_utc(row.created_at),
            action=row.action,
            by="the learner"
            if row.actor_id == user_id
            else (f"staff #{row.actor_id}" if row.actor_id is not None else "anonymous"),
        )
        for row in rows
    )
    signed_up = session.exec(
        select(AuditEvent).where(
            col(AuditEvent.action) == "user.signed_up", col(AuditEvent.target) == _target(user_id)
        )
    ).first()
    method = str((signed_up.detail or {}).get("method", "password")) if signed_up else ""
    # Labels for how the account signs in, not credentials (bandit B105 reads "password" as one).
    labels = {"oidc": "single sign-on", "password": "e-mail and password"}  # nosec B105
    return lines, labels.get(method, method or "unknown")


def get_user_detail(
    *, session: Session, actor: HasRole | None, user_id: int, ip: str | None = None
) -> UserDetail:
    """Everything support needs about one learner. Support and admins only; the view is audited."""
    require_role(actor, *SUPPORT_ROLES)
    row = _row(session, user_id)
    assert row.id is not None
    attempts, last_attempt = _attempts(session, row.id)
    devices = _devices(session, row.id)
    last_seen = max((d.last_seen_at for d in devices), default=None)
    last_activity = max((t for t in (last_attempt, last_seen) if t is not None), default=None)
    record_audit(
        session=session,
        action="support.user_viewed",
        actor_id=getattr(actor, "id", None),
        target=_target(row.id),
        ip=ip,
    )
    trail, method = _trail(session, row.id)
    return UserDetail(
        id=row.id,
        email=row.email,
        display_name=row.display_name,
        role=row.role,
        email_verified=row.email_verified,
        signed_up_at=as_utc(row.created_at),
        sign_up_method=method,
        plan=_plan(session, row.id),
        last_activity_at=last_activity,
        attempts_count=attempts,
        deactivated_at=as_utc(row.deactivated_at) if row.deactivated_at else None,
        devices=devices,
        audit_trail=trail,
    )


def _check_may_act_on(session: Session, actor: HasRole | None, target: User) -> int:
    require_role(actor, *SUPPORT_ROLES)
    actor_id = getattr(actor, "id", None)
    if not isinstance(actor_id, int):
        raise PermissionDeniedError()
    if target.id == actor_id:
        raise ValidationError("You cannot do this to your own account.", code="own_account")
    if target.role in (Role.ADMIN, Role.SUPPORT) and getattr(actor, "role", None) != Role.ADMIN:
        raise PermissionDeniedError("Only administrators can do this to a staff account.")
    return actor_id


def deactivate_user(
    *, session: Session, actor: HasRole | None, user_id: int, reason: str = "", ip: str | None = None
) -> UserDetail:
    """No sign-in until reactivated: every session and API token of the learner ends now."""
    from sayzhong.api.tokens import revoke_all_tokens

    target = _row(session, user_id)
    actor_id = _check_may_act_on(session, actor, target)
    if target.deactivated_at is None:
        target.deactivated_at = utcnow()
        session.add(target)
        ended = revoke_user_sessions(session=session, user_id=user_id)
        tokens = revoke_all_tokens(session=session, user_id=user_id, ip=ip)
        record_audit(
            session=session,
            action="support.user_deactivated",
            actor_id=actor_id,
            target=_target(user_id),
            ip=ip,
            detail={"sessions_ended": ended, "tokens_revoked": tokens, "reason": reason.strip()[:200]},
        )
    return get_user_detail(session=session, actor=actor, user_id=user_id, ip=ip)


def reactivate_user(
    *, session: Session, actor: HasRole | None, user_id: int, ip: str | None = None
) -> UserDetail:
    target = _row(session, user_id)
    actor_id = _check_may_act_on(session, actor, target)
    if target.deactivated_at is not None:
        target.deactivated_at = None
        session.add(target)
        record_audit(
            session=session,
            action="support.user_reactivated",
            actor_id=actor_id,
            target=_target(user_id),
            ip=ip,
        )
    return get_user_detail(session=session, actor=actor, user_id=user_id, ip=ip)


def sign_out_everywhere(
    *, session: Session, actor: HasRole | None, user_id: int, ip: str | None = None
) -> int:
    """End every session of the learner (a lost phone, a shared computer). Returns how many ended."""
    target = _row(session, user_id)
    actor_id = _check_may_act_on(session, actor, target)
    ended = revoke_user_sessions(session=session, user_id=user_id)
    record_audit(
        session=session,
        action="support.signed_out_everywhere",
        actor_id=actor_id,
        target=_target(user_id),
        ip=ip,
        detail={"sessions_ended": ended},
    )
    return ended


def resend_verification(
    *, session: Session, actor: HasRole | None, user_id: int, ip: str | None = None
) -> None:
    """Mail the learner a fresh confirmation link (the learner's own throttle applies)."""
    from sayzhong.accounts import verification
    from sayzhong.settings import get_settings

    require_role(actor, *SUPPORT_ROLES)
    target = _row(session, user_id)
    if target.email_verified:
        raise ValidationError("This e-mail address is already confirmed.", code="already_verified")
    verification.send_verification_email(
        session=session, user_id=user_id, app_url=get_settings().app_url, ip=ip
    )
    record_audit(
        session=session,
        action="support.verification_resent",
        actor_id=getattr(actor, "id", None),
        target=_target(user_id),
        ip=ip,
    )
