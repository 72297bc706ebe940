"""The invite-and-share page (/invite) and the staff referrals list (/admin/referrals).

Thin: each handler re-resolves the caller, validates its arguments, calls `sayzhong.growth` in a
worker thread and copies plain strings into vars.
"""

from __future__ import annotations

from datetime import datetime

import reflex as rx
from sqlmodel import Session

from sayzhong.billing.entitlements import entitlement_for
from sayzhong.errors import SayZhongError
from sayzhong.growth import referrals, sharing
from sayzhong.privacy import consent
from state.admin import StaffState
from state.session import SessionState, run_in_session

STATUS_WORDS = {
    referrals.PENDING: "Signed up — reward after their first scored take",
    referrals.REWARDED: "Rewarded",
    referrals.REFUSED: "Not eligible",
}


def _day(value: datetime | None) -> str:
    return value.strftime("%d %b %Y") if value else ""


class InviteState(rx.State):
    loaded: bool = False
    link: str = ""
    pending: rx.Field[int] = rx.field(0)
    rewarded: rx.Field[int] = rx.field(0)
    refused: rx.Field[int] = rx.field(0)
    reward_days: rx.Field[int] = rx.field(7)
    invites: list[dict[str, str]] = []
    invited_by: str = ""
    plus_until: str = ""
    shares: list[dict[str, str]] = []
    show_name: bool = False
    attempt_id: int = 0
    """A take picked on the practice page ("Share this result"); 0 = the latest scored take."""
    new_share_url: str = ""
    message: str = ""
    error: str = ""
    busy: bool = False

    async def _user_id(self) -> int | None:
        user = await (await self.get_state(SessionState)).current_user()
        return user.id if user else None

    async def _refresh(self, user_id: int) -> None:
        visitor = consent.visitor_from_cookie_header(self.router.headers.cookie)

        def _read(
            session: Session,
        ) -> tuple[referrals.InviteSummary, list[sharing.ShareView], datetime | None]:
            summary = referrals.invite_summary(session=session, user_id=user_id, visitor_id=visitor)
            ent = entitlement_for(session=session, user_id=user_id)
            return summary, sharing.list_shares(session=session, user_id=user_id), ent.grant_ends_at

        summary, shares, grant_ends = await run_in_session(_read)
        self.link = summary.link
        self.pending, self.rewarded, self.refused = summary.pending, summary.rewarded, summary.refused
        self.reward_days = summary.reward_days
        self.invites = [
            {"date": _day(i.created_at), "status": STATUS_WORDS.get(i.status, i.status), "source": i.source}
            for i in summary.invites
        ]
        self.invited_by = STATUS_WORDS.get(summary.invited_by_status or "", "")
        self.plus_until = _day(grant_ends)
        self.shares = [
            {
                "slug": s.slug,
                "url": sharing.share_url(s.slug),
                "what": s.title,
                "date": _day(s.created_at),
                "visits": str(s.visits),
                "sign_ups": str(s.sign_ups),
            }
            for s in shares
        ]
        self.loaded = True

    @rx.event
    async def load(self) -> None:
        self.message = self.error = self.new_share_url = ""
        raw = str(self.router.url.query_parameters.get("attempt", ""))[:12]
        self.attempt_id = int(raw) if raw.isdigit() else 0
        user_id = await self._user_id()
        if user_id is not None:
            await self._refresh(user_id)

    @rx.event
    def set_show_name(self, value: bool) -> None:
        self.show_name = bool(value)

    async def _share(self, kind: str):
        self.message = self.error = self.new_share_url = ""
        user_id = await self._user_id()
        if user_id is None:
            return
        self.busy = True
        yield
        show_name, attempt_id = self.show_name, self.attempt_id

        def _create(session: Session) -> sharing.ShareView:
            if kind == sharing.STREAK:
                return sharing.share_streak(session=session, user_id=user_id, show_name=show_name)
            chosen = attempt_id or sharing.latest_shareable_attempt(session=session, user_id=user_id)
            if not chosen:
                raise SayZhongError(
                    "Record a phrase first — then you can share your result.", code="share_none"
                )
            return sharing.share_result(
                session=session, user_id=user_id, attempt_id=chosen, show_name=show_name
            )

        try:
            view = await run_in_session(_create)
        except SayZhongError as exc:
            self.error = exc.user_message
        else:
            self.new_share_url = sharing.share_url(view.slug)
            self.message = (
                "Your share link is ready. Anyone with the link can see this card until you remove it."
            )
            await self._refresh(user_id)
        self.busy = False

    @rx.event
    async def share_result(self):
        async for update in self._share(sharing.RESULT):
            yield update

    @rx.event
    async def share_streak(self):
        async for update in self._share(sharing.STREAK):
            yield update

    @rx.event
    async def revoke(self, slug: str) -> None:
        self.message = self.error = ""
        user_id = await self._user_id()
        if user_id is None or not isinstance(slug, str) or referrals.valid_token(slug) is None:
            self.error = "That share link does not exist."
            return
        try:
            await run_in_session(
                lambda session: sharing.revoke_share(session=session, user_id=user_id, slug=slug)
            )
        except SayZhongError as exc:
            self.error = exc.user_message
            return
        if self.new_share_url.endswith("/" + slug):
            self.new_share_url = ""
        self.message = "Share link removed: it now shows “not available”."
        await self._refresh(user_id)


class AdminReferralsState(StaffState):
    status_filter: str = "all"
    rows: list[dict[str, str]] = []

    async def _load(self) -> None:
        user = await self._staff()
        if user is None:
            self.rows = []
            return
        ip = (await self.get_state(SessionState)).client_ip()
        status = None if self.status_filter == "all" else self.status_filter
        found = await run_in_session(
            lambda session: referrals.staff_referrals(session=session, actor=user, status=status, ip=ip)
        )
        self.rows = [
            {
                "when": r.created_at.strftime("%Y-%m-%d %H:%M"),
                "referrer": r.referrer_email,
                "referred": r.referred_email,
                "status": r.status,
                "reason": referrals.REFUSAL_WORDS.get(r.reason or "", ""),
                "source": r.source,
                "rewarded": r.rewarded_at.strftime("%Y-%m-%d") if r.rewarded_at else "",
            }
            for r in found
        ]

    @rx.event
    async def load(self) -> None:
        self.status_filter = "all"
        await self._load()

    @rx.event
    async def filter_status(self, value: str) -> None:
        if value not in ("all", referrals.PENDING, referrals.REWARDED, referrals.REFUSED):
            return
        self.status_filter = value
        await self._load()
