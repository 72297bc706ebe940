"""E-mail preferences (issue 14): the signed-in preference centre and the tokenised page from e-mails;
and the staff e-mail page (suppression list, product-news campaigns).

Both pages edit the same form. Signed in, the learner is the session's user; from an e-mail, the
signed link (kept in a backend-only var) says whose settings these are and which categories it may
change. Everything is validated by `sayzhong.notifications.preferences`.
"""

from __future__ import annotations

import asyncio
from typing import Any

import reflex as rx

from sayzhong import routes
from sayzhong.accounts import access
from sayzhong.accounts.users import is_known_timezone
from sayzhong.errors import SayZhongError
from sayzhong.notifications import news, preferences
from sayzhong.notifications.news import NEWS_ROLES
from state.admin import StaffState
from state.session import SessionState, run_in_session

REMINDER_TIMES = [f"{h:02d}:{m:02d}" for h in range(24) for m in (0, 30)]


class EmailPreferencesState(rx.State):
    daily: bool = False
    streak: bool = False
    weekly: bool = False
    news: bool = False
    reminder_time: str = "18:00"
    timezone: str = "UTC"
    browser_timezone: str = ""
    link_category: str = ""
    """On the page opened from an e-mail: "all", or the one category that link may change."""
    email_hint: str = ""
    loaded: bool = False
    message: str = ""
    error: str = ""
    _token: str = ""

    def _show(self, prefs: preferences.Preferences) -> None:
        self.daily, self.streak, self.weekly, self.news = prefs.daily, prefs.streak, prefs.weekly, prefs.news
        self.reminder_time, self.timezone = prefs.reminder_time, prefs.timezone
        self.loaded = True

    @rx.var
    def link_category_label(self) -> str:
        category = preferences.CATEGORIES.get(self.link_category)
        return category.label.lower() if category else ""

    @rx.var
    def suggest_browser_timezone(self) -> bool:
        return bool(self.browser_timezone) and self.browser_timezone != self.timezone

    @rx.event
    async def load_account(self) -> None:
        self.message = self.error = ""
        self._token, self.link_category = "", ""
        session_state = await self.get_state(SessionState)
        user = await session_state.current_user()
        if user is None:
            return
        uid = user.id
        self.email_hint = user.email
        self._show(await run_in_session(lambda s: preferences.get_preferences(session=s, user_id=uid)))

    @rx.event
    async def load_link(self) -> None:
        self.message = self.error = ""
        self.loaded = False
        token = str(self.router.url.query_parameters.get("token", ""))[:400]
        self._token = token
        try:
            link = await run_in_session(lambda s: preferences.preferences_for_link(session=s, token=token))
        except SayZhongError as exc:
            self.error = exc.user_message
            self.link_category = ""
            return
        self.link_category = link.scope.category
        self.email_hint = link.email_hint
        self._show(link.preferences)

    @rx.event
    def detect_timezone(self, zone: str) -> None:
        """From the BrowserTimeZone component: offered, never saved without the learner's click."""
        self.browser_timezone = zone if isinstance(zone, str) and is_known_timezone(zone) else ""

    @rx.event
    def use_browser_timezone(self) -> None:
        if self.browser_timezone:
            self.timezone = self.browser_timezone

    @rx.event
    def set_choice(self, category: str, value: bool) -> None:
        if category in preferences.CATEGORIES and isinstance(value, bool):
            setattr(self, category, value)

    @rx.event
    def set_reminder_time(self, value: str) -> None:
        if isinstance(value, str) and value in REMINDER_TIMES:
            self.reminder_time = value

    @rx.event
    def set_timezone(self, value: str) -> None:
        if isinstance(value, str) and len(value) <= 64:
            self.timezone = value

    def _choices(self) -> dict[str, bool]:
        return {key: bool(getattr(self, key)) for key in preferences.CATEGORIES}

    @rx.event
    async def save(self) -> Any:
        self.message = self.error = ""
        enabled, at, zone, token = self._choices(), self.reminder_time, self.timezone, self._token
        try:
            if token:
                prefs = await run_in_session(
                    lambda s: preferences.update_by_link(
                        session=s, token=token, enabled=enabled, reminder_time=at, timezone=zone
                    )
                )
            else:
                session_state = await self.get_state(SessionState)
                user = await session_state.current_user()
                if user is None:
                    return rx.redirect(routes.sign_in_url(routes.ACCOUNT_EMAIL))
                uid = user.id
                prefs = await run_in_session(
                    lambda s: preferences.update_preferences(
                        session=s, user_id=uid, enabled=enabled, reminder_time=at, timezone=zone
                    )
                )
        except SayZhongError as exc:
            self.error = exc.user_message
            return None
        self._show(prefs)
        self.message = "Saved. Your e-mail settings apply from the next reminder."
        return None

    @rx.event
    async def unsubscribe_link(self) -> None:
        """The confirmation button on the page a List-Unsubscribe GET lands on."""
        self.message = self.error = ""
        token = self._token
        try:
            await run_in_session(lambda s: preferences.unsubscribe(session=s, token=token))
            link = await run_in_session(lambda s: preferences.preferences_for_link(session=s, token=token))
        except SayZhongError as exc:
            self.error = exc.user_message
            return
        self._show(link.preferences)
        self.message = "You are unsubscribed."


# --- staff: the suppression list and product-news campaigns (/admin/email) -------------------------


def _suppression_row(view: preferences.SuppressionView) -> dict[str, str]:
    return {
        "email": view.email,
        "reason": view.reason,
        "source": view.source,
        "detail": view.detail,
        "date": view.created_at.strftime("%Y-%m-%d %H:%M UTC"),
    }


class AdminEmailState(StaffState):
    """Support and admins see and lift suppressions; marketing and admins send product news."""

    search: str = ""
    reason: str = ""
    rows: list[dict[str, str]] = []
    total: rx.Field[int] = rx.field(0)
    can_suppressions: bool = False
    can_news: bool = False
    message: str = ""
    error: str = ""
    news_message: str = ""
    news_error: str = ""
    sending: bool = False

    async def _load(self) -> None:
        user = await self._staff()
        if user is None:
            self.rows, self.can_suppressions, self.can_news = [], False, False
            return
        self.can_suppressions = access.has_role(user, *preferences.SUPPRESSION_STAFF)
        self.can_news = access.has_role(user, *NEWS_ROLES)
        if not self.can_suppressions:
            self.rows = []
            return
        search, reason = self.search, self.reason
        found = await run_in_session(
            lambda session: preferences.list_suppressions(
                session=session, actor=user, search=search, reason=reason
            )
        )
        self.rows = [_suppression_row(v) for v in found.items]
        self.total = found.total

    @rx.event
    async def load(self) -> None:
        self.message = self.error = self.news_message = self.news_error = ""
        self.search = self.reason = ""
        await self._load()

    @rx.event
    async def run_search(self, form: dict[str, Any]) -> None:
        self.message = self.error = ""
        search, reason = form.get("search", ""), form.get("reason", "")
        self.search = search.strip()[:320] if isinstance(search, str) else ""
        self.reason = reason if reason in preferences.SUPPRESSION_REASONS else ""
        await self._load()

    @rx.event
    async def lift(self, email: str) -> None:
        self.message = self.error = ""
        actor = await self._staff(*preferences.SUPPRESSION_STAFF)
        if actor is None or not isinstance(email, str):
            self.error = self.denied or "That address is not on the suppression list."
            return
        ip = (await self.get_state(SessionState)).client_ip()
        address = email[:320]
        try:
            lifted = await run_in_session(
                lambda session: preferences.lift_suppression(
                    session=session, actor=actor, email=address, ip=ip
                )
            )
        except SayZhongError as exc:
            self.error = exc.user_message
            return
        if lifted:
            self.message = f"{address} may get reminders and news again (if they opt in)."
        else:
            self.error = f"{address} is not on the suppression list (any more)."
        await self._load()

    @rx.event
    async def send_news(self, form: dict[str, Any]):
        self.news_message = self.news_error = ""
        actor = await self._staff(*NEWS_ROLES)
        if actor is None:
            self.news_error = self.denied
            return
        fields = {
            k: form.get(k) if isinstance(form.get(k), str) else "" for k in ("campaign", "subject", "body")
        }
        try:
            letter = news.validate_news(
                campaign=str(fields["campaign"]), subject=str(fields["subject"]), body=str(fields["body"])
            )
        except SayZhongError as exc:
            self.news_error = exc.user_message
            return
        self.sending = True
        yield
        try:
            result = await asyncio.to_thread(
                news.send_product_news,
                campaign=letter.campaign,
                subject=letter.subject,
                body=letter.body,
                actor=actor,
            )
        except SayZhongError as exc:
            self.news_error = exc.user_message
        else:
            self.news_message = (
                f"Campaign {result.campaign}: sent to {result.sent} of {result.audience} opted-in learners"
                f" ({result.already} had it already, {result.failed} failed — send again to retry those)."
            )
        self.sending = False
