"""E-mail routes (issue 14): one-click unsubscribe (RFC 8058) and the bounce/complaint webhook.

`POST /email/unsubscribe/{token}` is what a mail client sends for `List-Unsubscribe-Post:
List-Unsubscribe=One-Click`: no cookies, no CSRF token, just the signed link — it turns the link's
category off at once. `GET` on the same URL never unsubscribes (link scanners and previews fetch
it): it sends the browser to the preference page, which asks first.

`POST /email/events` takes bounce and complaint notifications in the generic JSON shape of
`notifications.preferences.record_email_events`, authorised by `Authorization: Bearer
<EMAIL_EVENTS_SECRET>`; without that setting the route answers 404.
"""

from __future__ import annotations

import asyncio
import hmac
import json
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from sayzhong import routes
from sayzhong.db import session_scope
from sayzhong.errors import InternalError, NotFoundError, PermissionDeniedError, ValidationError
from sayzhong.http.practice import answers_errors
from sayzhong.settings import get_settings

MAX_UNSUBSCRIBE_BODY = 1024
MAX_EVENTS_BODY = 256 * 1024

_DONE_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Unsubscribed</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head><body><main>
<h1>You are unsubscribed</h1><p>You will get no more {label} e-mails from SayZhong.</p>
<p><a href="{prefs}">Change your e-mail settings</a></p></main></body></html>"""


@answers_errors(
    InternalError("We could not unsubscribe you just now. Please try again.", code="unsubscribe_failed")
)
async def unsubscribe_post(request: Request) -> Response:
    from sayzhong.notifications import preferences

    token = request.path_params.get("token", "")
    body = await request.body()
    if len(body) > MAX_UNSUBSCRIBE_BODY:
        raise ValidationError("Request too large.", code="unsubscribe_too_large")

    def _unsubscribe() -> preferences.LinkScope:
        with session_scope() as session:
            return preferences.unsubscribe(session=session, token=token)

    scope = await asyncio.to_thread(_unsubscribe)
    label = (
        "reminder, summary or news"
        if scope.category == preferences.ALL
        else preferences.CATEGORIES[scope.category].label.lower()
    )
    prefs = preferences.preferences_url(user_id=scope.user_id)
    return HTMLResponse(
        _DONE_PAGE.format(label=label, prefs=prefs.replace("&", "&amp;")),
        headers={"Cache-Control": "no-store"},
    )


async def unsubscribe_get(request: Request) -> Response:
    """Ask before unsubscribing: the preference page shows the category and a button."""
    token = request.path_params.get("token", "")[:400]
    url = get_settings().app_url.rstrip("/") + routes.EMAIL_PREFERENCES + "?" + urlencode({"token": token})
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})


def _authorised(request: Request, secret: str) -> bool:
    given = request.headers.get("authorization", "")
    scheme, _, value = given.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), secret.encode())


@answers_errors(InternalError("The events could not be recorded.", code="email_events_failed"))
async def email_events(request: Request) -> Response:
    from sayzhong.notifications import preferences

    secret = get_settings().email_events_secret
    if not secret:
        raise NotFoundError("The e-mail events webhook is not configured.", code="email_events_off")
    if not _authorised(request, secret):
        raise PermissionDeniedError("Wrong or missing webhook secret.", code="email_events_forbidden")
    body = await request.body()
    if len(body) > MAX_EVENTS_BODY:
        raise ValidationError("Too many events in one request.", code="email_events_too_large")
    try:
        payload = json.loads(body)
    except ValueError:
        raise ValidationError("The body must be JSON.", code="email_events_invalid") from None

    def _record() -> dict[str, int]:
        with session_scope() as session:
            return preferences.record_email_events(session=session, payload=payload)

    return JSONResponse(await asyncio.to_thread(_record))


def email_routes() -> list[Route]:
    return [
        Route(routes.EMAIL_UNSUBSCRIBE, unsubscribe_post, methods=["POST"]),
        Route(routes.EMAIL_UNSUBSCRIBE, unsubscribe_get, methods=["GET", "HEAD"]),
        Route(routes.EMAIL_EVENTS, email_events, methods=["POST"]),
    ]
