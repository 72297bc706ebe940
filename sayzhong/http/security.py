"""Security headers on every HTTP response (pages, static files, API, health)."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sayzhong.settings import Settings


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def is_same_origin(origin: str | None, settings: Settings) -> bool:
    """Cookie-authenticated POSTs must come from our own pages (CSRF, login CSRF).

    Browsers send `Origin` on every POST, form or fetch; a missing one is refused too.
    """
    return origin in {settings.app_url.rstrip("/"), settings.backend_url.rstrip("/")}


def content_security_policy(
    *, backend_origin: str, extra_form_targets: tuple[str, ...] = (), payment_origins: tuple[str, ...] = ()
) -> str:
    """`payment_origins`: Stripe.js and the Stripe API (card entry on /billing), only when configured."""
    ws_origin = backend_origin.replace("http://", "ws://", 1).replace("https://", "wss://", 1)
    connect = " ".join(dict.fromkeys(["'self'", backend_origin, ws_origin, *payment_origins]))
    payments = "".join(f" {o}" for o in dict.fromkeys(payment_origins))
    return "; ".join(
        [
            "default-src 'self'",
            # Reflex's compiled bundle injects inline bootstrap scripts and its event runtime evaluates
            # server-sent scripts (rx.call_script uses eval), so both are needed; everything else is
            # locked to our own origin, which is what blocks injected third-party script and exfiltration.
            "script-src 'self' 'unsafe-inline' 'unsafe-eval'" + payments,
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "media-src 'self' data: blob:",
            "font-src 'self' data:",
            f"connect-src {connect}",
            # Chrome applies form-action to the redirects a form submission follows (OIDC provider).
            "form-action " + " ".join(dict.fromkeys(["'self'", backend_origin, *extra_form_targets])),
            *([f"frame-src{payments}"] if payments else []),
            "frame-ancestors 'none'",
            "base-uri 'self'",
            "object-src 'none'",
        ]
    )


class SecurityHeadersMiddleware:
    """Pure ASGI middleware (no body buffering, websocket-transparent)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        backend_origin: str,
        hsts: bool,
        extra_form_targets: tuple[str, ...] = (),
        payment_origins: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.headers: list[tuple[bytes, bytes]] = [
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"strict-origin-when-cross-origin"),
            (b"x-frame-options", b"DENY"),
            (b"permissions-policy", b"microphone=(self), camera=(), geolocation=()"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (
                b"content-security-policy",
                content_security_policy(
                    backend_origin=backend_origin,
                    extra_form_targets=extra_form_targets,
                    payment_origins=payment_origins,
                ).encode(),
            ),
        ]
        if hsts:
            self.headers.append((b"strict-transport-security", b"max-age=63072000; includeSubDomains"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                existing = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in self.headers if k not in existing]
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, receive, send_with_headers)
