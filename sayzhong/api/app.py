"""The versioned JSON API under `/api/v1`: its operations as Starlette routes, and its document.

Mount it into the HTTP app with `api_routes()`. Every request except the OpenAPI document carries
`Authorization: Bearer szp_…`; each operation needs a scope, each token has a request budget.
Blocking work (database, scoring, rendering reference audio) runs in worker threads. Errors are
always `{"error": {"code", "message"}}` (see `sayzhong.api.errors`).
"""

from __future__ import annotations

import re
from copy import deepcopy
from functools import lru_cache
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import URLPath
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match, Mount, NoMatchFound, Route
from starlette.types import Receive, Scope, Send

from sayzhong.api.errors import MethodNotAllowedError, UnknownPathError, error_response, protocol_error
from sayzhong.api.openapi import DOCUMENT_PATH, build_openapi, error_codes
from sayzhong.api.operations import ApiLimits, Operation, authenticated
from sayzhong.api.resources import account, attempts, lessons, progress

API_PREFIX = "/api/v1"

OPERATIONS: tuple[Operation, ...] = (
    *account.OPERATIONS,
    *lessons.OPERATIONS,
    *attempts.OPERATIONS,
    *progress.OPERATIONS,
)


ROUTER_ERRORS = (UnknownPathError, MethodNotAllowedError)
"""What the router itself answers for a path no operation matches, or a method it does not take."""


def all_error_codes() -> dict[int, list[str]]:
    """Every code the API can answer with, by HTTP status (docs/api.md lists exactly these)."""
    return error_codes([*(cls for op in OPERATIONS for cls in op.all_errors), *ROUTER_ERRORS])


@lru_cache(maxsize=1)
def _document() -> dict[str, Any]:
    return build_openapi(API_PREFIX, OPERATIONS)


def openapi_document() -> dict[str, Any]:
    """A fresh copy of the document (callers may annotate it)."""
    return deepcopy(_document())


async def _serve_document(_request: Request) -> Response:
    return JSONResponse(_document())


async def _http_exception(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error_response(protocol_error(exc.status_code), headers=dict(exc.headers or {}))


def create_api_app(limits: ApiLimits | None = None) -> Starlette:
    """The API as its own ASGI app, so unknown paths and wrong methods also answer in JSON."""
    limits = limits or ApiLimits.default()
    routes: list[BaseRoute] = [Route(DOCUMENT_PATH, _serve_document, methods=["GET"])]
    routes += [Route(op.path, authenticated(limits, op), methods=[op.method]) for op in OPERATIONS]
    return Starlette(routes=routes, exception_handlers={HTTPException: _http_exception})


class _ApiMount(Mount):
    """A Mount whose prefix also matches paths with control characters (e.g. an encoded newline).

    Starlette's `.*` stops at a newline, which would hand such requests to the outer app's
    plain-text 404; under /api/v1 every answer must be the API's JSON.
    """

    def __init__(self, path: str, app: Starlette) -> None:
        super().__init__(path, app=app)
        self.path_regex = re.compile(self.path_regex.pattern, re.DOTALL)


API_PATH = re.compile(r"^/api(?:/|$)|^/api[\x00-\x1f\x7f]", re.DOTALL)
"""Every path the API answers, matched or not: `/api`, `/api/…`, and `/api` followed by a control
character (the router's `$` would otherwise treat `/api\n` as `/api`)."""


def is_api_path(path: str) -> bool:
    return bool(API_PATH.match(path))


class _UnknownApiPath(BaseRoute):
    """Every other path under /api — another version, a typo, control characters — answers with the
    API's JSON `not_found`, never the site's plain-text 404 (or a page)."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and is_api_path(scope["path"]):
            return Match.FULL, {}
        return Match.NONE, {}

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        raise NoMatchFound(name, path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await error_response(UnknownPathError())(scope, receive, send)


def api_routes(limits: ApiLimits | None = None) -> list[BaseRoute]:
    """Routes to add to the HTTP app, first: `routes=[*api_routes(), ...]`."""
    return [_ApiMount(API_PREFIX, app=create_api_app(limits)), _UnknownApiPath()]
