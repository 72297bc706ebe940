"""Browser upload and replay routes at HTTP level: who may send what, and what each failure answers.

User errors answer 4xx with a stable code; faults on our side answer 5xx so monitoring sees them.
The browser door and the API door refuse the same take with the same code.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlmodel import SQLModel
from starlette.testclient import TestClient

from sayzhong.accounts import sign_in
from sayzhong.api import tokens
from sayzhong.billing.models import BillingGrant
from sayzhong.db import get_engine, session_scope, utcnow
from sayzhong.http import practice as practice_routes
from sayzhong.http.app import create_http_app, security_headers
from sayzhong.models import load_all_models
from sayzhong.practice import service as practice
from sayzhong.settings import Settings
from tests.factories import signed_in_learner
from tests.support.pron_synth import synth_samples, synth_wav_bytes, to_webm

ITEM = "greetings.hello"  # 你好: tones 3 3 (sandhi 2 3)
UPLOAD = practice_routes.UPLOAD_ATTEMPT


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    load_all_models()
    SQLModel.metadata.create_all(get_engine())
    with TestClient(
        security_headers(create_http_app()), base_url=settings.app_url, raise_server_exceptions=False
    ) as c:
        yield c


@pytest.fixture
def take() -> bytes:
    return synth_wav_bytes([2, 3])


def _user_id(token: str) -> int:
    with session_scope() as session:
        info = sign_in.resolve_session(session=session, token=token)
    assert info is not None
    return info.user.id


def _upload(
    client: TestClient,
    settings: Settings,
    body: bytes,
    *,
    token: str | None,
    origin: str | None = "same",
    content_type: str = "audio/wav",
    headers: dict[str, str] | None = None,
    path: str = UPLOAD,
) -> tuple[int, dict[str, object]]:
    sent = {"content-type": content_type, "x-item-id": ITEM, **(headers or {})}
    if origin is not None:
        sent["origin"] = settings.app_url if origin == "same" else origin
    client.cookies.clear()
    if token is not None:
        client.cookies.set(settings.session_cookie_name, token)
    response = client.post(path, content=body, headers=sent)
    return response.status_code, response.json()


def _code(body: dict[str, object]) -> object:
    error = body.get("error")
    assert isinstance(error, dict), body
    return error["code"]


def _replay(client: TestClient, settings: Settings, token: str | None, attempt_id: int) -> tuple[int, bytes]:
    client.cookies.clear()
    if token is not None:
        client.cookies.set(settings.session_cookie_name, token)
    response = client.get(f"/practice/attempts/{attempt_id}/audio")
    return response.status_code, response.content


def test_a_take_is_scored_and_only_its_owner_can_replay_it(
    client: TestClient, settings: Settings, take: bytes
) -> None:
    mei = signed_in_learner("mei@example.org")
    status, body = _upload(client, settings, take, token=mei)
    assert status == 201, body
    attempt_id = int(str(body["attempt_id"]))
    assert _replay(client, settings, mei, attempt_id) == (200, take)

    other = signed_in_learner("li@example.org")
    status, _ = _replay(client, settings, other, attempt_id)
    assert status == 404
    assert _replay(client, settings, None, attempt_id)[0] == 401
    assert _replay(client, settings, mei, attempt_id + 1000)[0] == 404


def test_a_webm_take_replays_as_wav_with_its_length_and_is_stored_as_recorded(
    client: TestClient, settings: Settings
) -> None:
    """Browsers record WebM without a duration, so the page's player could not show or seek it."""
    import io
    import wave

    from sayzhong.pronunciation.audio import decode_audio

    webm = to_webm(synth_samples([2, 3]))
    mei = signed_in_learner("mei@example.org")
    status, body = _upload(client, settings, webm, token=mei, content_type="audio/webm;codecs=opus")
    assert status == 201, body
    attempt_id = int(str(body["attempt_id"]))
    client.cookies.set(settings.session_cookie_name, mei)
    response = client.get(f"/practice/attempts/{attempt_id}/audio")
    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(response.content), "rb") as replay:
        assert replay.getnframes() == decode_audio(webm).samples.size
    with session_scope() as session:
        stored = practice.attempt_audio_path(session=session, user_id=_user_id(mei), attempt_id=attempt_id)
    assert stored.read_bytes() == webm  # exports and re-scoring keep the original


def test_a_replayed_take_and_a_reference_clip_can_be_sought(
    client: TestClient, settings: Settings, take: bytes
) -> None:
    """Chrome's player asks for `bytes=0-` and lets the learner drag the playhead only on a 206."""
    mei = signed_in_learner("mei@example.org")
    status, body = _upload(client, settings, take, token=mei)
    assert status == 201, body
    client.cookies.set(settings.session_cookie_name, mei)
    for path in (f"/practice/attempts/{body['attempt_id']}/audio", f"/practice/reference/{ITEM}"):
        whole = client.get(path)
        assert whole.status_code == 200 and whole.headers["accept-ranges"] == "bytes", path
        size = len(whole.content)
        first = client.get(path, headers={"Range": "bytes=0-"})
        assert first.status_code == 206, path
        assert first.headers["content-range"] == f"bytes 0-{size - 1}/{size}"
        middle = client.get(path, headers={"Range": f"bytes={size // 2}-{size // 2 + 99}"})
        assert (middle.status_code, middle.content) == (206, whole.content[size // 2 : size // 2 + 100])
        past = client.get(path, headers={"Range": f"bytes={size}-"})
        assert (past.status_code, past.headers["content-range"]) == (416, f"bytes */{size}")
    client.cookies.set(settings.session_cookie_name, signed_in_learner("li@example.org"))
    ranged = client.get(f"/practice/attempts/{body['attempt_id']}/audio", headers={"Range": "bytes=0-"})
    assert ranged.status_code == 404  # a range of someone else's take is still no take at all


@pytest.mark.parametrize("path", [UPLOAD, practice_routes.CALIBRATION_TAKE])
@pytest.mark.parametrize("origin", [None, "https://evil.example", "null"])
def test_uploads_without_our_origin_are_forbidden(
    client: TestClient, settings: Settings, take: bytes, origin: str | None, path: str
) -> None:
    status, body = _upload(
        client, settings, take, token=signed_in_learner("mei@example.org"), origin=origin, path=path
    )
    assert (status, _code(body)) == (403, "forbidden")


@pytest.mark.parametrize("path", [UPLOAD, practice_routes.CALIBRATION_TAKE])
def test_uploads_without_a_session_are_unauthenticated(
    client: TestClient, settings: Settings, take: bytes, path: str
) -> None:
    status, body = _upload(client, settings, take, token=None, path=path)
    assert (status, _code(body)) == (401, "unauthenticated")
    status, body = _upload(client, settings, take, token="not-a-session", path=path)
    assert (status, _code(body)) == (401, "unauthenticated")


@pytest.mark.parametrize("content_type", ["text/plain", "image/png", "application/json"])
def test_uploads_that_are_not_audio_are_unsupported(
    client: TestClient, settings: Settings, take: bytes, content_type: str
) -> None:
    status, body = _upload(
        client, settings, take, token=signed_in_learner("mei@example.org"), content_type=content_type
    )
    assert (status, _code(body)) == (415, "unsupported_media_type")


def test_oversize_takes_are_refused_alike_by_the_browser_and_the_api_door(
    client: TestClient, settings: Settings
) -> None:
    too_big = b"\0" * (settings.max_audio_bytes + 1)
    mei = signed_in_learner("mei@example.org")
    status, body = _upload(client, settings, too_big, token=mei)
    assert (status, _code(body)) == (413, "audio_too_large")
    with session_scope() as session:
        _info, raw = tokens.create_token(session=session, user_id=_user_id(mei), name="laptop")
        # the API is the terminal client's door, a Plus feature (issue 12)
        session.add(BillingGrant(user_id=_user_id(mei), ends_at=utcnow() + timedelta(days=1), reason="tests"))
    client.cookies.clear()
    api = client.post(
        "/api/v1/attempts",
        content=too_big,
        headers={"authorization": f"Bearer {raw}", "content-type": "audio/wav", "x-item-id": ITEM},
    )
    assert (api.status_code, _code(api.json())) == (413, "audio_too_large")
    assert api.json()["error"]["message"] == body["error"]["message"]  # type: ignore[index]


def test_a_malformed_idempotency_key_is_refused_not_truncated(
    client: TestClient, settings: Settings, take: bytes
) -> None:
    status, body = _upload(
        client,
        settings,
        take,
        token=signed_in_learner("mei@example.org"),
        headers={"idempotency-key": "bad key!"},
    )
    assert (status, _code(body)) == (422, "invalid_idempotency_key")


def test_a_take_whose_file_is_gone_is_not_found(client: TestClient, settings: Settings, take: bytes) -> None:
    mei = signed_in_learner("mei@example.org")
    status, body = _upload(client, settings, take, token=mei)
    assert status == 201, body
    attempt_id = int(str(body["attempt_id"]))
    with session_scope() as session:
        path = practice.attempt_audio_path(session=session, user_id=_user_id(mei), attempt_id=attempt_id)
    path.unlink()
    status, _ = _replay(client, settings, mei, attempt_id)
    assert status in (404, 410)


def test_a_take_that_vanishes_while_being_served_is_not_found(
    client: TestClient, settings: Settings, take: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file can go (retention purge, erasure) between the lookup and the response."""
    mei = signed_in_learner("mei@example.org")
    status, body = _upload(client, settings, take, token=mei)
    attempt_id = int(str(body["attempt_id"]))
    real = practice.attempt_audio_path

    def lookup_then_purge(**kwargs: object) -> object:
        path = real(**kwargs)  # type: ignore[arg-type]
        path.unlink()
        return path

    monkeypatch.setattr(practice, "attempt_audio_path", lookup_then_purge)
    status, _ = _replay(client, settings, mei, attempt_id)
    assert status in (404, 410)


def test_unexpected_faults_while_scoring_are_server_errors(
    client: TestClient, settings: Settings, take: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**_kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(practice, "score_attempt", broken)
    status, body = _upload(client, settings, take, token=signed_in_learner("mei@example.org"))
    assert status == 500
    assert _code(body) == "scoring_failed"
    assert "disk on fire" not in str(body)


def test_unexpected_faults_while_replaying_are_server_errors(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**_kwargs: object) -> None:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(practice, "attempt_audio_path", broken)
    client.cookies.set(settings.session_cookie_name, signed_in_learner("mei@example.org"))
    response = client.get("/practice/attempts/1/audio")
    assert response.status_code == 500
    assert _code(response.json()) == "internal_error"


def test_unexpected_faults_with_reference_audio_are_server_errors(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sayzhong.curriculum import reference_audio

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("cache on fire")

    monkeypatch.setattr(reference_audio, "reference_audio_path", broken)
    response = client.get(f"/practice/reference/{ITEM}")
    assert response.status_code >= 500
    assert client.get("/practice/reference/no-such-item").status_code == 404


def test_an_unknown_item_is_a_user_error(client: TestClient, settings: Settings, take: bytes) -> None:
    status, body = _upload(
        client, settings, take, token=signed_in_learner("mei@example.org"), headers={"x-item-id": "nope.nope"}
    )
    assert 400 <= status < 500 and status != 413, body
