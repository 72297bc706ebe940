"""Reading API requests: the bearer token, path ids and an attempt upload (raw audio or a form).

Everything here only parses and checks what the client sent, raising the API's error classes;
the handlers in `sayzhong.api.resources` decide what to do with it.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncGenerator

from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request

from sayzhong.api.errors import AudioMissingError, ItemIdMissingError, MultipartInvalidError
from sayzhong.curriculum.service import ItemNotFoundError
from sayzhong.db import MAX_DB_ID
from sayzhong.http.uploads import (
    UnsupportedMediaTypeError,
    audio_too_large,
    check_audio_content_type,
    media_type,
    read_limited_body,
)
from sayzhong.practice.schemas import ITEM_ID_PATTERN
from sayzhong.practice.service import AttemptNotFoundError, check_idempotency_key
from sayzhong.pronunciation.audio import AudioEmptyError

ITEM_ID = re.compile(ITEM_ID_PATTERN)
MULTIPART_OVERHEAD_BYTES = 64 * 1024


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


def attempt_id(request: Request) -> int:
    """The `{attempt_id}` path parameter; ids outside the database's range name no attempt."""
    value = int(request.path_params["attempt_id"])
    if not 1 <= value <= MAX_DB_ID:
        raise AttemptNotFoundError()
    return value


def check_item_id(value: str | None) -> str:
    if not value:
        raise ItemIdMissingError()
    if not ITEM_ID.match(value):
        raise ItemNotFoundError()
    return value


@dataclasses.dataclass(frozen=True)
class AttemptUpload:
    item_id: str
    audio: bytes
    content_type: str
    idempotency_key: str | None


async def _multipart(request: Request, limit: int) -> tuple[bytes, str, dict[str, str]]:
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
        raise MultipartInvalidError(f"The form upload could not be read: {exc.message}") from None
    try:
        upload = form.get("audio")
        if not isinstance(upload, UploadFile):
            raise AudioMissingError()
        audio = await upload.read()
        if len(audio) > limit:
            raise audio_too_large(limit)
        fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
        return audio, check_audio_content_type(upload.content_type), fields
    finally:
        await form.close()


async def read_attempt_upload(request: Request, limit: int) -> AttemptUpload:
    """The take and its item: raw audio with `X-Item-Id`, or multipart/form-data with `audio`."""
    content_type = request.headers.get("content-type", "").strip()
    key = check_idempotency_key(request.headers.get("idempotency-key"))
    if media_type(content_type) == "multipart/form-data":
        audio, audio_type, fields = await _multipart(request, limit)
        item_id = check_item_id(request.headers.get("x-item-id") or fields.get("item_id"))
        key = key or check_idempotency_key(fields.get("idempotency_key"))
    else:
        if not content_type:
            raise UnsupportedMediaTypeError(
                "Send the recording as an audio body (e.g. Content-Type: audio/wav) "
                "or as multipart/form-data."
            )
        audio_type = check_audio_content_type(content_type)
        item_id = check_item_id(request.headers.get("x-item-id"))
        audio = await read_limited_body(request, limit)
    if not audio:
        raise AudioEmptyError("The recording is empty. Please record again.")
    return AttemptUpload(item_id=item_id, audio=audio, content_type=audio_type, idempotency_key=key)
