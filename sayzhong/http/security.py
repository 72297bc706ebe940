"""Security headers on every HTTP response (pages, static files, API, health)."""

from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib
import os
import re
from pathlib import Path
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


# Inline <script> elements of an HTML document (their text is what a CSP hash covers).
_INLINE_SCRIPT = re.compile(rb"<script\b(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.DOTALL | re.IGNORECASE)
MAX_HTML_BYTES = 4 * 1024 * 1024
"""Larger HTML documents are not hashed (they get no inline-script allowance)."""
MAX_CACHED_POLICIES = 1024
"""Policies remembered per document (the prerendered pages are a few dozen, twice with gzip)."""


def inline_script_hashes(html: bytes) -> list[str]:
    """CSP source expressions (`'sha256-…'`) for every inline script in `html`, in order, unique."""
    hashes = (
        "'sha256-" + base64.b64encode(hashlib.sha256(body).digest()).decode() + "'"
        for body in _INLINE_SCRIPT.findall(html)
        if body.strip()
    )
    return list(dict.fromkeys(hashes))


def content_security_policy(
    *,
    backend_origin: str,
    extra_form_targets: tuple[str, ...] = (),
    script_hashes: tuple[str, ...] | list[str] = (),
    payment_origins: tuple[str, ...] = (),
    tag_origins: tuple[str, ...] = (),
) -> str:
    """`payment_origins`: Stripe.js and the Stripe API (card entry on /billing), only when configured.
    `tag_origins`: the allow-listed marketing-tag hosts (MARKETING_TAG_HOSTS, issue 14); the browser
    inserts their scripts only after marketing consent, the policy just permits those hosts."""
    ws_origin = backend_origin.replace("http://", "ws://", 1).replace("https://", "wss://", 1)
    connect = " ".join(dict.fromkeys(["'self'", backend_origin, ws_origin, *payment_origins, *tag_origins]))
    payments = list(dict.fromkeys(payment_origins))
    tags = list(dict.fromkeys(tag_origins))
    return "; ".join(
        [
            "default-src 'self'",
            # Scripts: our own bundle, plus exactly the inline bootstrap scripts of the document
            # being served (React Router's hydration context and route imports, Reflex's colour-mode
            # script), allowed by hash. No 'unsafe-eval' (nothing evaluates strings: the session
            # hand-off is a component, not rx.call_script) and no 'unsafe-inline'.
            # Stripe.js (card entry) is loaded from Stripe's origin only when payments are configured.
            "script-src " + " ".join(["'self'", *script_hashes, *payments, *tags]),
            # Styles: Emotion (Reflex's CSS-in-JS) inserts <style> elements at run time and Radix sets
            # style attributes; neither can carry a hash or nonce, so inline styles stay allowed.
            "style-src 'self' 'unsafe-inline'",
            "img-src " + " ".join(["'self'", "data:", "blob:", *tags]),
            "media-src 'self' data: blob:",
            "font-src 'self' data:",
            f"connect-src {connect}",
            # Chrome applies form-action to the redirects a form submission follows (OIDC provider).
            "form-action " + " ".join(dict.fromkeys(["'self'", backend_origin, *extra_form_targets])),
            *(["frame-src " + " ".join(payments)] if payments else []),
            "frame-ancestors 'none'",
            "base-uri 'self'",
            "object-src 'none'",
        ]
    )


class SecurityHeadersMiddleware:
    """Pure ASGI middleware (websocket-transparent).

    HTML documents are buffered (they are small prerendered pages) so their Content-Security-Policy
    can allow their own inline scripts by hash; every other response streams through untouched.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        backend_origin: str,
        hsts: bool,
        extra_form_targets: tuple[str, ...] = (),
        payment_origins: tuple[str, ...] = (),
        tag_origins: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.tag_origins = tag_origins
        self.backend_origin = backend_origin
        self.extra_form_targets = extra_form_targets
        self.payment_origins = payment_origins
        self.headers: list[tuple[bytes, bytes]] = [
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"strict-origin-when-cross-origin"),
            (b"x-frame-options", b"DENY"),
            (b"permissions-policy", b"microphone=(self), camera=(), geolocation=()"),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]
        if hsts:
            self.headers.append((b"strict-transport-security", b"max-age=63072000; includeSubDomains"))
        self.default_csp = self.policy(())
        self._policies: dict[bytes, bytes] = {}

    def policy(self, script_hashes: tuple[str, ...] | list[str]) -> bytes:
        return content_security_policy(
            backend_origin=self.backend_origin,
            extra_form_targets=self.extra_form_targets,
            script_hashes=script_hashes,
            payment_origins=self.payment_origins,
            tag_origins=self.tag_origins,
        ).encode()

    def _policy_for_html(self, body: bytes, encoding: bytes) -> bytes:
        key = hashlib.sha256(encoding + b"|" + body).digest()
        cached = self._policies.get(key)
        if cached is not None:
            return cached
        try:
            html = gzip.decompress(body) if encoding == b"gzip" else body if not encoding else b""
        except (OSError, EOFError):
            html = b""
        policy = self.policy(inline_script_hashes(html))
        if len(self._policies) < MAX_CACHED_POLICIES:
            self._policies[key] = policy
        return policy

    async def _policy_for_file(self, path: str, encoding: bytes) -> bytes:
        try:
            stat = os.stat(path)
            if stat.st_size > MAX_HTML_BYTES:
                return self.default_csp
            key = f"{path}|{stat.st_mtime_ns}|{stat.st_size}".encode()
            cached = self._policies.get(key)
            if cached is None:
                body = await asyncio.to_thread(Path(path).read_bytes)
                cached = self._policy_for_html(body, encoding)
                if len(self._policies) < MAX_CACHED_POLICIES:
                    self._policies[key] = cached
            return cached
        except OSError:
            return self.default_csp

    def _with_headers(self, message: Message, csp: bytes | None) -> Message:
        existing = {k.lower() for k, _ in message.get("headers", [])}
        ours = [*self.headers, *([(b"content-security-policy", csp)] if csp is not None else [])]
        extra = [(k, v) for k, v in ours if k not in existing]
        return {**message, "headers": list(message.get("headers", [])) + extra}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        start: Message | None = None
        encoding = b""
        chunks: list[bytes] = []
        size = 0

        async def send_with_headers(message: Message) -> None:
            nonlocal start, encoding, size
            if message["type"] == "http.response.start":
                if message.get("status") == 304:
                    # A revalidated page keeps the policy stored with its cached body: headers on a
                    # 304 replace the stored ones, and an empty body has no scripts to hash.
                    await send(self._with_headers(message, None))
                    return
                headers = {k.lower(): v for k, v in message.get("headers", [])}
                if headers.get(b"content-type", b"").startswith(b"text/html"):
                    start, encoding = message, headers.get(b"content-encoding", b"").strip().lower()
                    return
                await send(self._with_headers(message, self.default_csp))
                return
            if start is not None and message["type"] == "http.response.pathsend":
                # A static file sent by path (ASGI pathsend: granian serves the prerendered pages so).
                csp = await self._policy_for_file(str(message["path"]), encoding)
                await send(self._with_headers(start, csp))
                await send(message)
                start = None
                return
            if start is not None and message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                size += len(chunks[-1])
                if message.get("more_body", False) and size <= MAX_HTML_BYTES:
                    return
                body = b"".join(chunks)
                csp = self._policy_for_html(body, encoding) if size <= MAX_HTML_BYTES else self.default_csp
                await send(self._with_headers(start, csp))
                await send({**message, "body": body})
                start = None
                return
            await send(message)

        await self.app(scope, receive, send_with_headers)
