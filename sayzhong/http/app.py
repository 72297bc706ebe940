"""Server routes mounted into Reflex's backend through `api_transformer`.

Health and readiness probes, the session-cookie hand-off after sign-in, sign-out, and the OpenID
Connect redirect/callback. Routes are thin: they call services and translate domain errors.
"""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlencode

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from sayzhong import routes
from sayzhong.db import get_engine, session_scope
from sayzhong.errors import SayZhongError
from sayzhong.http.security import SecurityHeadersMiddleware, is_same_origin, origin_of
from sayzhong.http.session_cookie import (
    TWO_FACTOR_COOKIE,
    clear_session_cookie,
    read_ticket,
    set_session_cookie,
    set_two_factor_cookie,
    token_from_cookie_header,
)
from sayzhong.ops.warmup import loads_in_progress
from sayzhong.settings import Settings, get_settings

log = logging.getLogger(__name__)


def _app_redirect(settings: Settings, path: str, **query: str) -> RedirectResponse:
    url = settings.app_url.rstrip("/") + path
    if query:
        url += "?" + urlencode(query)
    return RedirectResponse(url, status_code=303)


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "0.0.0.0"  # noqa: S104 - placeholder, not a bind


async def healthz(_request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def _db_ready() -> bool:
    try:
        with get_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:
        log.exception("readiness check: database unreachable")
        return False


async def readyz(_request: Request) -> Response:
    """Ready when the database answers and this worker's start-up loads (the scoring models, the
    word dictionaries) are done: until then a balancer keeps the replica out of rotation."""
    ok = await asyncio.to_thread(_db_ready)
    loading = loads_in_progress()
    status = "unavailable" if not ok else "warming" if loading else "ok"
    return JSONResponse(
        {"status": status, "database": ok, "loading": list(loading)},
        status_code=200 if status == "ok" else 503,
    )


async def auth_session(request: Request) -> Response:
    from sayzhong.accounts import sign_in
    from sayzhong.growth.referrals import REF_COOKIE

    settings = get_settings()
    if not is_same_origin(request.headers.get("origin"), settings):
        return JSONResponse({"code": "forbidden", "message": "Cross-site request refused."}, status_code=403)
    form = await request.form()
    ticket = str(form.get("ticket", ""))
    next_path = routes.safe_next(str(form.get("next", "")) or None)
    token = read_ticket(settings, ticket) if ticket else None

    def _valid(tok: str) -> bool:
        with session_scope() as session:
            return sign_in.resolve_session(session=session, token=tok) is not None

    if token is None or not await asyncio.to_thread(_valid, token):
        return _app_redirect(settings, routes.SIGN_IN, error="expired")
    response = _app_redirect(settings, next_path)
    set_session_cookie(response, settings, token)
    response.delete_cookie(TWO_FACTOR_COOKIE, path="/")  # a finished second step leaves no challenge
    response.delete_cookie(REF_COOKIE, path="/")  # issue 14: an invite link is spent once signed in
    return response


async def auth_sign_out(request: Request) -> Response:
    from sayzhong.accounts import sign_in

    settings = get_settings()
    if not is_same_origin(request.headers.get("origin"), settings):
        return JSONResponse({"code": "forbidden", "message": "Cross-site request refused."}, status_code=403)
    token = token_from_cookie_header(settings, request.headers.get("cookie"))

    def _sign_out(tok: str) -> None:
        with session_scope() as session:
            sign_in.sign_out(session=session, token=tok)

    if token:
        await asyncio.to_thread(_sign_out, token)
    response = _app_redirect(settings, routes.LANDING)
    clear_session_cookie(response, settings)
    return response


OIDC_STATE_COOKIE = "sz_oidc_state"


def _oidc_redirect_uri(settings: Settings) -> str:
    return settings.backend_url.rstrip("/") + routes.AUTH_OIDC_CALLBACK


async def oidc_start(_request: Request) -> Response:
    from sayzhong.accounts import oidc

    settings = get_settings()
    if not settings.oidc_issuer:
        return _app_redirect(settings, routes.SIGN_IN, error="oidc_disabled")

    def _begin() -> oidc.OidcAuthorization:
        with session_scope() as session:
            return oidc.begin_oidc_login(
                session=session, settings=settings, redirect_uri=_oidc_redirect_uri(settings)
            )

    try:
        auth = await asyncio.to_thread(_begin)
    except SayZhongError as exc:
        return _app_redirect(settings, routes.SIGN_IN, error=exc.code)
    except Exception:
        log.exception("OIDC start failed")
        return _app_redirect(settings, routes.SIGN_IN, error="oidc_unavailable")
    response = RedirectResponse(auth.url, status_code=302)
    # Binds the flow to this browser: a callback carrying someone else's state is refused.
    response.set_cookie(
        OIDC_STATE_COOKIE,
        auth.state,
        max_age=600,
        httponly=True,
        secure=settings.app_url.startswith("https://"),
        samesite="lax",
        path="/auth/oidc",
    )
    return response


async def oidc_callback(request: Request) -> Response:
    from sayzhong.accounts import oidc
    from sayzhong.growth import referrals
    from sayzhong.privacy import consent

    settings = get_settings()
    params = {k: v[:2048] for k, v in request.query_params.items()}
    ip = client_ip(request)
    agent = request.headers.get("user-agent", "")[:300]
    browser_state = request.cookies.get(OIDC_STATE_COOKIE)
    current = token_from_cookie_header(settings, request.headers.get("cookie"))
    ref = referrals.ref_from_cookie_header(request.headers.get("cookie"))  # issue 14: invite link
    visitor = consent.visitor_from_cookie_header(request.headers.get("cookie"))

    def _complete() -> tuple[str, bool]:
        """(session token, False), or (2FA challenge, True) when the account asks for a code."""
        with session_scope() as session:
            result = oidc.complete_oidc_login(
                session=session,
                settings=settings,
                redirect_uri=_oidc_redirect_uri(settings),
                params=params,
                browser_state=browser_state,
                ip=ip,
                user_agent=agent,
                current_token=current,
                cookie_header=request.headers.get("cookie"),
            )
            if result.new_account and result.user is not None and ref:
                referrals.attribute_sign_up(
                    session=session, user_id=result.user.id, ref=ref, visitor_id=visitor
                )
        # Committed above (failed attempts and audit rows included); now raise or return.
        if result.needs_second_factor:
            assert result.two_factor_challenge is not None
            return result.two_factor_challenge, True
        return result.unwrap()[1], False

    try:
        token, needs_code = await asyncio.to_thread(_complete)
    except SayZhongError as exc:
        response = _app_redirect(settings, routes.SIGN_IN, error=exc.code)
    except Exception:
        log.exception("OIDC callback failed")
        response = _app_redirect(settings, routes.SIGN_IN, error="oidc_unavailable")
    else:
        if needs_code:
            response = _app_redirect(settings, routes.SIGN_IN, step="code")
            set_two_factor_cookie(response, settings, token)
        else:
            response = _app_redirect(settings, routes.HOME)
            set_session_cookie(response, settings, token)
            response.delete_cookie(referrals.REF_COOKIE, path="/")  # issue 14: the invite is spent
    response.delete_cookie(OIDC_STATE_COOKIE, path="/auth/oidc")
    return response


def create_http_app() -> Starlette:
    from sayzhong import wiring
    from sayzhong.api.app import api_routes
    from sayzhong.http.bi import bi_routes
    from sayzhong.http.billing import billing_routes
    from sayzhong.http.email import email_routes
    from sayzhong.http.growth import growth_routes
    from sayzhong.http.observability import metrics_routes
    from sayzhong.http.practice import practice_routes
    from sayzhong.http.privacy import privacy_routes
    from sayzhong.http.support import support_routes

    return Starlette(
        routes=[
            *api_routes(wiring.get_api_limits(get_settings())),
            *practice_routes(),
            *support_routes(),
            *privacy_routes(),
            *billing_routes(),
            *email_routes(),  # issue 14: one-click unsubscribe, bounce/complaint webhook
            *bi_routes(),
            *growth_routes(),
            *metrics_routes(),
            Route(routes.HEALTHZ, healthz, methods=["GET", "HEAD"]),
            Route(routes.READYZ, readyz, methods=["GET", "HEAD"]),
            Route(routes.AUTH_SESSION, auth_session, methods=["POST"]),
            Route(routes.AUTH_SIGN_OUT, auth_sign_out, methods=["POST"]),
            Route(routes.AUTH_OIDC_START, oidc_start, methods=["GET"]),
            Route(routes.AUTH_OIDC_CALLBACK, oidc_callback, methods=["GET"]),
        ]
    )


class ApiPathsFirst:
    """The outermost wrapper of the served app (`sayzhong/sayzhong.py`): a request for an /api path
    with a newline in it goes straight to `backend` (the HTTP app with its middleware), whose routes
    answer it in the API's JSON. Reflex mounts the backend under its own top app with
    `Mount("")`, whose `.*` stops at a newline, so such a request (`/api/v1/a%0Ab`) would otherwise
    get the top app's plain-text 404. Every other request passes through unchanged."""

    def __init__(self, app: ASGIApp, *, backend: ASGIApp) -> None:
        from sayzhong.api.app import is_api_path

        self.app = app
        self.backend = backend
        self.is_api_path = is_api_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if "\n" in path and self.is_api_path(path):
            await self.backend(scope, receive, send)
            return
        await self.app(scope, receive, send)


def security_headers(app: ASGIApp) -> ASGIApp:
    from sayzhong.analytics.tags import tag_origins

    settings = get_settings()
    return SecurityHeadersMiddleware(
        app,
        backend_origin=settings.backend_url.rstrip("/"),
        hsts=settings.app_url.startswith("https://"),
        extra_form_targets=tuple(o for o in (origin_of(settings.oidc_issuer),) if o),
        payment_origins=_payment_origins(settings),
        tag_origins=tag_origins(settings.marketing_tag_hosts),  # issue 14: marketing tags
    )


def _payment_origins(settings: Settings) -> tuple[str, ...]:
    """Stripe.js, the Stripe API and Stripe's 3-D Secure frames — only when payments are configured."""
    from sayzhong.wiring import stripe_configured

    if not stripe_configured(settings):
        return ()
    api = settings.stripe_api_base or "https://api.stripe.com"
    found: tuple[str, ...] = (origin_of(settings.stripe_js_url), origin_of(api))
    if not settings.stripe_api_base:
        found += ("https://hooks.stripe.com",)
    return tuple(o for o in dict.fromkeys(found) if o)
