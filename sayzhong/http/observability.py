"""Request metrics, a server span and an access-log line for every HTTP request; /metrics itself.

``ObservabilityMiddleware`` is pure ASGI (no body buffering; websockets pass through untouched, their
connections and events are measured by the Reflex bridge in ``sayzhong.ops.reflex_bridge``). Routes
are labelled by their template (``/api/v1/attempts/{attempt_id}``), never by the raw path, so the
label set stays small whatever clients send.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import re
import secrets
import time
from functools import lru_cache
from pathlib import Path

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sayzhong.ops import metrics
from sayzhong.ops.collector import OpsCollector
from sayzhong.ops.logs import log_context
from sayzhong.settings import get_settings

log = logging.getLogger("sayzhong.access")
tracer = trace.get_tracer("sayzhong.http")
_propagator = TraceContextTextMapPropagator()
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/ping", "/metrics", "static"})


def route_label(scope: Scope) -> str:
    """The matched route's template; ``static`` for the compiled front end; ``unmatched`` otherwise."""
    route = scope.get("route")
    if isinstance(route, Route | WebSocketRoute):
        # Inside a Mount (the JSON API under /api/v1) the route's path is relative to it; the mount
        # prefix is in root_path.
        return str(scope.get("root_path", "")) + route.path
    if isinstance(route, Mount):
        return route.path or "static"
    return "unmatched"


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            if _REQUEST_ID.match(candidate):
                return candidate
    return secrets.token_hex(8)


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        carrier = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
        parent = _propagator.extract(carrier)
        request_id = _request_id(scope)
        fields = {"request_id": request_id}
        context_token = log_context.set(fields)
        method = scope.get("method", "GET")
        status = 500
        start = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        ctx_token = otel_context.attach(parent)
        try:
            with tracer.start_as_current_span(f"HTTP {method}", kind=trace.SpanKind.SERVER) as span:
                try:
                    await self.app(scope, receive, send_wrapper)
                finally:
                    route = route_label(scope)
                    span.update_name(f"{method} {route}")
                    span.set_attribute("http.request.method", method)
                    span.set_attribute("http.route", route)
                    span.set_attribute("http.response.status_code", status)
                    if status >= 500:
                        span.set_status(trace.StatusCode.ERROR)
                    elapsed = time.perf_counter() - start
                    metrics.HTTP_REQUESTS.labels(route, method, str(status)).inc()
                    metrics.HTTP_DURATION.labels(route, method).observe(elapsed)
                    if route not in QUIET_ROUTES or status >= 500:
                        fields["route"] = route
                        log.info(
                            "%s %s %s",
                            method,
                            route,
                            status,
                            extra={
                                "method": method,
                                "status": status,
                                "duration_ms": round(elapsed * 1000, 2),
                            },
                        )
        finally:
            otel_context.detach(ctx_token)
            log_context.reset(context_token)


def observe_http(app: ASGIApp) -> ASGIApp:
    """The ``api_transformer`` entry: wraps the whole backend (pages, API, static, health)."""
    return ObservabilityMiddleware(app)


def _is_loopback(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def metrics_allowed(request: Request) -> bool:
    """A bearer token when METRICS_TOKEN is set; otherwise loopback callers only, and never in prod."""
    settings = get_settings()
    if settings.metrics_token:
        supplied = request.headers.get("authorization", "")
        expected = f"Bearer {settings.metrics_token}"
        return hmac.compare_digest(supplied.encode(), expected.encode())
    return not settings.is_prod and _is_loopback(request)


@lru_cache(maxsize=4)
def _ops_collector(backup_dir: Path) -> OpsCollector:
    # One per process: its short cache keeps a scrape storm off the database.
    from sayzhong.db import session_scope

    return OpsCollector(session_factory=session_scope, backup_dir=backup_dir)


async def metrics_endpoint(request: Request) -> Response:
    from sayzhong.ops.backup import backup_root

    if not metrics_allowed(request):
        # 404, not 401: the endpoint does not advertise itself to the public.
        return PlainTextResponse("Not Found", status_code=404)
    collector = _ops_collector(backup_root(get_settings()))
    body, content_type = await asyncio.to_thread(metrics.render_metrics, collector)
    return Response(body, media_type=content_type)


METRICS_PATH = "/metrics"


def metrics_routes() -> list[Route]:
    return [Route(METRICS_PATH, metrics_endpoint, methods=["GET"])]
