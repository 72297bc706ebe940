"""Staff tools over accounts: the user list, role changes, the CLI admin bootstrap, the audit log.

Every function checks the actor's role itself (sayzhong.accounts.access); role changes re-read the
acting admin from the database and never remove the last administrator.
"""

from __future__ import annotations

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from sayzhong.accounts.access import HasRole, Role, parse_role, require_role
from sayzhong.accounts.models import User
from sayzhong.accounts.passwords import check_password_policy, hash_password
from sayzhong.accounts.schemas import AdminBootstrapResult, UserInfo, UserPage
from sayzhong.accounts.users import MAX_DISPLAY_NAME_LENGTH, normalize_email, touch, user_by_email, user_row
from sayzhong.audit import AuditPage, list_audit_events, record_audit
from sayzhong.db import utcnow
from sayzhong.errors import PermissionDeniedError, ValidationError


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_users(
    *,
    session: Session,
    actor: HasRole | None,
    search: str = "",
    role: str | None = None,
    page: int = 1,
    page_size: int = 20,
) -> UserPage:
    """Users whose e-mail or display name contains `search`, newest first. Support and admins only."""
    require_role(actor, Role.SUPPORT, Role.ADMIN)
    page = max(1, int(page))
    page_size = min(max(1, int(page_size)), 100)
    conditions = []
    term = (search or "").strip()[:100]
    if term:
        pattern = f"%{_escape_like(term.lower())}%"
        conditions.append(
            or_(
                func.lower(col(User.email)).like(pattern, escape="\\"),
                func.lower(col(User.display_name)).like(pattern, escape="\\"),
            )
        )
    if role:
        conditions.append(col(User.role) == parse_role(role).value)
    total = session.exec(select(func.count()).select_from(User).where(*conditions)).one()
    rows = session.exec(
        select(User)
        .where(*conditions)
        .order_by(col(User.created_at).desc(), col(User.id).desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    return UserPage(
        items=[UserInfo.from_row(r) for r in rows], total=int(total), page=page, page_size=page_size
    )


def change_role(
    *, session: Session, actor: HasRole | None, user_id: int, role: str, ip: str | None = None
) -> UserInfo:
    """Admins only (re-checked against the database); audited; never removes the last admin."""
    require_role(actor, Role.ADMIN)
    actor_id = getattr(actor, "id", None)
    actor_row = session.get(User, actor_id) if isinstance(actor_id, int) else None
    if actor_row is None or actor_row.role != Role.ADMIN:
        raise PermissionDeniedError("Only administrators can change roles.")
    new_role = parse_role(role)
    target = user_row(session, user_id)
    old_role = target.role
    if old_role == new_role:
        return UserInfo.from_row(target)
    if old_role == Role.ADMIN:
        # Lock the admin rows (PostgreSQL) so two admins cannot demote each other at the same time.
        admins = session.exec(select(User.id).where(col(User.role) == Role.ADMIN).with_for_update()).all()
        if len(admins) <= 1:
            raise ValidationError(
                "SayZhong needs at least one administrator. Make someone else an admin first.",
                code="last_admin",
            )
    target.role = new_role.value
    touch(target)
    session.add(target)
    session.flush()
    record_audit(
        session=session,
        action="role.changed",
        actor_id=actor_row.id,
        target=f"user:{target.id}",
        ip=ip,
        detail={"from": old_role, "to": new_role.value},
    )
    return UserInfo.from_row(target)


def create_admin(*, session: Session, email: str, password: str | None) -> AdminBootstrapResult:
    """Bootstrap an administrator (CLI). Promotes an existing account instead of creating one.

    With `password=None` a new account has no password: the operator then uses "Forgot password"
    or OIDC. An existing account's password is never changed here.
    """
    normalized = normalize_email(email)
    row = user_by_email(session, normalized)
    if row is not None and row.id is not None:
        old_role = row.role
        if old_role != Role.ADMIN:
            row.role = Role.ADMIN.value
            touch(row)
            session.add(row)
            session.flush()
            record_audit(
                session=session,
                action="role.changed",
                target=f"user:{row.id}",
                detail={"from": old_role, "to": Role.ADMIN.value, "via": "cli"},
            )
        return AdminBootstrapResult(user=UserInfo.from_row(row), created=False)
    if password is not None:
        check_password_policy(password, email=normalized)
    row = User(
        email=normalized,
        password_hash=hash_password(password) if password is not None else None,
        display_name=normalized.split("@", 1)[0][:MAX_DISPLAY_NAME_LENGTH],
        role=Role.ADMIN.value,
        password_changed_at=utcnow() if password is not None else None,
    )
    session.add(row)
    session.flush()
    record_audit(
        session=session,
        action="admin.created",
        target=f"user:{row.id}",
        detail={"via": "cli"},
    )
    return AdminBootstrapResult(user=UserInfo.from_row(row), created=True)


def list_audit_log(
    *,
    session: Session,
    actor: HasRole | None,
    action: str | None = None,
    target: str | None = None,
    page: int = 1,
    page_size: int = 50,
) -> AuditPage:
    """The audit log for the staff area: admins and support (read-only)."""
    require_role(actor, Role.SUPPORT, Role.ADMIN)
    return list_audit_events(session=session, action=action, target=target, page=page, page_size=page_size)
