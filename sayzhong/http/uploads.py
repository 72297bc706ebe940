"""The one way an audio take enters the server, shared by the browser routes and the JSON API.

One list of accepted media types (also published in the OpenAPI document), one body reader with a
hard size cap (the browser's limit is advisory; this one is not) and one too-large error, the
decoder's `AudioTooLargeError`, so a take over the limit answers 413 `audio_too_large` whichever
door it came through. The duration limit is enforced where the audio is decoded, from the same
settings (`MAX_AUDIO_BYTES`, `MAX_AUDIO_SECONDS`).
"""

from __future__ import annotations

from starlette.requests import Request

from sayzhong.errors import SayZhongError
from sayzhong.pronunciation.audio import AudioTooLargeError

# The decoder sniffs the bytes; this list only turns away what is plainly not a recording.
ACCEPTED_AUDIO_TYPES = (
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
)


class UnsupportedMediaTypeError(SayZhongError):
    code = "unsupported_media_type"
    http_status = 415
    default_message = "Send the recording as audio (WAV, MP3, FLAC, Ogg, WebM or M4A)."


class BadContentLengthError(SayZhongError):
    code = "bad_content_length"
    http_status = 400
    default_message = "The Content-Length header is not a number."


def audio_too_large(limit: int) -> AudioTooLargeError:
    return AudioTooLargeError(
        f"That recording is too large (the limit is {limit // (1024 * 1024)} MB). "
        "Please record a shorter take."
    )


def media_type(content_type: str | None) -> str:
    """`audio/webm;codecs=opus` → `audio/webm`; a missing header counts as an unlabelled body."""
    return (content_type or "application/octet-stream").split(";", 1)[0].strip().lower()


def check_audio_content_type(content_type: str | None) -> str:
    """The media type of an audio body, or 415 when it is not one we accept."""
    base = media_type(content_type)
    if base not in ACCEPTED_AUDIO_TYPES:
        raise UnsupportedMediaTypeError()
    return base


async def read_limited_body(request: Request, limit: int) -> bytes:
    """Read at most `limit` bytes; refuse early on Content-Length and stop reading once over."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            declared_size = int(declared)
        except ValueError:
            raise BadContentLengthError() from None
        if declared_size > limit:
            raise audio_too_large(limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise audio_too_large(limit)
    return bytes(body)
