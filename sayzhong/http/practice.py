"""Browser practice routes (cookie-authenticated): upload a take for scoring, reference audio, replay.

Scoring runs in a worker thread; the attempt is committed before the response says it happened.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from sayzhong.accounts import service as accounts
from sayzhong.accounts.schemas import UserInfo
from sayzhong.db import MAX_DB_ID, session_scope
from sayzhong.errors import AuthenticationError, NotFoundError, SayZhongError
from sayzhong.http.security import is_same_origin
from sayzhong.http.session_cookie import token_from_cookie_header
from sayzhong.http.uploads import check_audio_content_type, read_limited_body
from sayzhong.settings import get_settings

log = logging.getLogger(__name__)

UPLOAD_ATTEMPT = "/practice/attempts"
CALIBRATION_TAKE = "/practice/calibration"
REFERENCE_AUDIO = "/practice/reference/{item_id:str}"
ATTEMPT_AUDIO = "/practice/attempts/{attempt_id:int}/audio"


def error_response(exc: SayZhongError) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": exc.code, "message": exc.user_message}}, status_code=exc.http_status
    )


def _current_user(request: Request) -> UserInfo:
    token = token_from_cookie_header(get_settings(), request.headers.get("cookie"))
    with session_scope() as session:
        info = accounts.resolve_session(session=session, token=token)
    if info is None:
        raise AuthenticationError("Your session has ended. Please sign in again — your take is kept.")
    return info.user


async def upload_attempt(request: Request) -> Response:
    from sayzhong.practice import service as practice

    settings = get_settings()
    try:
        if not is_same_origin(request.headers.get("origin"), settings):
            raise SayZhongError("Cross-site request refused.", code="forbidden")
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

        def _score() -> int:
            with session_scope() as session:
                view = practice.score_attempt(
                    session=session,
                    user_id=user.id,
                    item_id=item_id,
                    audio=audio,
                    content_type=content_type,
                    mode=mode,
                    idempotency_key=key,
                )
                return view.id

        attempt_id = await asyncio.to_thread(_score)
    except SayZhongError as exc:
        return error_response(exc)
    except Exception:
        log.exception("scoring failed")
        return error_response(
            SayZhongError(
                "Scoring failed on our side. Your take is kept — please try again.", code="scoring_failed"
            )
        )
    return JSONResponse({"attempt_id": attempt_id}, status_code=201)


def calibration_dir(user_id: int) -> Path:
    """Where the mic check keeps a learner's takes until the speaker profile is built from them."""
    return get_settings().data_dir / "calibration" / str(user_id)


async def calibration_take(request: Request) -> Response:
    """Store one microphone-check take (validated by decoding it) for the onboarding profile."""
    from sayzhong.practice import service as practice
    from sayzhong.pronunciation.audio import decode_audio

    settings = get_settings()
    try:
        if not is_same_origin(request.headers.get("origin"), settings):
            raise SayZhongError("Cross-site request refused.", code="forbidden")
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
    except SayZhongError as exc:
        return error_response(exc)
    except Exception:
        log.exception("calibration take failed")
        return error_response(
            SayZhongError("We could not save that take. Please try again.", code="calibration_failed")
        )
    return JSONResponse({"attempt_id": str(index)}, status_code=201)


def _reference_path(item_id: str) -> Path:
    from sayzhong.curriculum import service as curriculum
    from sayzhong.curriculum.reference_audio import reference_audio_path

    item = curriculum.get_item(item_id)
    return reference_audio_path(item.hanzi)


async def reference_audio(request: Request) -> Response:
    item_id = str(request.path_params["item_id"])[:120]
    try:
        path = await asyncio.to_thread(_reference_path, item_id)
    except SayZhongError as exc:
        return error_response(exc)
    except Exception:
        log.exception("reference audio failed for %s", item_id)
        return error_response(
            SayZhongError("Reference audio is unavailable right now.", code="reference_unavailable")
        )
    return FileResponse(path, media_type="audio/wav", headers={"Cache-Control": "private, max-age=86400"})


async def attempt_audio(request: Request) -> Response:
    from sayzhong.practice import service as practice

    attempt_id = int(request.path_params["attempt_id"])
    if attempt_id > MAX_DB_ID:  # 32-bit INTEGER keys on PostgreSQL
        return error_response(NotFoundError("That recording does not exist."))

    def _path() -> Path:
        user = _current_user(request)
        with session_scope() as session:
            return practice.attempt_audio_path(session=session, user_id=user.id, attempt_id=attempt_id)

    try:
        path = await asyncio.to_thread(_path)
    except SayZhongError as exc:
        return error_response(exc)
    return FileResponse(path, headers={"Cache-Control": "private, no-store"})


def practice_routes() -> list[Route]:
    return [
        Route(UPLOAD_ATTEMPT, upload_attempt, methods=["POST"]),
        Route(CALIBRATION_TAKE, calibration_take, methods=["POST"]),
        Route(REFERENCE_AUDIO, reference_audio, methods=["GET"]),
        Route(ATTEMPT_AUDIO, attempt_audio, methods=["GET"]),
    ]
