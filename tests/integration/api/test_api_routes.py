"""The /api/v1 routes over HTTP: auth and scopes, JSON errors, uploads, idempotency, rate limits."""

from __future__ import annotations

import io
import json
import socket
import wave
from collections.abc import Iterator
from datetime import timedelta

import pytest
from liveserver import LiveApi
from sqlmodel import SQLModel, func, select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from sayzhong.api import tokens
from sayzhong.api.app import api_routes
from sayzhong.api.models import ApiToken
from sayzhong.api.operations import ApiLimits
from sayzhong.api.ratelimit import TokenBucketLimiter
from sayzhong.db import get_engine, session_scope
from sayzhong.http.security import SecurityHeadersMiddleware
from sayzhong.models import load_all_models
from sayzhong.practice.models import Attempt
from sayzhong.settings import Settings
from tests.factories import learner_with_api_token

ITEM = "greetings.hello"


def _client(limits: ApiLimits | None = None) -> TestClient:
    app = SecurityHeadersMiddleware(
        Starlette(routes=api_routes(limits)), backend_origin="http://testserver", hsts=False
    )
    return TestClient(app)


@pytest.fixture
def api(settings: Settings) -> Iterator[tuple[TestClient, dict[str, str], int]]:
    load_all_models()
    SQLModel.metadata.create_all(get_engine())
    user_id, raw = learner_with_api_token(plus=True)
    with _client() as client:
        yield client, {"Authorization": f"Bearer {raw}"}, user_id


def _error(response: object) -> tuple[int, str]:
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["message"]
    return response.status_code, body["error"]["code"]  # type: ignore[attr-defined]


def _attempt_count(user_id: int) -> int:
    with session_scope() as session:
        return int(
            session.exec(select(func.count()).select_from(Attempt).where(Attempt.user_id == user_id)).one()
        )


def test_me_describes_the_learner_and_the_token(api: tuple[TestClient, dict[str, str], int]) -> None:
    client, auth, user_id = api
    response = client.get("/api/v1/me", headers=auth)
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == user_id and body["email"] == "mei@example.org"
    assert body["token"]["scopes"] == ["practice:read", "practice:write"]
    assert auth["Authorization"].split()[1].startswith(body["token"]["prefix"])
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    ("header", "code"),
    [
        (None, "token_missing"),
        ("Basic bWVpOnB3", "token_missing"),
        ("Bearer nonsense", "token_invalid"),
        ("Bearer szp_" + "A" * 40, "token_invalid"),
    ],
)
def test_requests_without_a_valid_token_get_401(
    api: tuple[TestClient, dict[str, str], int], header: str | None, code: str
) -> None:
    client, _auth, _ = api
    response = client.get("/api/v1/units", headers={"Authorization": header} if header else {})
    assert _error(response) == (401, code)
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_expired_and_revoked_tokens_get_their_own_401_codes(
    api: tuple[TestClient, dict[str, str], int],
) -> None:
    client, auth, user_id = api
    raw = auth["Authorization"].split()[1]
    with session_scope() as session:
        row = session.exec(select(ApiToken).where(ApiToken.token_hash == tokens.hash_token(raw))).one()
        row.expires_at = row.created_at - timedelta(seconds=1)
        session.add(row)
    assert _error(client.get("/api/v1/me", headers=auth)) == (401, "token_expired")
    with session_scope() as session:
        info, other = tokens.create_token(session=session, user_id=user_id, name="second")
        tokens.revoke_token(session=session, user_id=user_id, token_id=info.id)
    assert _error(client.get("/api/v1/me", headers={"Authorization": f"Bearer {other}"})) == (
        401,
        "token_revoked",
    )


def test_a_read_only_token_cannot_submit_attempts(api: tuple[TestClient, dict[str, str], int]) -> None:
    client, _auth, user_id = api
    with session_scope() as session:
        _info, raw = tokens.create_token(session=session, user_id=user_id, name="ro", scopes="practice:read")
    ro = {"Authorization": f"Bearer {raw}"}
    assert client.get("/api/v1/units", headers=ro).status_code == 200
    response = client.post(
        "/api/v1/attempts", content=b"RIFF", headers={**ro, "Content-Type": "audio/wav", "X-Item-Id": ITEM}
    )
    assert _error(response) == (403, "insufficient_scope")


def test_units_and_phrases(api: tuple[TestClient, dict[str, str], int]) -> None:
    client, auth, _ = api
    units = client.get("/api/v1/units", headers=auth).json()["units"]
    assert len(units) >= 8 and units[0]["id"] == "greetings"
    unit = client.get("/api/v1/units/greetings", headers=auth).json()
    assert unit["phrase_count"] == len(unit["phrases"]) and unit["phrases"][0]["id"] == ITEM
    assert _error(client.get("/api/v1/units/no-such-unit", headers=auth)) == (404, "unit_not_found")


def test_reference_audio_is_a_wav_of_the_item(api: tuple[TestClient, dict[str, str], int]) -> None:
    client, auth, _ = api
    response = client.get(f"/api/v1/items/{ITEM}/reference-audio", headers=auth)
    assert response.status_code == 200 and response.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(response.content)) as wav:
        assert wav.getframerate() == 16_000 and wav.getnframes() > 8_000
    assert _error(client.get("/api/v1/items/nope/reference-audio", headers=auth)) == (404, "item_not_found")


def test_unknown_paths_and_wrong_methods_answer_in_json(api: tuple[TestClient, dict[str, str], int]) -> None:
    client, auth, _ = api
    assert _error(client.get("/api/v1/nothing-here", headers=auth)) == (404, "not_found")
    assert _error(client.get("/api/v1/units/%0Abad", headers=auth)) == (404, "unit_not_found")
    response = client.delete("/api/v1/units", headers=auth)
    assert _error(response) == (405, "method_not_allowed")
    assert "GET" in response.headers["allow"]
    assert _error(client.get("/api/v1/attempts/99999999999999999999999", headers=auth)) == (
        404,
        "attempt_not_found",
    )


@pytest.mark.parametrize(
    "path",
    ["/api", "/api/", "/api/v2/units", "/api/%0A", "/api%0A", "/api%0Ax", "/api/v1/%0A", "/api/v1/a%0Ab"],
)
def test_every_unknown_api_path_answers_the_json_error_shape(
    api: tuple[TestClient, dict[str, str], int], path: str
) -> None:
    client, auth, _ = api
    for method in ("GET", "POST", "DELETE"):
        response = client.request(method, path, headers=auth)
        assert _error(response) == (404, "not_found"), (method, path)
        assert response.headers["content-type"] == "application/json"


def test_attempt_is_scored_once_per_idempotency_key(
    api: tuple[TestClient, dict[str, str], int], spoken_wav: bytes
) -> None:
    client, auth, user_id = api
    headers = {**auth, "Content-Type": "audio/wav", "X-Item-Id": ITEM, "Idempotency-Key": "take-0001-abc"}
    first = client.post("/api/v1/attempts", content=spoken_wav, headers=headers)
    assert first.status_code == 201, first.text
    attempt = first.json()
    assert attempt["item_id"] == ITEM and attempt["text"] == "你好"
    assert [s["grapheme"] for s in attempt["syllables"]] == ["你", "好"]
    assert {"expected_tone", "detected_tone", "verdict", "learner_contour"} <= set(attempt["syllables"][0])
    again = client.post("/api/v1/attempts", content=spoken_wav, headers=headers)
    assert again.status_code == 200 and again.json()["id"] == attempt["id"]
    assert _attempt_count(user_id) == 1
    fetched = client.get(f"/api/v1/attempts/{attempt['id']}", headers=auth)
    assert fetched.status_code == 200 and fetched.json()["id"] == attempt["id"]
    progress = client.get("/api/v1/progress", headers=auth).json()
    assert sum(t["total"] + t["unclear"] for t in progress["tones"]) >= 1
    reviews = client.get("/api/v1/reviews", headers=auth).json()
    assert isinstance(reviews["items"], list)


def test_another_learner_cannot_read_an_attempt(
    api: tuple[TestClient, dict[str, str], int], spoken_wav: bytes
) -> None:
    client, auth, _ = api
    created = client.post(
        "/api/v1/attempts",
        content=spoken_wav,
        headers={**auth, "Content-Type": "audio/wav", "X-Item-Id": ITEM},
    ).json()
    _other_id, other = learner_with_api_token("li@example.org", plus=True)
    response = client.get(f"/api/v1/attempts/{created['id']}", headers={"Authorization": f"Bearer {other}"})
    assert _error(response) == (404, "attempt_not_found")


def test_multipart_upload_is_accepted(api: tuple[TestClient, dict[str, str], int], spoken_wav: bytes) -> None:
    client, auth, user_id = api
    response = client.post(
        "/api/v1/attempts",
        headers=auth,
        files={"audio": ("take.wav", spoken_wav, "audio/wav")},
        data={"item_id": ITEM, "idempotency_key": "form-take-0001"},
    )
    assert response.status_code == 201, response.text
    assert _attempt_count(user_id) == 1


@pytest.mark.parametrize(
    ("body", "headers", "expected"),
    [
        (b"RIFFxxxx", {"Content-Type": "text/plain", "X-Item-Id": ITEM}, (415, "unsupported_media_type")),
        (b"RIFFxxxx", {"X-Item-Id": ITEM}, (415, "unsupported_media_type")),
        (b"\x00" * 500, {"Content-Type": "audio/wav", "X-Item-Id": ITEM}, (415, "audio_unsupported")),
        (b"", {"Content-Type": "audio/wav", "X-Item-Id": ITEM}, (422, "audio_empty")),
        (b"RIFFxxxx", {"Content-Type": "audio/wav"}, (422, "item_id_missing")),
        (b"RIFFxxxx", {"Content-Type": "audio/wav", "X-Item-Id": "no.such.item"}, (404, "item_not_found")),
        (
            b"RIFFxxxx",
            {"Content-Type": "audio/wav", "X-Item-Id": ITEM, "Idempotency-Key": "short"},
            (422, "invalid_idempotency_key"),
        ),
    ],
)
def test_bad_uploads_are_refused_with_stable_codes(
    api: tuple[TestClient, dict[str, str], int],
    body: bytes,
    headers: dict[str, str],
    expected: tuple[int, str],
) -> None:
    client, auth, user_id = api
    response = client.post("/api/v1/attempts", content=body, headers={**auth, **headers})
    assert _error(response) == expected
    assert _attempt_count(user_id) == 0


def test_an_upload_over_the_limit_is_refused_without_reading_it_all(settings: Settings) -> None:
    """Drive the ASGI app directly with a 50 MB body in 64 KiB chunks and count what it pulls."""
    import asyncio

    load_all_models()
    SQLModel.metadata.create_all(get_engine())
    _user_id, raw = learner_with_api_token(plus=True)
    app = Starlette(routes=api_routes())
    chunk = b"\x00" * 65536
    total_chunks = 50 * 1024 * 1024 // len(chunk)
    pulled = 0
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": chunk, "more_body": pulled < total_chunks}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/attempts",
        "raw_path": b"/api/v1/attempts",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"testserver"),
            (b"authorization", f"Bearer {raw}".encode()),
            (b"content-type", b"audio/wav"),
            (b"x-item-id", ITEM.encode()),
            (b"transfer-encoding", b"chunked"),  # no Content-Length: the limit must hold while streaming
        ],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")  # type: ignore[misc]
    assert start["status"] == 413
    assert json.loads(body)["error"]["code"] == "audio_too_large"
    assert pulled * len(chunk) <= settings.max_audio_bytes + 2 * len(chunk)
    assert pulled < total_chunks // 5


def test_a_declared_50_mb_upload_gets_413_from_the_live_server(live_api: LiveApi) -> None:
    """Over real TCP: the answer comes after the headers and a first slice, long before 50 MB are sent."""
    declared = 50 * 1024 * 1024
    with socket.create_connection(("127.0.0.1", live_api.server.port), timeout=30) as sock:
        head = (
            "POST /api/v1/attempts HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{live_api.server.port}\r\n"
            f"Authorization: Bearer {live_api.token}\r\n"
            "Content-Type: audio/wav\r\n"
            f"X-Item-Id: {ITEM}\r\n"
            f"Content-Length: {declared}\r\n\r\n"
        )
        sock.sendall(head.encode() + b"\x00" * 65536)
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    status_line, _, rest = answer.partition(b"\r\n")
    assert b" 413 " in status_line
    assert json.loads(rest.split(b"\r\n\r\n", 1)[1])["error"]["code"] == "audio_too_large"
    assert _attempt_count(live_api.user_id) == 0


def test_each_token_has_a_request_budget(settings: Settings) -> None:
    load_all_models()
    SQLModel.metadata.create_all(get_engine())
    user_id, raw = learner_with_api_token(plus=True)
    with session_scope() as session:
        _info, other = tokens.create_token(session=session, user_id=user_id, name="other")
    limits = ApiLimits(
        per_token=TokenBucketLimiter(capacity=3, refill_per_s=0.001),
        auth_failures=TokenBucketLimiter(capacity=2, refill_per_s=0.001),
    )
    with _client(limits) as client:
        auth = {"Authorization": f"Bearer {raw}"}
        assert [client.get("/api/v1/me", headers=auth).status_code for _ in range(3)] == [200, 200, 200]
        refused = client.get("/api/v1/me", headers=auth)
        assert _error(refused) == (429, "rate_limited")
        assert int(refused.headers["retry-after"]) >= 1
        assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {other}"}).status_code == 200
        bad = {"Authorization": "Bearer szp_" + "B" * 40}
        codes = [client.get("/api/v1/me", headers=bad).status_code for _ in range(3)]
        assert codes == [401, 401, 429]


def test_openapi_document_lists_every_route_and_error(api: tuple[TestClient, dict[str, str], int]) -> None:
    client, _auth, _ = api
    doc = client.get("/api/v1/openapi.json").json()
    assert doc["openapi"].startswith("3.1")
    post = doc["paths"]["/api/v1/attempts"]["post"]
    assert {"201", "200", "401", "403", "413", "415", "422", "429"} <= set(post["responses"])
    assert "multipart/form-data" in post["requestBody"]["content"]
    assert {p["name"] for p in post["parameters"]} == {"X-Item-Id", "Idempotency-Key"}
