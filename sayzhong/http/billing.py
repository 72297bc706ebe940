"""The Stripe webhook route: verify the signature, store the event once, answer, then handle it.

Handling runs after the response (a background task) and, for retries, in the jobs runner
(`billing_webhooks`), so a slow or failing handler never makes Stripe re-deliver.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sayzhong import routes
from sayzhong.db import session_scope
from sayzhong.errors import SayZhongError
from sayzhong.http.uploads import read_limited_body
from sayzhong.settings import get_settings

log = logging.getLogger(__name__)

MAX_WEBHOOK_BYTES = 512 * 1024


def _handle_due() -> None:
    from sayzhong.billing import webhooks

    try:
        webhooks.process_due_events()
    except Exception:
        log.exception("handling webhook events failed; the jobs runner retries")


async def stripe_webhook(request: Request) -> Response:
    from sayzhong.billing import webhooks
    from sayzhong.wiring import get_payments

    payments = get_payments(get_settings())
    try:
        body = await read_limited_body(request, MAX_WEBHOOK_BYTES)
        event = payments.verify_webhook(body, request.headers.get("stripe-signature"))
    except SayZhongError as exc:
        return JSONResponse(
            {"error": {"code": exc.code, "message": exc.user_message}}, status_code=exc.http_status
        )

    def _record() -> bool:
        with session_scope() as session:
            return webhooks.record_event(session=session, event=event)

    try:
        stored = await asyncio.to_thread(_record)
    except Exception:
        log.exception("storing webhook event failed")
        return JSONResponse({"error": {"code": "internal_error", "message": "Try again."}}, status_code=500)
    return JSONResponse(
        {"received": True, "duplicate": not stored},
        background=BackgroundTask(asyncio.to_thread, _handle_due) if stored else None,
    )


def billing_routes() -> list[Route]:
    return [Route(routes.STRIPE_WEBHOOK, stripe_webhook, methods=["POST"])]
