"""E-mail verification (link page, banner with "resend") and two-factor sign-in settings.

Thin handlers over sayzhong.accounts.verification and sayzhong.accounts.two_factor. Failures
that the services audit or count for throttling are caught inside the unit of work (returned, not
raised), so the audit row and the failed attempt are committed with it. The TOTP secret and the
recovery codes are shown once and cleared from state as soon as the learner moves on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

import reflex as rx
from sqlmodel import Session

from sayzhong import routes
from sayzhong.accounts import two_factor, verification
from sayzhong.errors import SayZhongError
from sayzhong.settings import get_settings
from state.session import SessionState, run_in_session

log = logging.getLogger(__name__)
T = TypeVar("T")


async def _committed(fn: Callable[[Session], T]) -> T | SayZhongError:
    """Run `fn` in one unit of work that commits even when `fn` fails with a user-facing error.

    The services raise those errors before changing anything but the audit row or the counted
    failed attempt, which is exactly what must be kept.
    """

    def _work(session: Session) -> T | SayZhongError:
        try:
            return fn(session)
        except SayZhongError as exc:
            return exc

    return await run_in_session(_work)


async def send_verification_quietly(user_id: int, ip: str | None) -> None:
    """Mail the sign-up verification link; a mail failure is logged, never shown as a failed sign-up."""
    app_url = get_settings().app_url
    try:
        await _committed(
            lambda session: verification.send_verification_email(
                session=session, user_id=user_id, app_url=app_url, ip=ip
            )
        )
    except Exception:
        log.exception("verification e-mail for user %s could not be sent", user_id)


class VerificationBannerState(rx.State):
    """The notice shown to signed-in learners whose address is not confirmed yet."""

    message: str = ""
    error: str = ""
    busy: bool = False

    @rx.event
    async def resend(self):
        self.message = self.error = ""
        session_state = await self.get_state(SessionState)
        user = await session_state.current_user()
        if user is None:
            yield rx.redirect(routes.sign_in_url(self.router.url.path))
            return
        self.busy = True
        yield
        ip, app_url = session_state.client_ip(), get_settings().app_url
        try:
            outcome = await _committed(
                lambda session: verification.send_verification_email(
                    session=session, user_id=user.id, app_url=app_url, ip=ip
                )
            )
        except Exception:
            log.exception("verification e-mail for user %s could not be sent", user.id)
            outcome = SayZhongError("We could not send the e-mail just now. Please try again in a minute.")
        self.busy = False
        if isinstance(outcome, SayZhongError):
            self.error = outcome.user_message
        elif outcome:
            self.message = f"We sent a new link to {user.email}. It works once."
        else:
            session_state.email_verified = True


class VerifyEmailState(rx.State):
    """/verify-email?token=…: use the link once and say plainly what happened."""

    done: bool = False
    error: str = ""

    @rx.event
    async def load(self) -> None:
        self.done, self.error = False, ""
        token = str(self.router.url.query_parameters.get("token", ""))[:600]
        session_state = await self.get_state(SessionState)
        ip = session_state.client_ip()
        outcome = await _committed(
            lambda session: verification.verify_email(session=session, token=token, ip=ip)
        )
        if isinstance(outcome, SayZhongError):
            self.error = outcome.user_message
            return
        self.done = True
        if session_state.user_id == outcome.id:
            session_state.email_verified = True


class TwoFactorState(rx.State):
    """/account/two-factor: turn 2FA on (QR code), see recovery codes once, replace them, turn it off."""

    enabled: bool = False
    required: bool = False
    codes_left: int = 0
    enrolling: bool = False
    secret: str = ""
    qr_data_uri: str = ""
    recovery_codes: list[str] = []
    error: str = ""
    message: str = ""
    busy: bool = False

    async def _user_id(self) -> int | None:
        session_state = await self.get_state(SessionState)
        user = await session_state.current_user()
        return user.id if user else None

    async def _refresh(self, user_id: int) -> None:
        status = await run_in_session(
            lambda session: two_factor.two_factor_status(session=session, user_id=user_id)
        )
        self.enabled, self.required, self.codes_left = (
            status.enabled,
            status.required,
            status.recovery_codes_left,
        )
        session_state = await self.get_state(SessionState)
        session_state.two_factor_enabled = status.enabled

    @rx.event
    async def load(self) -> None:
        self.error = self.message = ""
        self.enrolling, self.secret, self.qr_data_uri, self.recovery_codes = False, "", "", []
        user_id = await self._user_id()
        if user_id is not None:
            await self._refresh(user_id)

    @rx.event
    async def start(self):
        self.error = self.message = ""
        user_id = await self._user_id()
        if user_id is None:
            return rx.redirect(routes.sign_in_url(routes.TWO_FACTOR))
        outcome = await _committed(
            lambda session: two_factor.begin_enrolment(session=session, user_id=user_id)
        )
        if isinstance(outcome, SayZhongError):
            self.error = outcome.user_message
            return None
        self.enrolling, self.secret, self.qr_data_uri = True, outcome.secret, outcome.qr_svg_data_uri
        return None

    @rx.event
    async def confirm(self, form: dict[str, Any]):
        self.error = ""
        user_id = await self._user_id()
        if user_id is None:
            yield rx.redirect(routes.sign_in_url(routes.TWO_FACTOR))
            return
        code = _code(form)
        session_state = await self.get_state(SessionState)
        ip = session_state.client_ip()
        self.busy = True
        yield
        outcome = await _committed(
            lambda session: two_factor.confirm_enrolment(session=session, user_id=user_id, code=code, ip=ip)
        )
        self.busy = False
        if isinstance(outcome, SayZhongError):
            self.error = outcome.user_message
            return
        self.enrolling, self.secret, self.qr_data_uri = False, "", ""
        self.recovery_codes = outcome
        self.message = "Two-factor sign-in is on. From now on, signing in asks for a code from your app."
        await self._refresh(user_id)

    @rx.event
    async def regenerate(self, form: dict[str, Any]):
        self.error = self.message = ""
        user_id = await self._user_id()
        if user_id is None:
            return rx.redirect(routes.sign_in_url(routes.TWO_FACTOR))
        code = _code(form)
        session_state = await self.get_state(SessionState)
        ip = session_state.client_ip()
        outcome = await _committed(
            lambda session: two_factor.regenerate_recovery_codes(
                session=session, user_id=user_id, code=code, ip=ip
            )
        )
        if isinstance(outcome, SayZhongError):
            self.error = outcome.user_message
            return None
        self.recovery_codes = outcome
        self.message = "New recovery codes made. The old ones no longer work."
        await self._refresh(user_id)
        return None

    @rx.event
    async def disable(self, form: dict[str, Any]):
        self.error = self.message = ""
        user_id = await self._user_id()
        if user_id is None:
            return rx.redirect(routes.sign_in_url(routes.TWO_FACTOR))
        code = _code(form)
        session_state = await self.get_state(SessionState)
        ip = session_state.client_ip()
        outcome = await _committed(
            lambda session: two_factor.disable_two_factor(session=session, user_id=user_id, code=code, ip=ip)
        )
        if isinstance(outcome, SayZhongError):
            self.error = outcome.user_message
            return None
        self.recovery_codes = []
        self.message = "Two-factor sign-in is off."
        await self._refresh(user_id)
        return None

    @rx.event
    def hide_codes(self) -> None:
        self.recovery_codes = []


def _code(form: dict[str, Any]) -> str:
    value = form.get("code", "")
    return value[:40] if isinstance(value, str) else ""
