"""Browser practice routes (cookie-authenticated): upload a take for scoring, reference audio, replay.

Scoring runs in a worker thread; the attempt is committed before the response says it happened.
Every route answers JSON errors: a learner's mistake is a 4xx with a stable code, a fault on our
side a 5xx (see `answers_errors`), so monitoring counts faults and learners see calm messages.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import mimetypes
from collections.abc import Awaitable, Callable
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sayzhong.accounts import sign_in
from sayzhong.accounts.schemas import UserInfo
from sayzhong.billing.entitlements import guard_take
from sayzhong.db import MAX_DB_ID, session_scope
from sayzhong.errors import (
    AuthenticationError,
    InternalError,
    NotFoundError,
    PermissionDeniedError,
    SayZhongError,
)
from sayzhong.http.ranges import audio_response
from sayzhong.http.security import is_same_origin
from sayzhong.http.session_cookie import token_from_cookie_header
from sayzhong.http.uploads import check_audio_content_type, read_limited_body
from sayzhong.practice import scoring_pool
from sayzhong.settings import get_settings

log = logging.getLogger(__name__)

UPLOAD_ATTEMPT = "/practice/attempts"
CALIBRATION_TAKE = "/practice/calibration"
REFERENCE_AUDIO = "/practice/reference/{item_id:str}"
ATTEMPT_AUDIO = "/practice/attempts/{attempt_id:int}/audio"


def error_response(exc: SayZhongError) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": exc.code, "message": exc.user_message}},
        status_code=exc.http_status,
        headers={"Cache-Control": "no-store"},
    )


Endpoint = Callable[[Request], Awaitable[Response]]


def answers_errors(fault: InternalError) -> Callable[[Endpoint], Endpoint]:
    """User errors answer their own 4xx; anything else is logged and answers `fault` (a 5xx)."""

    def wrap(handler: Endpoint) -> Endpoint:
        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            try:
                return await handler(request)
            except SayZhongError as exc:
                return error_response(exc)
            except Exception:
                log.exception("%s %s failed", request.method, request.url.path)
                return error_response(fault)

        return endpoint

    return wrap


def _require_same_origin(request: Request) -> None:
    if not is_same_origin(request.headers.get("origin"), get_settings()):
        raise PermissionDeniedError("Cross-site request refused.")


def _current_user(request: Request) -> UserInfo:
    token = token_from_cookie_header(get_settings(), request.headers.get("cookie"))
    with session_scope() as session:
        info = sign_in.resolve_session(session=session, token=token)
    if info is None:
        raise AuthenticationError("Your session has ended. Please sign in again — your take is kept.")
    return info.user


def _read_file(path: Path, gone: NotFoundError) -> bytes:
    """The whole file, or `gone` if it was removed meanwhile (retention purge, erasure, cache clean).

    Read before answering instead of streaming, so a vanished file is a 404 rather than a failure
    halfway through a response. Takes and reference clips are a few megabytes at most.
    """
    try:
        return path.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        raise gone from None


@answers_errors(
    InternalError("Scoring failed on our side. Your take is kept — please try again.", code="scoring_failed")
)
async def upload_attempt(request: Request) -> Response:
    from sayzhong.practice import service as practice

    settings = get_settings()
    _require_same_origin(request)
    user = await asyncio.to_thread(_current_user, request)
    content_type = check_audio_content_type(request.headers.get("content-type"))
    item_id = request.headers.get("x-item-id", "")[:120]
    mode = request.headers.get("x-mode", "practice")
    if mode not in practice.MODES:
        mode = "practice"
    key = practice.check_idempotency_key(request.headers.get("idempotency-key"))
    if not item_id:
        raise NotFoundError("Which phrase was this take for? Reload the page and try again.")
    audio = await read_limited_body(request, settings.max_audio_bytes)
    # Billing (issue 12): locked item or daily limit -> 402 (a limited take is kept as a held take);
    # otherwise the engine the plan allows (Azure is a Plus feature).
    clearance = await asyncio.to_thread(
        guard_take,
        user_id=user.id,
        item_id=item_id,
        mode=mode,
        audio=audio,
        content_type=content_type,
        idempotency_key=key,
    )

    def _score() -> int:
        with clearance.released_on_error(), session_scope() as session:
            view = practice.score_attempt(
                session=session,
                user_id=user.id,
                item_id=item_id,
                audio=audio,
                content_type=content_type,
                mode=mode,
                idempotency_key=key,
                engine=clearance.engine,
            )
            return view.id

    attempt_id = await scoring_pool.run_scoring(_score)
    return JSONResponse({"attempt_id": attempt_id}, status_code=201)


def calibration_dir(user_id: int) -> Path:
    """Where the mic check keeps a learner's takes until the speaker profile is built from them."""
    return get_settings().data_dir / "calibration" / str(user_id)


@answers_errors(InternalError("We could not save that take. Please try again.", code="calibration_failed"))
async def calibration_take(request: Request) -> Response:
    """Store one microphone-check take (validated by decoding it) for the onboarding profile."""
    from sayzhong.practice import service as practice
    from sayzhong.pronunciation.audio import decode_audio

    settings = get_settings()
    _require_same_origin(request)
    user = await asyncio.to_thread(_current_user, request)
    check_audio_content_type(request.headers.get("content-type"))
    try:
        index = int(request.headers.get("x-item-id", ""))
    except ValueError:
        index = -1
    if not 0 <= index < len(practice.calibration_prompts()):
        raise NotFoundError("Unknown microphone-check prompt. Reload the page and try again.")
    audio = await read_limited_body(request, settings.max_audio_bytes)
    await asyncio.to_thread(decode_audio, audio, max_bytes=settings.max_audio_bytes, max_seconds=15)

    def _store() -> None:
        folder = calibration_dir(user.id)
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f"{index}.take.tmp"
        tmp.write_bytes(audio)
        tmp.replace(folder / f"{index}.take")

    await asyncio.to_thread(_store)
    return JSONResponse({"attempt_id": str(index)}, status_code=201)


@answers_errors(InternalError("Reference audio is unavailable right now.", code="reference_unavailable"))
async def reference_audio(request: Request) -> Response:
    from sayzhong.curriculum import reference_audio as references
    from sayzhong.curriculum import service as curriculum

    item_id = str(request.path_params["item_id"])[:120]

    def _audio() -> bytes:
        path = references.reference_audio_path(curriculum.get_item(item_id).hanzi)
        return _read_file(path, NotFoundError("That example recording is not available."))

    clip = await asyncio.to_thread(_audio)
    return audio_response(request, clip, media_type="audio/wav", cache_control="private, max-age=86400")


@answers_errors(InternalError("We could not play that recording. Please try again."))
async def attempt_audio(request: Request) -> Response:
    from sayzhong.practice import service as practice

    attempt_id = int(request.path_params["attempt_id"])
    gone = NotFoundError("That recording is no longer available.", code="audio_not_found")
    if attempt_id > MAX_DB_ID:
        raise NotFoundError("That recording does not exist.")

    def _audio() -> tuple[bytes, str]:
        from sayzhong.pronunciation.audio import replay_wav

        user = _current_user(request)
        with session_scope() as session:
            path = practice.attempt_audio_path(session=session, user_id=user.id, attempt_id=attempt_id)
        stored = _read_file(path, gone)
        wav = replay_wav(stored, get_settings().max_audio_seconds)
        if wav is not None:
            return wav, "audio/wav"
        return stored, mimetypes.guess_type(path.name)[0] or "application/octet-stream"

    audio, media = await asyncio.to_thread(_audio)
    return audio_response(request, audio, media_type=media, cache_control="private, no-store")


def practice_routes() -> list[Route]:
    return [
        Route(UPLOAD_ATTEMPT, upload_attempt, methods=["POST"]),
        Route(CALIBRATION_TAKE, calibration_take, methods=["POST"]),
        Route(REFERENCE_AUDIO, reference_audio, methods=["GET"]),
        Route(ATTEMPT_AUDIO, attempt_audio, methods=["GET"]),
    ]
