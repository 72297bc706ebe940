"""The OpenAPI 3.1 document for `/api/v1`, served at `/api/v1/openapi.json`, generated — not written.

Built from the same declarations the routes are built from (`sayzhong.api.operations.Operation`):
success bodies are the JSON Schema of each operation's typed view (`sayzhong.api.views`), and each
error status lists, as an enum, the codes of the error classes the operation declares. The
schemathesis contract test then checks the real answers against it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from copy import deepcopy
from http import HTTPStatus
from typing import Any

from sayzhong.api.operations import Operation
from sayzhong.api.views import ErrorBody, schemas_for
from sayzhong.errors import SayZhongError

API_VERSION = "1.0.0"
DOCUMENT_PATH = "/openapi.json"
_CONVERTER = re.compile(r"\{(\w+):\w+\}")
_BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]


def openapi_path(prefix: str, path: str) -> str:
    """`/attempts/{attempt_id:int}` → `/api/v1/attempts/{attempt_id}`."""
    return prefix + _CONVERTER.sub(r"{\1}", path)


def error_codes(errors: Sequence[type[SayZhongError]]) -> dict[int, list[str]]:
    """HTTP status → the codes of the given error classes answering with it (in declaration order)."""
    by_status: dict[int, list[str]] = defaultdict(list)
    for cls in errors:
        if cls.code not in by_status[cls.http_status]:
            by_status[cls.http_status].append(cls.code)
    return dict(sorted(by_status.items()))


def _error_response(status: int, codes: list[str], error_ref: dict[str, str]) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": f"{HTTPStatus(status).phrase}. Codes: {', '.join(f'`{c}`' for c in codes)}.",
        "content": {
            "application/json": {
                "schema": {
                    "allOf": [
                        error_ref,
                        {
                            "properties": {
                                "error": {"properties": {"code": {"type": "string", "enum": codes}}}
                            }
                        },
                    ]
                }
            }
        },
    }
    if status == 429:
        response["headers"] = {
            "Retry-After": {
                "description": "Seconds to wait before retrying.",
                "schema": {"type": "integer", "minimum": 1},
            }
        }
    if status == 401:
        response["headers"] = {
            "WWW-Authenticate": {"description": "Always `Bearer`.", "schema": {"type": "string"}}
        }
    return response


def build_openapi(prefix: str, operations: Sequence[Operation]) -> dict[str, Any]:
    refs, schemas = schemas_for([ErrorBody, *(op.body for op in operations if op.body is not None)])
    paths: dict[str, dict[str, Any]] = defaultdict(dict)
    for op in operations:
        extra = deepcopy(op.openapi)
        responses: dict[str, Any] = {}
        if op.body is not None:
            for status in op.statuses:
                responses[str(status)] = {
                    "description": HTTPStatus(status).phrase,
                    "content": {"application/json": {"schema": refs[op.body]}},
                }
        responses.update(extra.pop("responses", {}))
        for status, codes in error_codes(op.all_errors).items():
            responses[str(status)] = _error_response(status, codes, refs[ErrorBody])
        paths[openapi_path(prefix, op.path)][op.method.lower()] = {
            "operationId": op.operation_id,
            "summary": op.summary,
            "security": _BEARER,
            **extra,
            "responses": responses,
        }
    paths[prefix + DOCUMENT_PATH]["get"] = {
        "operationId": "getOpenApi",
        "summary": "This document (no authentication).",
        "security": [],
        "responses": {
            "200": {"description": "OpenAPI 3.1 document.", "content": {"application/json": {"schema": {}}}}
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "SayZhong API",
            "version": API_VERSION,
            "description": (
                "Practise Mandarin pronunciation from scripts and the `sayzhong-client` terminal app. "
                "Authenticate with a personal access token (`Authorization: Bearer szp_…`) created on "
                'your account page. Every error is `{"error": {"code", "message"}}`; codes are '
                "stable. Each token has a request budget; over it you get 429 with `Retry-After`."
            ),
        },
        "paths": dict(paths),
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "szp_ personal access token",
                }
            },
            "schemas": schemas,
        },
    }
