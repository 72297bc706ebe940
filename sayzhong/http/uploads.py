"""Reading request bodies with a hard size cap (the browser's limit is advisory; this one is not)."""

from __future__ import annotations

from starlette.requests import Request

from sayzhong.errors import SayZhongError

ACCEPTED_AUDIO_TYPES = frozenset(
    {
        "audio/webm",
        "video/webm",
        "audio/ogg",
        "audio/mp4",
        "video/mp4",
        "audio/aac",
        "audio/mpeg",
        "audio/mp3",
        "audio/wav",
        "audio/wave",
        "audio/x-wav",
        "audio/flac",
        "audio/x-flac",
        "application/octet-stream",
    }
)


class PayloadTooLargeError(SayZhongError):
    code = "audio_too_large"
    http_status = 413


class UnsupportedMediaTypeError(SayZhongError):
    code = "unsupported_media_type"
    http_status = 415
    default_message = "Please upload an audio recording (webm, ogg, mp4, wav, mp3 or flac)."


def _too_large(limit: int) -> PayloadTooLargeError:
    return PayloadTooLargeError(
        f"That recording is too large (the limit is {limit // (1024 * 1024)} MB). Try a shorter take."
    )


def check_audio_content_type(content_type: str | None) -> str:
    base = (content_type or "application/octet-stream").split(";", 1)[0].strip().lower()
    if base not in ACCEPTED_AUDIO_TYPES:
        raise UnsupportedMediaTypeError()
    return base


async def read_limited_body(request: Request, limit: int) -> bytes:
    """Read at most `limit` bytes; refuse early on Content-Length and stop reading once over."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise _too_large(limit)
        except ValueError:
            raise SayZhongError("Invalid Content-Length header.", code="bad_request") from None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _too_large(limit)
    return bytes(body)
