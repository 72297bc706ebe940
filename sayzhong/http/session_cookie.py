"""The HttpOnly session cookie and the one-minute sign-in ticket that hands a new session to it.

Reflex event handlers run over a websocket and cannot set HttpOnly cookies. After a successful
sign-in the handler asks the browser to POST a short-lived signed ticket to `/auth/session`; that
server route sets the cookie and redirects. The ticket never appears in a URL.
"""

from __future__ import annotations

from functools import lru_cache

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from starlette.responses import Response

from sayzhong.settings import Settings

TICKET_MAX_AGE_S = 60


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt="sayzhong.sign-in-ticket")


def make_ticket(settings: Settings, session_token: str) -> str:
    return _serializer(settings).dumps(session_token)


def read_ticket(settings: Settings, ticket: str) -> str | None:
    try:
        value = _serializer(settings).loads(ticket, max_age=TICKET_MAX_AGE_S)
    except (BadSignature, SignatureExpired):
        return None
    return value if isinstance(value, str) else None


def cookie_is_secure(settings: Settings) -> bool:
    return settings.app_url.startswith("https://")


def set_session_cookie(response: Response, settings: Settings, token: str) -> None:
    response.set_cookie(
        settings.session_cookie_name,
        token,
        max_age=settings.session_absolute_timeout_hours * 3600,
        httponly=True,
        secure=cookie_is_secure(settings),
        samesite="lax",
        path="/",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        settings.session_cookie_name,
        httponly=True,
        secure=cookie_is_secure(settings),
        samesite="lax",
        path="/",
    )


@lru_cache(maxsize=1024)
def _cookie_value(cookie_header: str | None, name: str) -> str | None:
    """One cookie from a raw Cookie header (as Reflex exposes it to event handlers); None if absent.
    Remembered: a tab sends the same header with every event, and every page load's guard reads it."""
    if not cookie_header:
        return None
    from http.cookies import CookieError, SimpleCookie

    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(cookie_header)
    except CookieError:
        return None
    morsel = jar.get(name)
    if morsel is None or not morsel.value or len(morsel.value) > 200:
        return None
    return morsel.value


def token_from_cookie_header(settings: Settings, cookie_header: str | None) -> str | None:
    """Parse the raw Cookie header (as Reflex exposes it to event handlers) for the session token."""
    return _cookie_value(cookie_header, settings.session_cookie_name)


# --- the pending second sign-in step after "Sign in with …" (issue 9) ----------------------------

TWO_FACTOR_COOKIE = "sz_2fa"
TWO_FACTOR_COOKIE_MAX_AGE_S = 300


def set_two_factor_cookie(response: Response, settings: Settings, challenge: str) -> None:
    """The provider said yes but the account uses 2FA: the sign-in page reads this challenge."""
    response.set_cookie(
        TWO_FACTOR_COOKIE,
        challenge,
        max_age=TWO_FACTOR_COOKIE_MAX_AGE_S,
        httponly=True,
        secure=cookie_is_secure(settings),
        samesite="lax",
        path="/",
    )


def two_factor_cookie(cookie_header: str | None) -> str | None:
    return _cookie_value(cookie_header, TWO_FACTOR_COOKIE)
