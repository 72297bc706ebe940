"""Privacy routes: the consent-gated analytics beacon and the signed export download.

The beacon is called by the browser only after the visitor accepted analytics (the consent
banner loads it); the route checks the stored decision again, so a forged call records nothing.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from sayzhong import routes
from sayzhong.db import session_scope
from sayzhong.errors import InternalError, ValidationError
from sayzhong.http.practice import _require_same_origin, answers_errors
from sayzhong.http.session_cookie import token_from_cookie_header
from sayzhong.settings import get_settings

MAX_BEACON_BYTES = 2048


@answers_errors(InternalError("The event could not be recorded.", code="analytics_failed"))
async def analytics_capture(request: Request) -> Response:
    from sayzhong.accounts import sign_in
    from sayzhong.analytics import attribution
    from sayzhong.analytics import catalog as events
    from sayzhong.analytics import service as analytics
    from sayzhong.privacy import consent

    _require_same_origin(request)
    body = await request.body()
    if len(body) > MAX_BEACON_BYTES:
        raise ValidationError("Event too large.", code="analytics_too_large")
    try:
        data = json.loads(body or b"{}")
        path = str(data.get("path", ""))[:200]
    except (ValueError, AttributeError):
        raise ValidationError("Events are JSON objects.", code="analytics_bad_event") from None
    cookie = request.headers.get("cookie")
    visitor = consent.visitor_from_cookie_header(cookie)
    token = token_from_cookie_header(get_settings(), cookie)
    touch = attribution.cookie_from_header(cookie, secret=get_settings().secret_key)

    def _record() -> bool:
        with session_scope() as session:
            info = sign_in.resolve_session(session=session, token=token) if token else None
            user_id = info.user.id if info else None
            distinct = str(user_id) if user_id else visitor
            if not distinct or not consent.analytics_allowed(session=session, distinct_id=distinct):
                return False
            analytics.track(
                session=session,
                user_id=user_id,
                anonymous_id=visitor,
                event=events.PAGE_VIEWED,
                properties={
                    "path": _clean_path(path),
                    "device": device_class(request.headers.get("user-agent")),
                    **(touch[0].event_properties() if touch else {}),
                },
            )
            return True

    recorded = await asyncio.to_thread(_record)
    return JSONResponse({"recorded": recorded}, status_code=202 if recorded else 200)


_PAGE_PATH = re.compile(r"^/[A-Za-z0-9/_.~-]{0,199}$")


def _clean_path(path: str) -> str:
    path = path.split("?", 1)[0].split("#", 1)[0]
    return path if _PAGE_PATH.match(path) else "/"


def device_class(user_agent: str | None) -> str:
    """desktop | mobile | tablet, from the User-Agent (the only thing analytics keeps of it)."""
    agent = (user_agent or "")[:400]
    if re.search(r"iPad|Tablet|Android(?!.*Mobile)", agent):
        return "tablet"
    if re.search(r"Mobi|iPhone|Android", agent):
        return "mobile"
    return "desktop"


@answers_errors(InternalError("The visit could not be noted.", code="attribution_failed"))
async def attribution_touch(request: Request) -> Response:
    """The browser reports the landing URL's UTM parameters, `document.referrer` and path once per
    page load; the answer sets (or keeps) the necessary, HttpOnly `sz_src` cookie. No database write."""
    from urllib.parse import urlsplit

    from sayzhong.analytics import attribution
    from sayzhong.db import utcnow

    _require_same_origin(request)
    body = await request.body()
    if len(body) > MAX_BEACON_BYTES:
        raise ValidationError("Visit too large.", code="attribution_too_large")
    try:
        data = json.loads(body or b"{}")
        if not isinstance(data, dict):
            raise ValueError
        raw_query = data.get("query")
        query: dict[str, Any] = raw_query if isinstance(raw_query, dict) else {}
    except ValueError:
        raise ValidationError("Visits are JSON objects.", code="attribution_bad_visit") from None
    settings = get_settings()
    touch = attribution.touch_from_visit(
        query=query,
        referrer=str(data.get("referrer", "")),
        path=str(data.get("path", "/")),
        own_host=urlsplit(settings.app_url).hostname or "",
        now=utcnow(),
    )
    existing = attribution.cookie_from_header(request.headers.get("cookie"), secret=settings.secret_key)
    updated = attribution.record_visit(existing, touch)
    response = JSONResponse({"recorded": updated is not None})
    if updated is not None:
        response.set_cookie(
            attribution.COOKIE_NAME,
            attribution.encode_cookie(first=updated[0], last=updated[1], secret=settings.secret_key),
            max_age=int(attribution.COOKIE_MAX_AGE.total_seconds()),
            path="/",
            httponly=True,
            secure=settings.app_url.startswith("https://"),
            samesite="lax",
        )
    return response


@answers_errors(InternalError("The download failed. Please try again.", code="export_failed"))
async def export_download(request: Request) -> Response:
    from sayzhong.privacy import export

    token = request.query_params.get("token", "")[:512]

    def _resolve() -> str:
        with session_scope() as session:
            path, _user_id = export.resolve_download(session=session, token=token)
        return str(path)

    path = await asyncio.to_thread(_resolve)
    return FileResponse(
        path,
        media_type="application/zip",
        filename="sayzhong-data.zip",
        headers={"Cache-Control": "private, no-store"},
    )


def privacy_routes() -> list[Route]:
    return [
        Route(routes.ANALYTICS_CAPTURE, analytics_capture, methods=["POST"]),
        Route(routes.ATTRIBUTION_TOUCH, attribution_touch, methods=["POST"]),
        Route(routes.EXPORT_DOWNLOAD, export_download, methods=["GET"]),
    ]
