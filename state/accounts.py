"""Sign-up, sign-in, password reset and the account settings page.

Thin handlers: validate arguments, call accounts services in a worker thread, copy plain data into
vars, show friendly messages. Passwords never stay in state.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from sayzhong import routes
from sayzhong.accounts import password_reset, schemas, sign_in, two_factor, users
from sayzhong.accounts.devices import approximate_place, describe_device
from sayzhong.analytics import service as analytics
from sayzhong.api import tokens as api_tokens
from sayzhong.errors import SayZhongError
from sayzhong.experiments import service as experiments
from sayzhong.growth import referrals
from sayzhong.http.session_cookie import two_factor_cookie
from sayzhong.privacy import consent
from sayzhong.settings import get_settings
from state.account_security import send_verification_quietly
from state.privacy import ConsentState
from state.session import SessionState, hand_session_to_browser, run_in_session

SIGN_IN_ERRORS = {
    "expired": "Your sign-in took too long. Please sign in again.",
    "oidc_disabled": "Single sign-on is not configured.",
    "oidc_unavailable": (
        "The single sign-on provider could not be reached. Please try again or use your password."
    ),
    "rate_limited": "Too many sign-in attempts. Please wait a few minutes and try again.",
}


def _text(form: dict[str, Any], key: str, limit: int = 320) -> str:
    value = form.get(key, "")
    return value[:limit] if isinstance(value, str) else ""


class SignUpState(rx.State):
    error: str = ""
    busy: bool = False

    @rx.event
    async def submit(self, form: dict[str, Any]):
        self.error = ""
        email, password = _text(form, "email"), _text(form, "password", 1000)
        display_name = _text(form, "display_name", 80).strip()
        if _text(form, "password_confirm", 1000) != password:
            self.error = "The two passwords do not match."
            return
        # Issue 11: acceptance of the current terms and privacy policy is recorded with the account.
        if form.get("accept_terms") not in (True, "on", "true"):
            self.error = "Please accept the Terms of Service and the Privacy Policy to create an account."
            return
        cookie = self.router.headers.cookie
        visitor = consent.visitor_from_cookie_header(cookie)
        # The websocket's headers predate a cookie choice made on an earlier page of this visit.
        visitor = visitor or consent.valid_visitor_id((await self.get_state(ConsentState)).visitor)
        ref = referrals.ref_from_cookie_header(cookie)  # issue 14: invite link
        self.busy = True
        yield
        session_state = await self.get_state(SessionState)
        ip, agent = session_state.client_ip(), session_state.user_agent()
        try:

            def _sign_up(session):
                user = users.sign_up(
                    session=session, email=email, password=password, display_name=display_name, ip=ip
                )
                consent.record_sign_up(session=session, user_id=user.id, visitor_id=visitor)
                # Issue 14: sign-up source (first/last touch), visitor merged into the account, event.
                analytics.record_sign_up(
                    session=session,
                    user_id=user.id,
                    method="password",
                    cookie_header=cookie,
                    visitor_id=visitor,
                )
                referrals.attribute_sign_up(session=session, user_id=user.id, ref=ref, visitor_id=visitor)
                # Issue 14: this browser's experiment variants follow the new account.
                experiments.link_visitor_to_user(session=session, visitor_id=visitor, user_id=user.id)
                return sign_in.authenticate(
                    session=session, email=email, password=password, ip=ip, user_agent=agent
                )

            result = await run_in_session(_sign_up)
            user, token = result.unwrap()
        except SayZhongError as exc:
            self.error = exc.user_message
            self.busy = False
            return
        # Its own unit of work, after the account is committed: a mail failure must not undo the
        # sign-up (the banner offers "resend").
        await send_verification_quietly(user.id, ip)
        self.busy = False
        yield hand_session_to_browser(token, routes.ONBOARDING)


class SignInState(rx.State):
    error: str = ""
    busy: bool = False
    step: str = "password"
    """"password", then "code" when the account uses two-factor sign-in."""
    _challenge: str = ""

    @rx.var
    def next_path(self) -> str:
        return routes.safe_next(self.router.url.query_parameters.get("next"))

    @rx.event
    async def load(self) -> None:
        self.step, self._challenge = "password", ""
        if self.router.url.query_parameters.get("step") == "code":
            # Back from "Sign in with …" for an account with 2FA: the challenge is in a cookie.
            session_state = await self.get_state(SessionState)
            challenge = two_factor_cookie(session_state.router.headers.cookie)
            if challenge:
                self._challenge, self.step = challenge, "code"
        code = str(self.router.url.query_parameters.get("error", ""))[:60]
        if code.startswith("oidc_") and code not in SIGN_IN_ERRORS:
            from sayzhong.accounts.oidc import oidc_error_message

            self.error = oidc_error_message(code, get_settings())
            return
        self.error = SIGN_IN_ERRORS.get(code, "") if code else ""
        if code and not self.error:
            self.error = "Sign-in failed. Please try again."

    @rx.event
    async def submit(self, form: dict[str, Any]):
        self.error = ""
        email, password = _text(form, "email"), _text(form, "password", 1000)
        if not email or not password:
            self.error = "Enter your e-mail address and password."
            return
        self.busy = True
        yield
        session_state = await self.get_state(SessionState)
        ip, agent = session_state.client_ip(), session_state.user_agent()
        try:
            result = await run_in_session(
                lambda session: sign_in.authenticate(
                    session=session,
                    email=email,
                    password=password,
                    ip=ip,
                    user_agent=agent,
                    current_token=session_state.session_token(),
                )
            )
        except SayZhongError as exc:  # e.g. a deactivated account: refused when the session opens
            self.busy = False
            self.error = exc.user_message
            return
        self.busy = False
        if not result.ok:
            assert result.error is not None
            self.error = result.error.user_message
            return
        if result.needs_second_factor:
            assert result.two_factor_challenge is not None
            self._challenge, self.step = result.two_factor_challenge, "code"
            return
        _user, token = result.unwrap()
        yield hand_session_to_browser(token, self.next_path)

    @rx.event
    async def submit_code(self, form: dict[str, Any]):
        """Second step: a code from the authenticator app, or a recovery code."""
        self.error = ""
        code = _text(form, "code", 40).strip()
        if not code:
            self.error = "Enter the 6-digit code from your authenticator app, or a recovery code."
            return
        if not self._challenge:
            self.step, self.error = "password", "Please sign in again."
            return
        self.busy = True
        yield
        session_state = await self.get_state(SessionState)
        ip, agent = session_state.client_ip(), session_state.user_agent()
        challenge = self._challenge
        result = await run_in_session(
            lambda session: two_factor.complete_two_factor_sign_in(
                session=session,
                challenge=challenge,
                code=code,
                ip=ip,
                user_agent=agent,
                current_token=session_state.session_token(),
            )
        )
        self.busy = False
        if not result.ok:
            assert result.error is not None
            self.error = result.error.user_message
            if result.error.code == "two_factor_challenge_expired":
                self.step, self._challenge = "password", ""
            return
        self._challenge = ""
        _user, token = result.unwrap()
        yield hand_session_to_browser(token, self.next_path)

    @rx.event
    def start_over(self) -> None:
        self.step, self._challenge, self.error = "password", "", ""


class ForgotPasswordState(rx.State):
    sent: bool = False
    error: str = ""
    busy: bool = False

    @rx.event
    async def submit(self, form: dict[str, Any]):
        self.error = ""
        email = _text(form, "email").strip()
        if "@" not in email:
            self.error = "Enter the e-mail address you signed up with."
            return
        self.busy = True
        yield
        session_state = await self.get_state(SessionState)
        ip = session_state.client_ip()
        settings = get_settings()
        try:
            await run_in_session(
                lambda session: password_reset.request_password_reset(
                    session=session,
                    email=email,
                    app_url=settings.app_url,
                    ip=ip,
                )
            )
        except SayZhongError as exc:
            self.error = exc.user_message
            self.busy = False
            return
        # Same answer whether or not the address has an account (no account enumeration).
        self.sent = True
        self.busy = False

    @rx.event
    def reset_form(self) -> None:
        self.sent = False
        self.error = ""


class ResetPasswordState(rx.State):
    error: str = ""
    done: bool = False
    busy: bool = False
    link_ok: bool = False

    @rx.event
    async def load(self) -> None:
        """Check the link before the learner types a new password."""
        self.error, self.done, self.link_ok = "", False, False
        token = str(self.router.url.query_parameters.get("token", ""))[:200]
        if not token:
            self.error = "This reset link is incomplete. Request a new one."
            return
        try:
            await run_in_session(
                lambda session: password_reset.check_reset_token(session=session, token=token)
            )
        except SayZhongError as exc:
            self.error = exc.user_message
            return
        self.link_ok = True

    @rx.event
    async def submit(self, form: dict[str, Any]):
        self.error = ""
        token = self.router.url.query_parameters.get("token", "")[:200]
        password = _text(form, "password", 1000)
        if _text(form, "password_confirm", 1000) != password:
            self.error = "The two passwords do not match."
            return
        self.busy = True
        yield
        try:

            def _reset(session):
                user = password_reset.reset_password(session=session, token=token, new_password=password)
                # Whoever had the old password may have minted API tokens: revoke them too.
                api_tokens.revoke_all_tokens(session=session, user_id=user.id)

            await run_in_session(_reset)
        except SayZhongError as exc:
            self.error = exc.user_message
            self.busy = False
            return
        self.busy = False
        self.done = True


class AccountState(rx.State):
    """Profile, password and signed-in devices of the current user."""

    display_name: str = ""
    timezone: str = "UTC"
    daily_goal_minutes: str = "10"
    has_password: bool = True
    profile_message: str = ""
    profile_error: str = ""
    password_message: str = ""
    password_error: str = ""
    sessions_message: str = ""
    devices: list[dict[str, str]] = []
    tokens: list[dict[str, str]] = []
    new_token: str = ""
    token_error: str = ""

    async def _user(self) -> schemas.UserInfo | None:
        session_state = await self.get_state(SessionState)
        return await session_state.current_user()

    async def _refresh(self) -> None:
        user = await self._user()
        if user is None:
            return
        session_state = await self.get_state(SessionState)
        token = session_state.session_token()
        self.display_name = user.display_name
        self.timezone = user.timezone
        self.daily_goal_minutes = str(user.daily_goal_minutes)
        self.has_password = user.has_password
        infos = await run_in_session(
            lambda session: sign_in.list_sessions(session=session, user_id=user.id, current_token=token)
        )
        token_infos = await run_in_session(
            lambda session: api_tokens.list_tokens(session=session, user_id=user.id)
        )
        self.tokens = [
            {
                "id": str(t.id),
                "name": t.name,
                "prefix": t.prefix,
                "scopes": ", ".join(t.scopes),
                "expires": t.expires_at.strftime("%Y-%m-%d"),
                "last_used": t.last_used_at.strftime("%Y-%m-%d %H:%M") if t.last_used_at else "never",
                "status": t.status,
            }
            for t in token_infos
        ]
        self.devices = [
            {
                "id": str(info.id),
                "agent": describe_device(info.user_agent),
                "ip": approximate_place(info.ip),
                "last_seen": info.last_seen_at.strftime("%Y-%m-%d %H:%M UTC"),
                "current": "yes" if info.is_current else "",
            }
            for info in infos
        ]

    @rx.event
    def set_timezone_choice(self, value: str) -> None:
        if isinstance(value, str) and len(value) <= 64:
            self.timezone = value

    @rx.event
    async def load(self) -> None:
        self.profile_message = self.profile_error = ""
        self.password_message = self.password_error = self.sessions_message = ""
        self.token_error = self.new_token = ""
        await self._refresh()

    @rx.event
    async def save_profile(self, form: dict[str, Any]):
        self.profile_message = self.profile_error = ""
        user = await self._user()
        if user is None:
            return rx.redirect(routes.sign_in_url(routes.ACCOUNT))
        try:
            goal = int(_text(form, "daily_goal_minutes", 4) or "0")
        except ValueError:
            self.profile_error = "The daily goal must be a whole number of minutes."
            return None
        try:
            updated = await run_in_session(
                lambda session: users.update_profile(
                    session=session,
                    user_id=user.id,
                    display_name=_text(form, "display_name", 200),
                    timezone=_text(form, "timezone", 64),
                    daily_goal_minutes=goal,
                )
            )
        except SayZhongError as exc:
            self.profile_error = exc.user_message
            return None
        session_state = await self.get_state(SessionState)
        session_state.display_name = updated.display_name
        self.display_name = updated.display_name
        self.timezone = updated.timezone
        self.daily_goal_minutes = str(updated.daily_goal_minutes)
        self.profile_message = "Saved."
        return None

    @rx.event
    async def change_password(self, form: dict[str, Any]):
        self.password_message = self.password_error = ""
        user = await self._user()
        if user is None:
            return rx.redirect(routes.sign_in_url(routes.ACCOUNT))
        new = _text(form, "new_password", 1000)
        if new != _text(form, "new_password_confirm", 1000):
            self.password_error = "The two new passwords do not match."
            return None
        session_state = await self.get_state(SessionState)
        token, ip = session_state.session_token(), session_state.client_ip()
        try:
            await run_in_session(
                lambda session: password_reset.change_password(
                    session=session,
                    user_id=user.id,
                    current_password=_text(form, "current_password", 1000),
                    new_password=new,
                    keep_token=token,
                    ip=ip,
                )
            )
        except SayZhongError as exc:
            self.password_error = exc.user_message
            return None
        self.password_message = "Password changed. Your other devices have been signed out."
        await self._refresh()
        return None

    @rx.event
    async def create_token(self, form: dict[str, Any]):
        self.token_error, self.new_token = "", ""
        user = await self._user()
        if user is None:
            return rx.redirect(routes.sign_in_url(routes.ACCOUNT))
        scopes = [scope for scope in api_tokens.SCOPES if form.get(f"scope_{scope}") in ("on", True, "true")]
        try:
            days = int(_text(form, "expires_in_days", 4) or "90")
        except ValueError:
            self.token_error = "Choose how many days the token should last."
            return None
        session_state = await self.get_state(SessionState)
        ip = session_state.client_ip()
        try:
            _info, raw = await run_in_session(
                lambda session: api_tokens.create_token(
                    session=session,
                    user_id=user.id,
                    name=_text(form, "token_name", 80),
                    scopes=scopes or api_tokens.DEFAULT_SCOPES,
                    expires_in_days=days,
                    ip=ip,
                )
            )
        except SayZhongError as exc:
            self.token_error = exc.user_message
            return None
        self.new_token = raw  # shown once; never stored in plain text
        await self._refresh()
        return None

    @rx.event
    async def revoke_token(self, token_id: str):
        user = await self._user()
        if user is None:
            return rx.redirect(routes.sign_in_url(routes.ACCOUNT))
        session_state = await self.get_state(SessionState)
        ip = session_state.client_ip()
        try:
            ident = int(token_id)
            await run_in_session(
                lambda session: api_tokens.revoke_token(
                    session=session, user_id=user.id, token_id=ident, ip=ip
                )
            )
        except (ValueError, SayZhongError) as exc:
            self.token_error = exc.user_message if isinstance(exc, SayZhongError) else "Unknown token."
            return None
        self.new_token = ""
        await self._refresh()
        return None

    @rx.event
    def forget_new_token(self) -> None:
        self.new_token = ""

    @rx.event
    async def sign_out_others(self):
        user = await self._user()
        if user is None:
            return rx.redirect(routes.sign_in_url(routes.ACCOUNT))
        session_state = await self.get_state(SessionState)
        token = session_state.session_token()
        count = await run_in_session(
            lambda session: sign_in.revoke_other_sessions(
                session=session, user_id=user.id, keep_token=token or ""
            )
        )
        self.sessions_message = f"Signed out {count} other session{'s' if count != 1 else ''}."
        await self._refresh()
        return None
