"""The OpenAPI 3.1 document for `/api/v1`, served at `/api/v1/openapi.json`.

Written by hand (the routes are plain Starlette) and checked against the running API by the
schemathesis contract test, so the two cannot drift apart unnoticed.
"""

from __future__ import annotations

from copy import deepcopy
from functools import lru_cache
from typing import Any

from sayzhong.api.errors import HTTP_ERRORS
from sayzhong.http.uploads import ACCEPTED_AUDIO_TYPES
from sayzhong.practice.schemas import IDEMPOTENCY_KEY_PATTERN, ITEM_ID_PATTERN

API_VERSION = "1.0.0"

_ERROR_CODES: dict[int, list[str]] = {
    400: ["bad_request", "bad_content_length"],
    401: ["unauthenticated", "token_missing", "token_invalid", "token_expired", "token_revoked"],
    402: ["plan_required", "daily_limit"],
    403: ["forbidden", "insufficient_scope"],
    404: ["not_found", "unit_not_found", "item_not_found", "attempt_not_found"],
    405: ["method_not_allowed"],
    413: ["audio_too_large", "audio_too_long", "payload_too_large"],
    415: ["unsupported_media_type", "audio_unsupported"],
    422: [
        "invalid_input",
        "item_id_missing",
        "invalid_idempotency_key",
        "multipart_invalid",
        "audio_missing",
        "audio_empty",
        "audio_corrupt",
        "audio_silent",
        "audio_too_quiet",
        "audio_clipped",
        "audio_error",
    ],
    409: ["attempt_conflict"],
    429: ["rate_limited"],
    500: ["internal_error"],
    503: ["unavailable", "reference_audio_unavailable"],
}


def _error_response(status: int) -> dict[str, Any]:
    _code, message = HTTP_ERRORS[status]
    codes = ", ".join(f"`{c}`" for c in _ERROR_CODES.get(status, []))
    response: dict[str, Any] = {
        "description": f"{message} Codes: {codes}.",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
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


_RESPONSE_NAMES = {
    400: "BadRequest",
    401: "Unauthorized",
    402: "PaymentRequired",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    413: "PayloadTooLarge",
    415: "UnsupportedMediaType",
    422: "UnprocessableContent",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
}


def _refs(*statuses: int) -> dict[str, Any]:
    return {str(s): {"$ref": f"#/components/responses/{_RESPONSE_NAMES[s]}"} for s in statuses}


def _json_ok(description: str, schema_name: str, status: int = 200) -> dict[str, Any]:
    return {
        str(status): {
            "description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}},
        }
    }


_AUTHED = (401, 403, 429, 500)

_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string", "description": "Stable, machine-readable code."},
                    "message": {"type": "string", "description": "Plain-language message for the learner."},
                },
            }
        },
    },
    "Me": {
        "type": "object",
        "required": ["id", "email", "display_name", "role", "timezone", "daily_goal_minutes", "token"],
        "properties": {
            "id": {"type": "integer"},
            "email": {"type": "string"},
            "display_name": {"type": "string"},
            "role": {"type": "string"},
            "timezone": {"type": "string"},
            "daily_goal_minutes": {"type": "integer"},
            "token": {
                "type": "object",
                "required": ["name", "prefix", "scopes", "expires_at"],
                "properties": {
                    "name": {"type": "string"},
                    "prefix": {"type": "string"},
                    "scopes": {"type": "array", "items": {"type": "string"}},
                    "expires_at": {"type": "string", "format": "date-time"},
                },
            },
        },
    },
    "UnitSummary": {
        "type": "object",
        "required": ["id", "order", "title", "description", "phrase_count"],
        "properties": {
            "id": {"type": "string"},
            "order": {"type": "integer"},
            "title": {"type": "string"},
            "description": {"type": "string"},
            "phrase_count": {"type": "integer"},
        },
    },
    "UnitList": {
        "type": "object",
        "required": ["units"],
        "properties": {"units": {"type": "array", "items": {"$ref": "#/components/schemas/UnitSummary"}}},
    },
    "Phrase": {
        "type": "object",
        "required": ["id", "hanzi", "pinyin", "english", "note"],
        "properties": {
            "id": {"type": "string", "description": "Item id for reference audio and attempts."},
            "hanzi": {"type": "string"},
            "pinyin": {"type": "string", "description": "Numbered pinyin, 5 = neutral tone."},
            "english": {"type": "string"},
            "note": {"type": "string"},
        },
    },
    "Unit": {
        "allOf": [
            {"$ref": "#/components/schemas/UnitSummary"},
            {
                "type": "object",
                "required": ["phrases"],
                "properties": {
                    "phrases": {"type": "array", "items": {"$ref": "#/components/schemas/Phrase"}}
                },
            },
        ]
    },
    "Attempt": {
        "type": "object",
        "description": (
            "A scored attempt as the practice service stores it: ids, item, mode, engine, scores, and "
            "`result` in Azure's pronunciation-assessment shape with SayZhong's tone extension "
            "(`ExpectedTone`, `DetectedTone`, `ToneScore`, `ToneConfidence`, `Contour`) on every syllable."
        ),
        "additionalProperties": True,
    },
    "Progress": {
        "type": "object",
        "description": "Per-tone and per-tone-pair statistics for the learner.",
        "additionalProperties": True,
    },
    "ReviewItem": {
        "type": "object",
        "required": ["item_id", "kind", "hanzi", "pinyin", "english", "due", "reason"],
        "properties": {
            "item_id": {"type": "string"},
            "kind": {"type": "string"},
            "hanzi": {"type": "string"},
            "pinyin": {"type": "string"},
            "english": {"type": "string"},
            "due": {"type": "string", "format": "date-time"},
            "reason": {"type": "string"},
        },
    },
    "Reviews": {
        "type": "object",
        "description": "Due items (most overdue first), then items whose tone was missed in the last week.",
        "required": ["items"],
        "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/ReviewItem"}}},
    },
}

_BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]


def _paths() -> dict[str, Any]:
    unit_id = {
        "name": "unit_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "minLength": 1},
        "description": "Unit id from `GET /units`.",
    }
    item_id = {
        "name": "item_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "minLength": 1},
        "description": "A phrase id, a drill id, or `<dialogue id>.<line id>`.",
    }
    attempt_id = {
        "name": "attempt_id",
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 0},
    }
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {
        "/api/v1/me": {
            "get": {
                "operationId": "getMe",
                "summary": "The signed-in learner and the token in use (any scope).",
                "security": _BEARER,
                "responses": {**_json_ok("The learner.", "Me"), **_refs(*_AUTHED)},
            }
        },
        "/api/v1/units": {
            "get": {
                "operationId": "listUnits",
                "summary": "Lessons in teaching order (scope `practice:read`).",
                "security": _BEARER,
                "responses": {**_json_ok("The units.", "UnitList"), **_refs(*_AUTHED)},
            }
        },
        "/api/v1/units/{unit_id}": {
            "get": {
                "operationId": "getUnit",
                "summary": "One lesson with its phrases (scope `practice:read`).",
                "security": _BEARER,
                "parameters": [unit_id],
                "responses": {**_json_ok("The unit.", "Unit"), **_refs(*_AUTHED, 402, 404)},
            }
        },
        "/api/v1/items/{item_id}/reference-audio": {
            "get": {
                "operationId": "getReferenceAudio",
                "summary": "The reference voice saying the item, 16 kHz mono WAV (scope `practice:read`).",
                "security": _BEARER,
                "parameters": [item_id],
                "responses": {
                    "200": {"description": "WAV audio.", "content": {"audio/wav": binary}},
                    **_refs(*_AUTHED, 404, 503),
                },
            }
        },
        "/api/v1/attempts": {
            "post": {
                "operationId": "createAttempt",
                "summary": "Submit a recording for scoring (scope `practice:write`).",
                "description": (
                    "Send the audio as the raw body (with its audio Content-Type) and the item in "
                    "`X-Item-Id`, or as multipart/form-data with fields `audio`, `item_id` and optionally "
                    "`idempotency_key`. Uploads over the server's limit (5 MB by default) are refused with "
                    "413 before they are read in full. Repeating a request with the same `Idempotency-Key` "
                    "returns the stored attempt with 200 instead of scoring it again."
                ),
                "security": _BEARER,
                "parameters": [
                    {
                        "name": "X-Item-Id",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string", "pattern": ITEM_ID_PATTERN},
                        "description": "Item practised (required unless sent as the form field `item_id`).",
                    },
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string", "pattern": IDEMPOTENCY_KEY_PATTERN},
                        "description": "Client-chosen unique key per take; retries with it never duplicate.",
                    },
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        **{media: deepcopy(binary) for media in ACCEPTED_AUDIO_TYPES},
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["audio"],
                                "additionalProperties": False,
                                "properties": {
                                    "audio": {"type": "string", "format": "binary"},
                                    "item_id": {"type": "string", "pattern": ITEM_ID_PATTERN},
                                    "idempotency_key": {"type": "string", "pattern": IDEMPOTENCY_KEY_PATTERN},
                                },
                            }
                        },
                    },
                },
                "responses": {
                    **_json_ok("The new attempt, scored.", "Attempt", 201),
                    **_json_ok("A replay: the attempt already stored under this Idempotency-Key.", "Attempt"),
                    **_refs(*_AUTHED, 400, 402, 404, 409, 413, 415, 422, 503),
                },
            }
        },
        "/api/v1/attempts/{attempt_id}": {
            "get": {
                "operationId": "getAttempt",
                "summary": "One of the learner's attempts (scope `practice:read`).",
                "security": _BEARER,
                "parameters": [attempt_id],
                "responses": {**_json_ok("The attempt.", "Attempt"), **_refs(*_AUTHED, 404)},
            }
        },
        "/api/v1/progress": {
            "get": {
                "operationId": "getProgress",
                "summary": "Per-tone and per-tone-pair statistics (scope `practice:read`).",
                "security": _BEARER,
                "responses": {**_json_ok("Tone statistics.", "Progress"), **_refs(*_AUTHED)},
            }
        },
        "/api/v1/reviews": {
            "get": {
                "operationId": "getReviews",
                "summary": "The review queue (scope `practice:read`).",
                "security": _BEARER,
                "responses": {**_json_ok("Items due for review.", "Reviews"), **_refs(*_AUTHED)},
            }
        },
        "/api/v1/openapi.json": {
            "get": {
                "operationId": "getOpenApi",
                "summary": "This document (no authentication).",
                "security": [],
                "responses": {
                    "200": {
                        "description": "OpenAPI 3.1 document.",
                        "content": {"application/json": {"schema": {}}},
                    }
                },
            }
        },
    }


@lru_cache(maxsize=1)
def _document() -> dict[str, Any]:
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
        "paths": _paths(),
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "szp_ personal access token",
                }
            },
            "schemas": _SCHEMAS,
            "responses": {name: _error_response(status) for status, name in _RESPONSE_NAMES.items()},
        },
    }


def build_openapi() -> dict[str, Any]:
    """A fresh copy of the document (callers may annotate it)."""
    return deepcopy(_document())
