"""Byte ranges for the audio routes (RFC 9110 §14): what is sliced, what is ignored, what is refused."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from sayzhong.http.ranges import RangeNotSatisfiable, audio_response, etag_of, parse_range

BODY = bytes(range(256)) * 4  # 1,024 bytes, each position distinguishable


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-", (0, 1023)),  # what Chrome's player asks for first
        ("bytes=0-99", (0, 99)),
        ("bytes=1000-5000", (1000, 1023)),  # an end past the body is cut to the body
        ("bytes=-24", (1000, 1023)),  # the last 24 bytes
        ("bytes=-5000", (0, 1023)),  # a suffix longer than the body is the whole body
        ("BYTES = 10 - 19", (10, 19)),
        ("bytes=1023-1023", (1023, 1023)),
    ],
)
def test_a_single_range_is_the_positions_asked_for(header: str, expected: tuple[int, int]) -> None:
    assert parse_range(header, len(BODY)) == expected


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "bytes=0-9,20-29",  # several ranges: the whole body (the RFC lets a server ignore Range)
        "items=0-9",
        "bytes=9-0",  # last before first: invalid, ignored
        "bytes=-",
        "bytes=a-b",
        "bytes=²-",  # a Unicode digit is not a position
        "bytes=" + "9" * 5000 + "-",  # no int() of thousands of digits
        "bytes 0-9",
    ],
)
def test_a_range_the_server_may_ignore_serves_the_whole_body(header: str | None) -> None:
    assert parse_range(header, len(BODY)) is None


@pytest.mark.parametrize(
    ("header", "size"),
    [("bytes=1024-", 1024), ("bytes=5000-6000", 1024), ("bytes=-0", 1024), ("bytes=0-", 0)],
)
def test_a_range_past_the_end_cannot_be_satisfied(header: str, size: int) -> None:
    with pytest.raises(RangeNotSatisfiable):
        parse_range(header, size)


@pytest.fixture
def client() -> TestClient:
    async def clip(request: Request) -> Response:
        return audio_response(request, BODY, media_type="audio/wav", cache_control="private, no-store")

    return TestClient(Starlette(routes=[Route("/clip", clip, methods=["GET"])]))


def test_the_whole_clip_says_ranges_are_accepted(client: TestClient) -> None:
    response = client.get("/clip")
    assert response.status_code == 200
    assert response.content == BODY
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["etag"] == etag_of(BODY)
    assert response.headers["cache-control"] == "private, no-store"


def test_a_range_is_a_partial_answer_with_its_place_in_the_clip(client: TestClient) -> None:
    response = client.get("/clip", headers={"Range": "bytes=100-199"})
    assert response.status_code == 206
    assert response.content == BODY[100:200]
    assert response.headers["content-range"] == "bytes 100-199/1024"
    assert response.headers["content-length"] == "100"
    assert response.headers["content-type"] == "audio/wav"


def test_a_range_past_the_end_is_416_naming_the_length(client: TestClient) -> None:
    response = client.get("/clip", headers={"Range": "bytes=2048-"})
    assert response.status_code == 416
    assert response.headers["content-range"] == "bytes */1024"
    assert response.json()["error"]["code"] == "range_not_satisfiable"


def test_if_range_serves_the_range_only_while_the_clip_is_unchanged(client: TestClient) -> None:
    same = client.get("/clip", headers={"Range": "bytes=0-9", "If-Range": etag_of(BODY)})
    assert (same.status_code, same.content) == (206, BODY[:10])
    changed = client.get("/clip", headers={"Range": "bytes=0-9", "If-Range": etag_of(b"an older clip")})
    assert (changed.status_code, changed.content) == (200, BODY)
