"""E-mail preferences (issue 14): the signed-in preference centre and the tokenised page from e-mails.

Both pages edit the same form. Signed in, the learner is the session's user; from an e-mail, the
signed link (kept in a backend-only var) says whose settings these are and which categories it may
change. Everything is validated by `sayzhong.notifications.preferences`.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from sayzhong import routes
from sayzhong.accounts.users import is_known_timezone
from sayzhong.errors import SayZhongError
from sayzhong.notifications import preferences
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
