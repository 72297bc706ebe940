"""Who is signed in. Every page's on_load resolves the HttpOnly session cookie server-side.

A page load resolves it once: the page's access guard (the first on-load handler) resolves it
against the database, and the page's own on-load handlers that run right after it in the same
load reuse that answer (issue 16: the home page resolved the cookie three times, each a database
round trip). Anything after the page has loaded — every click, every staff action — resolves again.
The home page's loader is its own guard (`_guard_page`): the check and the page's reads share one
event and one unit of work. With REDIS_URL, a worker answers a tab's next load of the same page from
memory while none of the learner's rows the answer read has changed (sayzhong/guard_cache.py).

The cookie arrives with the websocket handshake (Reflex keeps it server-side, never sends it to the
browser). Staff handlers re-check the role from the database through `current_user()`, so a revoked
session or a changed role takes effect at once.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import reflex as rx
from reflex.event import EventSpec
from reflex.istate.data import RouterData
from sqlmodel import Session

from sayzhong import guard_cache, routes, wiring
from sayzhong.accounts import schemas, sessions, sign_in
from sayzhong.accounts.access import STAFF_ROLES
from sayzhong.db import WriteNeeded, read_scope, session_scope
from sayzhong.http.session_cookie import make_ticket, token_from_cookie_header
from sayzhong.settings import get_settings
from state.fields import assign_changed

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


async def run_in_session(fn: Callable[..., T]) -> T:
    """Run `fn(session)` in a worker thread inside one committed unit of work (for every state)."""

    def _work() -> T:
        with session_scope() as session:
            return fn(session)

    return await asyncio.to_thread(_work)


HANDOFF_ID = "session-handoff"
"""Id of the hand-off component (components/session_handoff.py) rendered in every page's shell."""


def post_form(action: str, fields: dict[str, str]) -> EventSpec:
    """Make the browser POST a hidden form to `action` as a top-level navigation (so Set-Cookie applies).

    The hand-off component receives the request as JSON through its ref and submits a real form;
    no script string is evaluated, so the Content-Security-Policy needs no 'unsafe-eval'.
    """
    return rx.set_value(HANDOFF_ID, json.dumps({"action": action, "fields": fields}))


def hand_session_to_browser(token: str, next_path: str) -> EventSpec:
    settings = get_settings()
    action = settings.backend_url.rstrip("/") + routes.AUTH_SESSION
    return post_form(action, {"ticket": make_ticket(settings, token), "next": routes.safe_next(next_path)})


PageRead = Callable[[Session, schemas.UserInfo, tuple[Any, ...]], T]
"""A page's reads after its guard: (session, the signed-in user, what its `PageReads` read)."""


@dataclass(frozen=True, slots=True)
class GuardedRead(Generic[T_co]):
    """What a page whose loader guards it reads in the guard's unit of work: `page` columns in the
    session lookup's own statement (bound with `params`), then `read` for whatever else it needs."""

    read: PageRead[T_co]
    page: sessions.PageReads | None = None
    params: Mapping[str, Any] | None = None
    cache_as: str = ""
    """This page's name in the worker's guard cache (sayzhong/guard_cache.py), or "" for always
    from the database. Name a page only if `read` and `page` read nothing but the learner's rows in
    `GUARD_TABLES`, the curriculum and the clock (and `params` bind nothing but the clock), and what
    `read` returns is immutable: the same answer serves the tab's next loads."""


def _resolve_cookie(
    token: str, gate: bool, guarded: GuardedRead[T] | None = None
) -> tuple[schemas.UserInfo | None, str | None, T | None]:
    """The signed-in user for a cookie (or None), with `gate` the page the privacy gate sends them
    to first (or None) — one unit of work, one round trip (the gate's reads ride along). With
    `guarded`, the page's own reads for a signed-in user the gate lets through, in the same unit of
    work and, for its `page` columns, the same statement (the home page: one statement per load)."""
    answer = _resolve_guard(token, gate, guarded)
    return answer.user, answer.redirect, answer.data


def _resolve_guard(token: str, gate: bool, guarded: GuardedRead[T] | None = None) -> guard_cache.Answer:
    """`_resolve_cookie`, with when the session itself ends (the guard cache's bound).

    Most loads only read, so they run outside a transaction (`read_scope`: no BEGIN or COMMIT round
    trips); the few that write — the session's last-seen time, slid once a minute, or the gate's
    follow-ups — are run again as one transaction."""
    try:
        with read_scope() as session:
            return _guard_work(session, token, gate, guarded)
    except WriteNeeded:
        with session_scope() as session:
            return _guard_work(session, token, gate, guarded)


def _guard_work(
    session: Session, token: str, gate: bool, guarded: GuardedRead[T] | None
) -> guard_cache.Answer:
    from sayzhong.privacy.gate import resolve_page_session

    if not gate:
        info = sign_in.resolve_session(session=session, token=token)
        return guard_cache.Answer(
            info.user if info else None, None, None, _session_ends(info) if info else None
        )
    page = guarded.page if guarded else None
    info, redirect, values = resolve_page_session(
        session=session, token=token, page=page, params=guarded.params if guarded else None
    )
    if info is None:
        return guard_cache.Answer(None, None, None, None)
    user, ends = info.user, _session_ends(info)
    if guarded is None or redirect is not None:
        return guard_cache.Answer(user, redirect, None, ends)
    return guard_cache.Answer(user, redirect, guarded.read(session, user, values), ends)


def _session_ends(info: schemas.SessionInfo) -> datetime:
    return min(info.expires_at, info.idle_expires_at)


GUARD_REUSE_S = 5.0
"""How long a guard's answer may serve the rest of its page load (a load takes milliseconds)."""


class SessionState(rx.State):
    user_id: int = 0
    email: str = ""
    display_name: str = ""
    role: str = ""
    email_verified: bool = True
    two_factor_enabled: bool = False
    oidc_enabled: bool = False
    oidc_label: str = ""
    oidc_start_url: str = ""
    # The guard's answer for the page load in progress (backend only, never sent to the browser).
    _guard_key: str = ""
    _guard_at: float = 0.0
    _guard_user: schemas.UserInfo | None = None

    @rx.var
    def signed_in(self) -> bool:
        return self.user_id > 0

    @rx.var
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @rx.var
    def is_admin(self) -> bool:
        return self.role == "admin"

    def session_token(self, router: RouterData | None = None) -> str | None:
        """The session cookie's value (`router`: the page's router data, if already at hand: each
        `self.router` read builds it afresh)."""
        return token_from_cookie_header(get_settings(), (router or self.router).headers.cookie)

    def client_ip(self) -> str:
        return self.router.session.client_ip or "0.0.0.0"  # noqa: S104 - unknown address marker

    def user_agent(self) -> str:
        return (self.router.headers.user_agent or "")[:300]

    def _load_key(self, token: str, router: RouterData) -> str:
        """This page load: the cookie, the websocket connection and the page."""
        return f"{token}|{router.session.session_id}|{router.url}"

    async def current_user(self) -> schemas.UserInfo | None:
        """Resolve the cookie against the database (idle/absolute timeouts, revocation, role) — or,
        while the page is still loading, the answer its access guard got a moment ago."""
        router = self.router
        token = self.session_token(router)
        if not token:
            return None
        if (
            not self.is_hydrated
            and self._guard_key == self._load_key(token, router)
            and time.time() - self._guard_at < GUARD_REUSE_S
        ):
            return self._guard_user
        user, _, _ = await asyncio.to_thread(_resolve_cookie, token, False)
        return user

    async def _guard_resolve(
        self, *, gate: bool = False, guarded: GuardedRead[T] | None = None, cache: bool = True
    ) -> tuple[schemas.UserInfo | None, str | None, T | None]:
        """The guards' resolution, remembered for this page load. With `gate`, also where the privacy
        gate sends this learner first (issue 11: a locked account or a material terms change), read in
        the same unit of work — and `guarded`'s result, if any. From the database, or with REDIS_URL
        from this worker's guard cache while nothing the answer read has changed (`cache`: allowed;
        `guarded`: only if it names itself, `cache_as`)."""
        router = self.router
        token = self.session_token(router)
        if not token:
            self._guard_key = ""
            return None, None, None
        cache_as = guarded.cache_as if guarded else ("gate" if gate else "session")
        if cache and cache_as:
            answer = await guard_cache.resolve(
                token, cache_as, lambda: asyncio.to_thread(_resolve_guard, token, gate, guarded)
            )
        else:
            answer = await asyncio.to_thread(_resolve_guard, token, gate, guarded)
        user, redirect, data = answer.user, answer.redirect, answer.data
        self._guard_key, self._guard_at = self._load_key(token, router), time.time()
        self._guard_user = user
        return user, redirect, data

    async def _guard_page(self, guarded: GuardedRead[T]) -> tuple[EventSpec | None, T | None]:
        """`require_login` and the page's own reads in one unit of work, for a page whose loader
        guards it (`template(..., loader_guards=True)`): (where to send the browser instead, None)
        or (None, what `guarded.read` returned). One event, one database connection and, with
        `guarded.page`, one statement per page load (issue 16: the home page). Private: Reflex
        makes every public method an event a browser could send."""
        user, gate, data = await self._guard_resolve(gate=True, guarded=guarded)
        self._apply(user)
        if user is None:
            return rx.redirect(routes.sign_in_url(self.router.url.path)), None
        if gate:
            return rx.redirect(gate), None
        return None, data

    def _apply(self, user: schemas.UserInfo | None) -> None:
        """Show who is signed in. Every page load's guard calls this: only a change is sent."""
        settings = get_settings()
        values: dict[str, object] = {
            "oidc_enabled": wiring.oidc_configured(settings),
            "oidc_label": settings.oidc_display_name,
            "oidc_start_url": settings.backend_url.rstrip("/") + routes.AUTH_OIDC_START,
        }
        if user is None:
            values |= {
                "user_id": 0,
                "email": "",
                "display_name": "",
                "role": "",
                "email_verified": True,
                "two_factor_enabled": False,
            }
        else:
            values |= {
                "user_id": user.id,
                "email": user.email,
                "display_name": user.display_name,
                "role": user.role,
                "email_verified": user.email_verified,
                "two_factor_enabled": user.two_factor_enabled,
            }
        assign_changed(self, values)

    @rx.event
    async def load(self) -> None:
        """on_load for public pages: show the right navigation."""
        self._apply((await self._guard_resolve())[0])

    @rx.event
    async def require_login(self):
        user, gate, _ = await self._guard_resolve(gate=True)
        self._apply(user)
        if user is None:
            return rx.redirect(routes.sign_in_url(self.router.url.path))
        if gate:
            return rx.redirect(gate)
        return None

    @rx.event
    async def require_staff(self):
        # Staff pages always read the database: few loads, and a role change must show at once.
        user, gate, _ = await self._guard_resolve(gate=True, cache=False)
        self._apply(user)
        if user is None:
            return rx.redirect(routes.sign_in_url(self.router.url.path))
        if user.role not in STAFF_ROLES:
            return rx.redirect(routes.FORBIDDEN)
        if not user.two_factor_enabled:
            # Every staff role needs two-factor sign-in before any staff page opens.
            return rx.redirect(routes.TWO_FACTOR)
        if gate:
            return rx.redirect(gate)
        return None

    @rx.event
    async def redirect_if_signed_in(self):
        user, _, _ = await self._guard_resolve()
        self._apply(user)
        if user is not None:
            return rx.redirect(routes.HOME)
        return None

    @rx.event
    async def sign_out(self):
        """Revoke server-side, then let the server route clear the HttpOnly cookie."""
        token = self.session_token()
        if token:

            def _revoke() -> None:
                with session_scope() as session:
                    sign_in.sign_out(session=session, token=token)

            await asyncio.to_thread(_revoke)
        self._guard_key = ""
        self._apply(None)
        action = get_settings().backend_url.rstrip("/") + routes.AUTH_SIGN_OUT
        return post_form(action, {})
