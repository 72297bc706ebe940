"""Attempts: submit a take for scoring (idempotent with a key) and read one of the learner's attempts."""

from __future__ import annotations

import asyncio
from copy import deepcopy

from starlette.requests import Request
from starlette.responses import Response

from sayzhong.api import tokens, views
from sayzhong.api.errors import (
    AudioMissingError,
    ItemIdMissingError,
    MultipartInvalidError,
    UnknownPathError,
)
from sayzhong.api.operations import Operation, view_response
from sayzhong.api.requests import AttemptUpload, attempt_id, read_attempt_upload
from sayzhong.billing.entitlements import DailyLimitError, PlanRequiredError, guard_take
from sayzhong.curriculum import service as curriculum
from sayzhong.db import session_scope
from sayzhong.http.uploads import ACCEPTED_AUDIO_TYPES, BadContentLengthError, UnsupportedMediaTypeError
from sayzhong.practice import scoring_pool
from sayzhong.practice import service as practice
from sayzhong.practice.schemas import IDEMPOTENCY_KEY_PATTERN, ITEM_ID_PATTERN, AttemptView
from sayzhong.pronunciation import audio as audio_errors
from sayzhong.pronunciation.ports import AssessorUnavailableError
from sayzhong.settings import get_settings

# Scoring costs far more than a read, so it spends more of the token's budget.
ATTEMPT_COST = 5.0


def _score(user_id: int, upload: AttemptUpload) -> AttemptView:
    curriculum.get_item(upload.item_id)
    # The same entitlement check as the browser upload route: Plus-only units, the Free plan's daily
    # limit (the take is held, not lost) and which engine the plan scores with.
    clearance = guard_take(
        user_id=user_id,
        item_id=upload.item_id,
        mode="practice",
        audio=upload.audio,
        content_type=upload.content_type,
        idempotency_key=upload.idempotency_key,
    )
    with clearance.released_on_error(), session_scope() as session:
        return practice.score_attempt(
            session=session,
            user_id=user_id,
            item_id=upload.item_id,
            audio=upload.audio,
            content_type=upload.content_type,
            mode="practice",
            idempotency_key=upload.idempotency_key,
            engine=clearance.engine,
        )


async def create_attempt(request: Request, auth: tokens.TokenAuth) -> Response:
    upload = await read_attempt_upload(request, get_settings().max_audio_bytes)
    attempt = await scoring_pool.run_scoring(_score, auth.user.id, upload)
    # A replay returns the attempt already stored under the idempotency key, unscored again.
    response = view_response(views.Attempt, attempt, status=200 if attempt.replayed else 201)
    if attempt.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


async def get_attempt(request: Request, auth: tokens.TokenAuth) -> Response:
    wanted = attempt_id(request)

    def _get() -> AttemptView:
        with session_scope() as session:
            return practice.get_attempt(session=session, user_id=auth.user.id, attempt_id=wanted)

    return view_response(views.Attempt, await asyncio.to_thread(_get))


_BINARY = {"schema": {"type": "string", "format": "binary"}}

OPERATIONS = (
    Operation(
        "POST",
        "/attempts",
        "createAttempt",
        "Submit a recording for scoring (scope `practice:write`).",
        create_attempt,
        scope=tokens.SCOPE_WRITE,
        body=views.Attempt,
        statuses=(201, 200),
        cost=ATTEMPT_COST,
        errors=(
            BadContentLengthError,
            curriculum.ItemNotFoundError,
            PlanRequiredError,
            DailyLimitError,
            practice.AttemptConflictError,
            audio_errors.AudioTooLargeError,
            audio_errors.AudioTooLongError,
            UnsupportedMediaTypeError,
            audio_errors.AudioUnsupportedError,
            ItemIdMissingError,
            practice.InvalidIdempotencyKeyError,
            MultipartInvalidError,
            AudioMissingError,
            audio_errors.AudioEmptyError,
            audio_errors.AudioCorruptError,
            audio_errors.AudioSilentError,
            audio_errors.AudioTooQuietError,
            audio_errors.AudioClippedError,
            audio_errors.AudioError,
            AssessorUnavailableError,
        ),
        openapi={
            "description": (
                "Send the audio as the raw body (with its audio Content-Type) and the item in "
                "`X-Item-Id`, or as multipart/form-data with fields `audio`, `item_id` and optionally "
                "`idempotency_key`. Uploads over the server's limit (5 MB by default) are refused with "
                "413 before they are read in full. Repeating a request with the same `Idempotency-Key` "
                "returns the stored attempt with 200 (header `Idempotent-Replayed: true`) instead of "
                "scoring it again."
            ),
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
                    **{media: deepcopy(_BINARY) for media in ACCEPTED_AUDIO_TYPES},
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
        },
    ),
    Operation(
        "GET",
        "/attempts/{attempt_id:int}",
        "getAttempt",
        "One of the learner's attempts (scope `practice:read`); another learner's is not found.",
        get_attempt,
        scope=tokens.SCOPE_READ,
        body=views.Attempt,
        errors=(practice.AttemptNotFoundError, UnknownPathError),
        openapi={
            "parameters": [
                {
                    "name": "attempt_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer", "minimum": 0},
                }
            ]
        },
    ),
)
