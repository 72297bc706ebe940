from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from sayzhong.http.security import (
    SecurityHeadersMiddleware,
    content_security_policy,
    inline_script_hashes,
    is_same_origin,
    origin_of,
)
from sayzhong.settings import Settings


@pytest.mark.parametrize(
    ("origin", "expected"),
    [
        ("http://localhost:3000", True),
        ("http://localhost:3000/", False),
        ("https://evil.example", False),
        ("null", False),
        (None, False),  # browsers always send Origin on POST; a request without one is not ours
    ],
)
def test_only_our_own_origin_may_post(settings: Settings, origin: str | None, expected: bool) -> None:
    assert is_same_origin(origin, settings) is expected


def test_form_action_allows_the_oidc_issuer_but_nothing_else() -> None:
    csp = content_security_policy(
        backend_origin="http://localhost:3000",
        extra_form_targets=(origin_of("https://login.example.org/realms/x"),),
    )
    form_action = next(d for d in csp.split("; ") if d.startswith("form-action"))
    assert form_action == "form-action 'self' http://localhost:3000 https://login.example.org"
    assert origin_of("not a url") == ""


def _directive(csp: str, name: str) -> str:
    return next(d for d in csp.split("; ") if d.split(" ", 1)[0] == name)


def test_scripts_need_neither_eval_nor_inline_allowances() -> None:
    script_src = _directive(content_security_policy(backend_origin="http://localhost:3000"), "script-src")
    assert script_src == "script-src 'self'"


PAGE = (
    b'<!DOCTYPE html><html><head><script>window.__ctx = {"a": 1};</script>'
    b'<script type="module" src="/assets/entry.js"></script>'
    b'<script type="module" async="">import "/assets/root.js";</script></head>'
    b'<body><p>hi</p><script>window.__ctx = {"a": 1};</script></body></html>'
)


def _app_serving(body: bytes, media_type: str, headers: dict[str, str] | None = None) -> TestClient:
    async def endpoint(_request: Request) -> Response:
        return Response(body, media_type=media_type, headers=headers)

    return TestClient(
        SecurityHeadersMiddleware(
            Starlette(routes=[Route("/", endpoint)]), backend_origin="http://testserver", hsts=False
        )
    )


def _sha(text: bytes) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text).digest()).decode() + "'"


def test_an_html_page_may_run_exactly_its_own_inline_scripts() -> None:
    response = _app_serving(PAGE, "text/html").get("/")
    assert response.content == PAGE
    script_src = _directive(response.headers["content-security-policy"], "script-src")
    expected = [_sha(b'window.__ctx = {"a": 1};'), _sha(b'import "/assets/root.js";')]
    assert script_src == "script-src 'self' " + " ".join(expected)
    assert inline_script_hashes(b"<script>alert(1)</script>") != inline_script_hashes(PAGE)


def test_precompressed_pages_are_hashed_after_decompression() -> None:
    client = _app_serving(gzip.compress(PAGE), "text/html; charset=utf-8", {"content-encoding": "gzip"})
    response = client.get("/", headers={"accept-encoding": "identity"})
    assert _sha(b'import "/assets/root.js";') in response.headers["content-security-policy"]


def test_other_responses_allow_no_inline_script() -> None:
    response = _app_serving(b"<script>alert(1)</script>", "application/json").get("/")
    assert _directive(response.headers["content-security-policy"], "script-src") == "script-src 'self'"
    assert response.headers["x-frame-options"] == "DENY"


def test_pages_sent_by_path_get_their_own_hashes(tmp_path: Path) -> None:
    """Granian sends static files with the ASGI `pathsend` extension: the file is hashed instead."""
    page = tmp_path / "index.html"
    page.write_bytes(PAGE)

    async def static_app(scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"text/html")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.pathsend", "path": str(page)})

    sent: list[Message] = []

    async def collect(message: Message) -> None:
        sent.append(message)

    async def nothing() -> Message:
        return {"type": "http.request"}

    app = SecurityHeadersMiddleware(static_app, backend_origin="http://testserver", hsts=False)
    asyncio.run(app({"type": "http", "method": "GET", "path": "/"}, nothing, collect))
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.pathsend"]
    csp = dict(sent[0]["headers"])[b"content-security-policy"].decode()
    assert _sha(b'import "/assets/root.js";') in csp


def test_a_revalidated_page_keeps_the_policy_stored_with_it() -> None:
    """A 304 carries no body to hash; a policy on it would replace the cached page's own."""
    response = _app_serving(b"", "text/html").get("/")
    assert "content-security-policy" in response.headers

    async def not_modified(_request: Request) -> Response:
        return Response(status_code=304, headers={"content-type": "text/html", "etag": '"x"'})

    client = TestClient(
        SecurityHeadersMiddleware(
            Starlette(routes=[Route("/", not_modified)]), backend_origin="http://testserver", hsts=False
        )
    )
    revalidated = client.get("/")
    assert revalidated.status_code == 304
    assert "content-security-policy" not in revalidated.headers
    assert revalidated.headers["x-content-type-options"] == "nosniff"
