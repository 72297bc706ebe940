"""Byte ranges (RFC 9110 §14) for audio the browser plays: a learner's replayed take, a reference clip.

Chrome's media player asks for `Range: bytes=0-` and only lets the learner seek (drag the playhead,
replay from the middle) when the answer is a 206 with a Content-Range. The audio is a few megabytes
at most and already in memory (`_read_file` in practice.py reads it whole, so a file removed meanwhile
is a 404, not a cut-off answer), so a range is a slice of those bytes.

One range is served as asked. Anything else the RFC lets a server ignore is answered with the whole
body (200): several ranges, another unit, a malformed header, an If-Range that does not match this
body's ETag. A range that starts past the end is a 416 naming the length, as the RFC requires.
"""

from __future__ import annotations

import hashlib
import re

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

# One range; at most 18 digits a side (larger is no audio of ours, and int() of thousands refuses).
_SINGLE_RANGE = re.compile(r"\s*bytes\s*=\s*([0-9]{0,18})\s*-\s*([0-9]{0,18})\s*", re.IGNORECASE)


class RangeNotSatisfiable(Exception):
    """The range starts at or past the end of the body (or asks for the last 0 bytes)."""


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """`(first, last)` byte positions (inclusive) of a single `bytes=` range within `size` bytes;
    None when the header is absent or one the server may ignore (serve the whole body)."""
    match = _SINGLE_RANGE.fullmatch(header or "")
    if match is None:
        return None  # absent, several ranges, another unit or malformed
    first_text, last_text = match.groups()
    if not first_text:
        if not last_text:
            return None  # "bytes=-"
        length = int(last_text)  # a suffix: the last `length` bytes
        if length == 0 or size == 0:
            raise RangeNotSatisfiable
        return max(0, size - length), size - 1
    first = int(first_text)
    if last_text and int(last_text) < first:
        return None  # invalid: ignored, per the RFC
    if first >= size:
        raise RangeNotSatisfiable
    return first, min(int(last_text), size - 1) if last_text else size - 1


def etag_of(data: bytes) -> str:
    """A strong validator for these exact bytes (If-Range compares against it)."""
    return '"' + hashlib.blake2b(data, digest_size=12).hexdigest() + '"'


def audio_response(request: Request, data: bytes, *, media_type: str, cache_control: str) -> Response:
    """`data` whole (200) or the one range the request asks for (206); 416 for a range past the end."""
    etag = etag_of(data)
    headers = {"Accept-Ranges": "bytes", "Cache-Control": cache_control, "ETag": etag}
    if_range = request.headers.get("if-range")
    if request.method not in ("GET", "HEAD") or (if_range is not None and if_range != etag):
        return Response(data, media_type=media_type, headers=headers)
    try:
        span = parse_range(request.headers.get("range"), len(data))
    except RangeNotSatisfiable:
        return JSONResponse(
            {
                "error": {
                    "code": "range_not_satisfiable",
                    "message": f"That part of the recording does not exist (it is {len(data)} bytes long).",
                }
            },
            status_code=416,
            headers={"Content-Range": f"bytes */{len(data)}", "Cache-Control": "no-store"},
        )
    if span is None:
        return Response(data, media_type=media_type, headers=headers)
    first, last = span
    headers["Content-Range"] = f"bytes {first}-{last}/{len(data)}"
    return Response(data[first : last + 1], status_code=206, media_type=media_type, headers=headers)
