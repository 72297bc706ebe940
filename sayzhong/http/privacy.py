"""Privacy routes: the consent-gated analytics beacon and the signed export download.

The beacon is called by the browser only after the visitor accepted analytics (the consent
banner loads it); the route checks the stored decision again, so a forged call records nothing.
"""

from __future__ import annotations

import asyncio
import json

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
                event="page_viewed",
                properties={"path": path if path.startswith("/") else "/"},
            )
            return True

    recorded = await asyncio.to_thread(_record)
    return JSONResponse({"recorded": recorded}, status_code=202 if recorded else 200)


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
        Route(routes.EXPORT_DOWNLOAD, export_download, methods=["GET"]),
    ]
