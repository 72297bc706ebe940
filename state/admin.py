"""Staff area: users and roles, the e-mail outbox, the audit log.

Every handler re-resolves the caller from the session cookie and checks the role server-side; a
learner calling these handlers directly gets a permission error and no data.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import reflex as rx

from sayzhong import routes
from sayzhong.accounts import access, schemas, staff, user_support
from sayzhong.errors import PermissionDeniedError, SayZhongError
from sayzhong.notifications import service as notifications
from state.session import SessionState, run_in_session

PAGE_SIZE = 20


class StaffState(rx.State):
    """Base for staff pages: `_staff()` returns the caller if they hold one of the roles."""

    denied: str = ""

    async def _staff(self, *roles: str) -> schemas.UserInfo | None:
        session_state = await self.get_state(SessionState)
        user = await session_state.current_user()
        try:
            access.require_role(user, *(roles or tuple(access.STAFF_ROLES)))
        except SayZhongError as exc:
            self.denied = exc.user_message
            return None
        if user is None or not user.two_factor_enabled:  # require_role refuses it too; kept for clarity
            self.denied = access.TWO_FACTOR_REQUIRED
            return None
        self.denied = ""
        return user


class AdminUsersState(StaffState):
    search: str = ""
    page: int = 1
    pages: int = 1
    total: rx.Field[int] = rx.field(0)
    users: list[dict[str, str]] = []
    message: str = ""
    error: str = ""
    can_change_roles: bool = False
    roles: list[str] = [role.value for role in access.ALL_ROLES]

    async def _load_page(self) -> None:
        user = await self._staff()
        if user is None:
            self.users = []
            return
        self.can_change_roles = access.is_admin(user)
        result = await run_in_session(
            lambda session: staff.list_users(
                session=session, actor=user, search=self.search, page=self.page, page_size=PAGE_SIZE
            )
        )
        self.total, self.pages, self.page = result.total, result.pages, result.page
        self.users = [
            {
                "id": str(u.id),
                "href": routes.admin_user_url(u.id),
                "email": u.email,
                "name": u.display_name,
                "role": u.role,
                "joined": u.created_at.strftime("%Y-%m-%d"),
            }
            for u in result.items
        ]

    @rx.event
    async def load(self) -> None:
        self.message = self.error = ""
        self.page = 1
        await self._load_page()

    @rx.event
    async def run_search(self, form: dict[str, Any]) -> None:
        value = form.get("search", "")
        self.search = value[:200] if isinstance(value, str) else ""
        self.page = 1
        await self._load_page()

    @rx.event
    async def next_page(self) -> None:
        if self.page < self.pages:
            self.page += 1
            await self._load_page()

    @rx.event
    async def previous_page(self) -> None:
        if self.page > 1:
            self.page -= 1
            await self._load_page()

    @rx.event
    async def change_role(self, user_id: str, role: str) -> None:
        self.message = self.error = ""
        actor = await self._staff(access.Role.ADMIN)
        if actor is None:
            self.error = self.denied or str(PermissionDeniedError().user_message)
            return
        try:
            target_id = int(user_id)
        except (TypeError, ValueError):
            self.error = "Unknown user."
            return
        session_state = await self.get_state(SessionState)
        ip = session_state.client_ip()
        try:
            updated = await run_in_session(
                lambda session: staff.change_role(
                    session=session, actor=actor, user_id=target_id, role=str(role)[:20], ip=ip
                )
            )
        except SayZhongError as exc:
            self.error = exc.user_message
            return
        self.message = f"{updated.email} is now {updated.role}."
        await self._load_page()


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "—"


class UserDetailState(StaffState):
    """One learner's support page: facts, devices, audit trail and the support actions."""

    user_id: int = 0
    found: bool = False
    facts: list[dict[str, str]] = []
    display_name: str = ""
    active: bool = True
    verified: bool = True
    can_act: bool = False
    devices: list[dict[str, str]] = []
    trail: list[dict[str, str]] = []
    message: str = ""
    error: str = ""

    def _show(self, detail: user_support.UserDetail, actor: schemas.UserInfo) -> None:
        self.verified = detail.email_verified
        self.found, self.user_id, self.display_name, self.active = (
            True,
            detail.id,
            detail.display_name,
            detail.active,
        )
        self.can_act = actor.id != detail.id and (
            access.is_admin(actor) or detail.role not in (access.Role.ADMIN, access.Role.SUPPORT)
        )
        self.facts = [
            {"label": "E-mail", "value": detail.email},
            {"label": "Role", "value": detail.role},
            {"label": "E-mail verified", "value": "yes" if detail.email_verified else "not yet"},
            {"label": "Signed up", "value": f"{_when(detail.signed_up_at)} with {detail.sign_up_method}"},
            {"label": "Plan", "value": detail.plan},
            {"label": "Last activity", "value": _when(detail.last_activity_at)},
            {"label": "Practice attempts", "value": str(detail.attempts_count)},
            {
                "label": "Status",
                "value": "active" if detail.active else f"deactivated since {_when(detail.deactivated_at)}",
            },
        ]
        self.devices = [
            {
                "device": d.device,
                "place": d.place,
                "signed_in": _when(d.signed_in_at),
                "last_seen": _when(d.last_seen_at),
                "live": "signed in" if d.live else "ended",
            }
            for d in detail.devices
        ]
        self.trail = [{"when": _when(t.when), "action": t.action, "by": t.by} for t in detail.audit_trail]

    async def _run(self, action) -> user_support.UserDetail | None:
        """Run `action(session, actor, ip)` for a staff caller; errors become a plain message."""
        self.message = self.error = ""
        actor = await self._staff(access.Role.ADMIN, access.Role.SUPPORT)
        if actor is None:
            self.found = False
            return None
        session_state = await self.get_state(SessionState)
        ip = session_state.client_ip()
        try:
            result = await run_in_session(lambda session: action(session, actor, ip))
        except SayZhongError as exc:
            self.error = exc.user_message
            return None
        if isinstance(result, user_support.UserDetail):
            self._show(result, actor)
        return result

    @rx.event
    async def load(self) -> None:
        self.found, self.facts, self.devices, self.trail = False, [], [], []
        raw = str(self.router.url.query_parameters.get("id", ""))[:12]
        if not raw.isdigit():
            self.error = "No such account."
            return
        self.user_id = int(raw)
        user_id = self.user_id
        await self._run(
            lambda session, actor, ip: user_support.get_user_detail(
                session=session, actor=actor, user_id=user_id, ip=ip
            )
        )

    @rx.event
    async def deactivate(self, form: dict[str, Any]) -> None:
        reason = form.get("reason", "")
        reason = reason[:200] if isinstance(reason, str) else ""
        user_id = self.user_id
        if await self._run(
            lambda session, actor, ip: user_support.deactivate_user(
                session=session, actor=actor, user_id=user_id, reason=reason, ip=ip
            )
        ):
            self.message = "Account deactivated: every session and API token has ended."

    @rx.event
    async def reactivate(self) -> None:
        user_id = self.user_id
        if await self._run(
            lambda session, actor, ip: user_support.reactivate_user(
                session=session, actor=actor, user_id=user_id, ip=ip
            )
        ):
            self.message = "Account reactivated: the learner can sign in again."

    @rx.event
    async def resend_verification(self) -> None:
        user_id = self.user_id

        def _act(session, actor, ip):
            user_support.resend_verification(session=session, actor=actor, user_id=user_id, ip=ip)
            return user_support.get_user_detail(session=session, actor=actor, user_id=user_id, ip=ip)

        if await self._run(_act):
            self.message = "A new confirmation link is on its way to the learner."

    @rx.event
    async def sign_out_everywhere(self) -> None:
        user_id = self.user_id

        def _act(session, actor, ip):
            ended = user_support.sign_out_everywhere(session=session, actor=actor, user_id=user_id, ip=ip)
            return ended, user_support.get_user_detail(session=session, actor=actor, user_id=user_id, ip=ip)

        result = await self._run(_act)
        if isinstance(result, tuple):
            ended, detail = result
            actor = await self._staff(access.Role.ADMIN, access.Role.SUPPORT)
            if actor is not None:
                self._show(detail, actor)
            self.message = f"Signed out everywhere: {ended} session{'s' if ended != 1 else ''} ended."


class OutboxState(StaffState):
    emails: list[dict[str, str]] = []
    selected_subject: str = ""
    selected_body: str = ""
    selected_to: str = ""

    @rx.event
    async def load(self) -> None:
        actor = await self._staff(access.Role.ADMIN)
        if actor is None:
            self.emails = []
            return
        result = await run_in_session(
            lambda session: notifications.list_outbox(session=session, actor=actor, page_size=50)
        )
        self.emails = [
            {
                "id": str(e.id),
                "to": e.to,
                "subject": e.subject,
                "sent": e.created_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
                "via": e.sent_via,
            }
            for e in result.items
        ]

    @rx.event
    async def open_email(self, email_id: str) -> None:
        actor = await self._staff(access.Role.ADMIN)
        if actor is None:
            return
        try:
            info = await run_in_session(
                lambda session: notifications.get_outbox_email(
                    session=session, actor=actor, email_id=int(email_id)
                )
            )
        except (SayZhongError, ValueError):
            self.selected_subject, self.selected_body, self.selected_to = (
                "",
                "That e-mail is no longer available.",
                "",
            )
            return
        self.selected_subject, self.selected_body, self.selected_to = info.subject, info.text_body, info.to


class AuditState(StaffState):
    events: list[dict[str, str]] = []

    @rx.event
    async def load(self) -> None:
        actor = await self._staff(access.Role.ADMIN, access.Role.SUPPORT)
        if actor is None:
            self.events = []
            return
        result = await run_in_session(
            lambda session: staff.list_audit_log(session=session, actor=actor, page_size=100)
        )
        self.events = [
            {
                "when": e.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                "action": e.action,
                "actor": str(e.actor_id or ""),
                "target": e.target or "",
                "ip": e.ip or "",
            }
            for e in result.items
        ]


__all__ = ["AdminUsersState", "AuditState", "OutboxState", "UserDetailState", "routes"]
