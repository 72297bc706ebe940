"""The versioned JSON API under `/api/v1` (Starlette routes, thin over the services).

Mount it into the HTTP app with `api_routes()`. Every request except the OpenAPI document carries
`Authorization: Bearer szp_…`; each route needs a scope, each token has a request budget. Blocking
work (database, scoring, rendering reference audio) runs in worker threads. Errors are always
`{"error": {"code", "message"}}` (see `sayzhong.api.errors`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import logging
import re
from collections.abc import AsyncGenerator, Awaitable, Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import Headers, UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from sayzhong.api import tokens
from sayzhong.api.errors import NO_STORE, ApiError, error_response, response_for
from sayzhong.api.ratelimit import TokenBucketLimiter
from sayzhong.api.schemas.openapi import build_openapi
from sayzhong.billing.entitlements import guard_take, require_unit_access
from sayzhong.db import MAX_DB_ID, session_scope
from sayzhong.errors import AuthenticationError, RateLimitedError, SayZhongError
from sayzhong.http.uploads import (
    UnsupportedMediaTypeError,
    audio_too_large,
    check_audio_content_type,
    media_type,
    read_limited_body,
)
from sayzhong.practice.schemas import ITEM_ID_PATTERN
from sayzhong.settings import get_settings

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
ITEM_ID = re.compile(ITEM_ID_PATTERN)
MULTIPART_OVERHEAD_BYTES = 64 * 1024
# Scoring costs far more than a read, so it spends more of the token's budget.
ATTEMPT_COST = 5.0

Handler = Callable[[Request, tokens.TokenAuth], Awaitable[Response]]


@dataclasses.dataclass(frozen=True)
class ApiLimits:
    per_token: TokenBucketLimiter
    """Every authenticated request spends from its token's bucket."""
    auth_failures: TokenBucketLimiter
    """Failed authentications spend from the client address's bucket (slows token guessing)."""

    @classmethod
    def default(cls) -> ApiLimits:
        return cls(
            per_token=TokenBucketLimiter(capacity=120, refill_per_s=2.0),
            auth_failures=TokenBucketLimiter(capacity=20, refill_per_s=0.2),
        )


# --- plumbing ------------------------------------------------------------------------------------------


def jsonable(value: Any) -> Any:
    """Plain JSON data from service results (dataclasses, `.to_dict()`, pydantic models, datetimes)."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if hasattr(value, "to_dict") and callable(value.to_dict):
        return jsonable(value.to_dict())
    if hasattr(value, "model_dump") and callable(value.model_dump):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if isinstance(value, Path):
        return str(value)
    return str(value)


def _json(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(jsonable(data), status_code=status, headers=NO_STORE)


def _client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


def _authenticate_sync(raw: str | None) -> tokens.TokenAuth:
    with session_scope() as session:
        return tokens.authenticate_token(session=session, token=raw)


def _endpoint(limits: ApiLimits, scope: str | None, handler: Handler, *, cost: float = 1.0) -> Any:
    """Wrap a handler with authentication, scope check, rate limit and error translation."""

    async def endpoint(request: Request) -> Response:
        try:
            raw = _bearer(request)
            try:
                auth = await asyncio.to_thread(_authenticate_sync, raw)
            except AuthenticationError:
                if raw is not None:
                    failure = limits.auth_failures.take(_client_address(request))
                    if not failure.allowed:
                        raise RateLimitedError(retry_after_s=failure.retry_after_s) from None
                raise
            decision = limits.per_token.take(f"token:{auth.token.id}", cost)
            if not decision.allowed:
                raise RateLimitedError(
                    "Too many requests with this access token. Wait a moment and try again.",
                    retry_after_s=decision.retry_after_s,
                )
            if scope is not None:
                tokens.require_scope(auth, scope)
            return await handler(request, auth)
        except SayZhongError as exc:
            return response_for(exc)
        except Exception:
            log.exception("API request failed: %s %s", request.method, request.url.path)
            return error_response(500)

    return endpoint


# --- handlers ------------------------------------------------------------------------------------------


def _user_json(auth: tokens.TokenAuth) -> dict[str, Any]:
    user = auth.user
    return {
        "id": user.id,
        "email": user.email,
        "display_name": user.display_name,
        "role": user.role,
        "timezone": user.timezone,
        "daily_goal_minutes": user.daily_goal_minutes,
        "token": {
            "name": auth.token.name,
            "prefix": auth.token.prefix,
            "scopes": list(auth.token.scopes),
            "expires_at": auth.token.expires_at.isoformat(),
        },
    }


async def get_me(_request: Request, auth: tokens.TokenAuth) -> Response:
    return _json(_user_json(auth))


def _unit_summary(unit: Any) -> dict[str, Any]:
    return {
        "id": unit.id,
        "order": unit.order,
        "title": unit.title,
        "description": unit.description,
        "phrase_count": len(unit.phrases),
    }


async def list_units(_request: Request, _auth: tokens.TokenAuth) -> Response:
    from sayzhong.curriculum import service as curriculum

    units = await asyncio.to_thread(curriculum.list_units)
    return _json({"units": [_unit_summary(unit) for unit in units]})


async def get_unit(request: Request, auth: tokens.TokenAuth) -> Response:
    from sayzhong.curriculum import service as curriculum

    unit = await asyncio.to_thread(curriculum.get_unit, str(request.path_params["unit_id"]))
    await asyncio.to_thread(require_unit_access, auth.user.id, unit.id)  # billing (issue 12)
    body = _unit_summary(unit)
    body["phrases"] = [
        {
            "id": phrase.id,
            "hanzi": phrase.hanzi,
            "pinyin": phrase.pinyin,
            "english": phrase.english,
            "note": phrase.note,
        }
        for phrase in unit.phrases
    ]
    return _json(body)


async def get_reference_audio(request: Request, _auth: tokens.TokenAuth) -> Response:
    from sayzhong.curriculum import service as curriculum
    from sayzhong.curriculum.reference_audio import reference_audio_path

    def _path() -> Path:
        item = curriculum.get_item(str(request.path_params["item_id"]))
        return reference_audio_path(item.hanzi)

    path = await asyncio.to_thread(_path)
    return FileResponse(path, media_type="audio/wav", headers={"Cache-Control": "private, max-age=86400"})


def _check_item_id(value: str | None) -> str:
    if not value:
        raise ApiError(422, "Say which item was practised (X-Item-Id header).", code="item_id_missing")
    if not ITEM_ID.match(value):
        raise ApiError(404, "That practice item does not exist.", code="item_not_found")
    return value


async def _multipart_upload(request: Request, limit: int) -> tuple[bytes, str, dict[str, str]]:
    body = await read_limited_body(request, limit + MULTIPART_OVERHEAD_BYTES)

    async def replay() -> AsyncGenerator[bytes, None]:
        yield body
        yield b""

    parser = MultiPartParser(
        Headers(headers={"content-type": request.headers["content-type"]}),
        replay(),
        max_files=1,
        max_fields=5,
        max_part_size=limit,
    )
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise ApiError(
            422, f"The form upload could not be read: {exc.message}", code="multipart_invalid"
        ) from None
    try:
        upload = form.get("audio")
        if not isinstance(upload, UploadFile):
            raise ApiError(422, "Put the recording in a form field named “audio”.", code="audio_missing")
        audio = await upload.read()
        if len(audio) > limit:
            raise audio_too_large(limit)
        fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
        return audio, check_audio_content_type(upload.content_type), fields
    finally:
        await form.close()


def _score_attempt(
    *,
    user_id: int,
    item_id: str,
    audio: bytes,
    content_type: str,
    idempotency_key: str | None,
    engine: str = "auto",
) -> tuple[Any, bool]:
    """Score and store the take; the flag says it was a replay of an already stored idempotency key."""
    from sayzhong.curriculum import service as curriculum
    from sayzhong.practice import service as practice

    curriculum.get_item(item_id)
    with session_scope() as session:
        view = practice.score_attempt(
            session=session,
            user_id=user_id,
            item_id=item_id,
            audio=audio,
            content_type=content_type,
            mode="practice",
            idempotency_key=idempotency_key,
            engine=engine,
        )
        return jsonable(view), bool(view.replayed)


async def create_attempt(request: Request, auth: tokens.TokenAuth) -> Response:
    from sayzhong.practice.service import check_idempotency_key

    limit = get_settings().max_audio_bytes
    content_type = request.headers.get("content-type", "").strip()
    key = check_idempotency_key(request.headers.get("idempotency-key"))
    if media_type(content_type) == "multipart/form-data":
        audio, audio_type, fields = await _multipart_upload(request, limit)
        item_id = _check_item_id(request.headers.get("x-item-id") or fields.get("item_id"))
        key = key or check_idempotency_key(fields.get("idempotency_key"))
    else:
        if not content_type:
            raise UnsupportedMediaTypeError(
                "Send the recording as an audio body (e.g. Content-Type: audio/wav) "
                "or as multipart/form-data."
            )
        audio_type = check_audio_content_type(content_type)
        item_id = _check_item_id(request.headers.get("x-item-id"))
        audio = await read_limited_body(request, limit)
    if not audio:
        raise ApiError(422, "The recording is empty. Please record again.", code="audio_empty")
    # Billing (issue 12): the same entitlement check as the browser upload route (and its engine).
    engine = await asyncio.to_thread(
        guard_take,
        user_id=auth.user.id,
        item_id=item_id,
        mode="practice",
        audio=audio,
        content_type=audio_type,
        idempotency_key=key,
    )
    attempt, replayed = await asyncio.to_thread(
        _score_attempt,
        user_id=auth.user.id,
        item_id=item_id,
        audio=audio,
        content_type=audio_type,
        idempotency_key=key,
        engine=engine,
    )
    response = _json(attempt, status=200 if replayed else 201)
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


async def get_attempt(request: Request, auth: tokens.TokenAuth) -> Response:
    from sayzhong.practice import service as practice

    attempt_id = int(request.path_params["attempt_id"])
    if not 1 <= attempt_id <= MAX_DB_ID:
        raise ApiError(404, "We could not find that attempt.", code="attempt_not_found")

    def _get() -> Any:
        with session_scope() as session:
            return jsonable(
                practice.get_attempt(session=session, user_id=auth.user.id, attempt_id=attempt_id)
            )

    return _json(await asyncio.to_thread(_get))


async def get_progress(_request: Request, auth: tokens.TokenAuth) -> Response:
    from sayzhong.practice import service as practice

    def _get() -> Any:
        with session_scope() as session:
            return jsonable(practice.tone_stats(session=session, user_id=auth.user.id))

    return _json(await asyncio.to_thread(_get))


async def get_reviews(_request: Request, auth: tokens.TokenAuth) -> Response:
    from sayzhong.practice import service as practice

    def _get() -> Any:
        with session_scope() as session:
            return {"items": jsonable(practice.review_queue(session=session, user_id=auth.user.id))}

    return _json(await asyncio.to_thread(_get))


async def openapi_document(request: Request) -> Response:
    return JSONResponse(build_openapi())


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error_response(exc.status_code, headers=dict(exc.headers or {}))


def create_api_app(limits: ApiLimits | None = None) -> Starlette:
    """The API as its own ASGI app, so unknown paths and wrong methods also answer in JSON."""
    limits = limits or ApiLimits.default()
    read, write = tokens.SCOPE_READ, tokens.SCOPE_WRITE
    routes = [
        Route("/openapi.json", openapi_document, methods=["GET"]),
        Route("/me", _endpoint(limits, None, get_me), methods=["GET"]),
        Route("/units", _endpoint(limits, read, list_units), methods=["GET"]),
        Route("/units/{unit_id}", _endpoint(limits, read, get_unit), methods=["GET"]),
        Route(
            "/items/{item_id}/reference-audio", _endpoint(limits, read, get_reference_audio), methods=["GET"]
        ),
        Route("/attempts", _endpoint(limits, write, create_attempt, cost=ATTEMPT_COST), methods=["POST"]),
        Route("/attempts/{attempt_id:int}", _endpoint(limits, read, get_attempt), methods=["GET"]),
        Route("/progress", _endpoint(limits, read, get_progress), methods=["GET"]),
        Route("/reviews", _endpoint(limits, read, get_reviews), methods=["GET"]),
    ]
    return Starlette(routes=routes, exception_handlers={HTTPException: _http_exception})


class _ApiMount(Mount):
    """A Mount whose prefix also matches paths with control characters (e.g. an encoded newline).

    Starlette's `.*` stops at a newline, which would hand such requests to the outer app's
    plain-text 404; under /api/v1 every answer must be the API's JSON.
    """

    def __init__(self, path: str, app: Starlette) -> None:
        super().__init__(path, app=app)
        self.path_regex = re.compile(self.path_regex.pattern, re.DOTALL)


def api_routes(limits: ApiLimits | None = None) -> list[BaseRoute]:
    """Routes to add to the HTTP app: `routes=[..., *api_routes()]`."""
    return [_ApiMount(API_PREFIX, app=create_api_app(limits))]
