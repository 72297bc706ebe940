"""Metrics, traces and logs for real requests through the app's HTTP stack (scoring included).

The server routes run behind the same middleware chain as in production (observability outside
security headers outside the routes); the database is the test's own; spans go to an in-memory
exporter on this process's tracer provider.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import REGISTRY
from sqlmodel import SQLModel
from starlette.testclient import TestClient

from sayzhong.db import get_engine
from sayzhong.http import practice as practice_routes
from sayzhong.http.app import create_http_app, security_headers
from sayzhong.http.observability import observe_http
from sayzhong.models import load_all_models
from sayzhong.ops.logs import build_handler
from sayzhong.settings import Settings, reset_settings_cache
from tests.factories import PASSWORD, signed_in_learner
from tests.support.pron_synth import synth_wav_bytes

ITEM = "greetings.hello"
METRICS_TOKEN = "metrics-token-for-tests-0123456789"


@pytest.fixture
def ops_settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("METRICS_TOKEN", METRICS_TOKEN)
    monkeypatch.setenv("LOG_FORMAT", "json")
    reset_settings_cache()
    from sayzhong.settings import get_settings

    return get_settings()


@pytest.fixture
def client(ops_settings: Settings) -> Iterator[TestClient]:
    load_all_models()
    SQLModel.metadata.create_all(get_engine())
    app = observe_http(security_headers(create_http_app()))
    with TestClient(app, base_url=ops_settings.app_url, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def log_lines(ops_settings: Settings) -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = build_handler(ops_settings, stream)
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(previous)


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _upload(client: TestClient, settings: Settings, token: str, body: bytes) -> int:
    client.cookies.clear()
    client.cookies.set(settings.session_cookie_name, token)
    response = client.post(
        practice_routes.UPLOAD_ATTEMPT,
        content=body,
        headers={"content-type": "audio/wav", "x-item-id": ITEM, "origin": settings.app_url},
    )
    return response.status_code


def test_a_scored_upload_is_counted_timed_and_traced_end_to_end(
    client: TestClient, ops_settings: Settings, spans: InMemorySpanExporter
) -> None:
    route = practice_routes.UPLOAD_ATTEMPT
    before_requests = _sample("sayzhong_http_requests_total", route=route, method="POST", status="201")
    before_scoring = _sample("sayzhong_scoring_duration_seconds_count", engine="offline", outcome="ok")
    before_takes = _sample("sayzhong_scored_takes_total", mode="practice", engine="offline")

    token = signed_in_learner("mei@example.org")
    assert _upload(client, ops_settings, token, synth_wav_bytes([2, 3])) == 201

    assert (
        _sample("sayzhong_http_requests_total", route=route, method="POST", status="201")
        == before_requests + 1
    )
    assert (
        _sample("sayzhong_scoring_duration_seconds_count", engine="offline", outcome="ok")
        == before_scoring + 1
    )
    assert _sample("sayzhong_scored_takes_total", mode="practice", engine="offline") == before_takes + 1

    finished = {s.name: s for s in spans.get_finished_spans()}
    server = finished[f"POST {route}"]
    chain = [
        "practice.score_attempt",
        "audio.decode",
        "pronunciation.offline",
        "pronunciation.pitch",
        "pronunciation.align",
        "pronunciation.classify",
        "practice.store",
    ]
    for name in chain:
        assert name in finished, sorted(finished)
        assert finished[name].context.trace_id == server.context.trace_id
    assert finished["practice.score_attempt"].parent.span_id == server.context.span_id
    assert finished["pronunciation.pitch"].parent.span_id == finished["pronunciation.offline"].context.span_id
    assert finished["practice.store"].parent.span_id == finished["practice.score_attempt"].context.span_id


def test_an_incoming_traceparent_continues_the_callers_trace(
    client: TestClient, spans: InMemorySpanExporter
) -> None:
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    response = client.get("/healthz", headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"})
    assert response.status_code == 200
    server = next(s for s in spans.get_finished_spans() if s.name == "GET /healthz")
    assert format(server.context.trace_id, "032x") == trace_id
    assert response.headers["x-request-id"]


def test_unknown_paths_share_one_route_label(client: TestClient) -> None:
    before = _sample("sayzhong_http_requests_total", route="unmatched", method="GET", status="404")
    for i in range(3):
        assert client.get(f"/no/such/page/{i}").status_code == 404
    assert (
        _sample("sayzhong_http_requests_total", route="unmatched", method="GET", status="404") == before + 3
    )


def test_metrics_need_the_bearer_token(client: TestClient) -> None:
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"authorization": "Bearer wrong"}).status_code == 404
    ok = client.get("/metrics", headers={"authorization": f"Bearer {METRICS_TOKEN}"})
    assert ok.status_code == 200
    assert ok.headers["content-type"].startswith("text/plain")
    assert "sayzhong_http_requests_total" in ok.text


def test_metrics_report_business_and_security_figures_from_the_database(
    client: TestClient, ops_settings: Settings
) -> None:
    from sayzhong.accounts import sign_in as accounts
    from sayzhong.db import session_scope

    token = signed_in_learner("mei@example.org")
    signed_in_learner("li@example.org")
    with session_scope() as session:
        accounts.authenticate(
            session=session,
            email="mei@example.org",
            password="wrong-password-1",
            ip="127.0.0.1",
            user_agent="t",
        )
    assert _upload(client, ops_settings, token, synth_wav_bytes([2, 3])) == 201
    text = client.get("/metrics", headers={"authorization": f"Bearer {METRICS_TOKEN}"}).text
    assert 'sayzhong_users{role="learner"} 2.0' in text
    assert "sayzhong_attempts_stored 1.0" in text
    assert 'sayzhong_attempts_last_24h{engine="offline"} 1.0' in text
    assert "sayzhong_signups_last_24h 2.0" in text
    assert 'sayzhong_security_events_last_15m{action="sign_in.failed"} 1.0' in text
    assert "sayzhong_database_up 1.0" in text


def test_log_lines_are_json_with_trace_and_request_ids_and_no_personal_data(
    client: TestClient, ops_settings: Settings, log_lines: io.StringIO
) -> None:
    email = "private.person@example.org"
    token = signed_in_learner(email)
    assert _upload(client, ops_settings, token, synth_wav_bytes([2, 3])) == 201
    # A careless log call with personal data and secrets in it is scrubbed all the same.
    logging.getLogger("sayzhong.test").warning(
        "user %s signed in with password=%s token %s", email, PASSWORD, f"Bearer {token}"
    )
    client.cookies.clear()
    client.cookies.set(ops_settings.session_cookie_name, token)
    client.post("/auth/session", data={"ticket": "bogus"}, headers={"origin": ops_settings.app_url})

    raw = log_lines.getvalue()
    lines = [json.loads(line) for line in raw.splitlines() if line.strip()]
    access = [line for line in lines if line["logger"] == "sayzhong.access"]
    upload = next(line for line in access if line.get("route") == practice_routes.UPLOAD_ATTEMPT)
    assert upload["status"] == 201 and upload["method"] == "POST"
    assert len(upload["trace_id"]) == 32 and upload["request_id"] and "duration_ms" in upload
    assert len(upload["user_hash"]) == 12
    for secret in (email, PASSWORD, token, ops_settings.secret_key, METRICS_TOKEN):
        assert secret not in raw
    assert "[email]" in raw and "password=[redacted]" in raw


def test_security_events_form_their_own_log_stream_without_addresses(
    ops_settings: Settings, log_lines: io.StringIO
) -> None:
    from sayzhong.accounts import sign_in as accounts
    from sayzhong.db import session_scope

    load_all_models()
    SQLModel.metadata.create_all(get_engine())
    signed_in_learner("mei@example.org")
    with session_scope() as session:
        accounts.authenticate(
            session=session,
            email="mei@example.org",
            password="not-her-password",
            ip="203.0.113.77",
            user_agent="t",
        )
    lines = [json.loads(line) for line in log_lines.getvalue().splitlines() if line.strip()]
    security = [line for line in lines if line["logger"] == "sayzhong.security"]
    events = [line["event"] for line in security]
    assert "user.signed_up" in events and "sign_in.failed" in events
    failed = next(line for line in security if line["event"] == "sign_in.failed")
    assert failed["ip_prefix"] == "203.0.113.0/24"
    assert "mei@example.org" not in log_lines.getvalue() and "203.0.113.77" not in log_lines.getvalue()


def test_routes_inside_the_api_mount_keep_their_full_template(client: TestClient) -> None:
    before = _sample(
        "sayzhong_http_requests_total", route="/api/v1/attempts/{attempt_id:int}", method="GET", status="401"
    )
    assert client.get("/api/v1/attempts/12345").status_code == 401
    after = _sample(
        "sayzhong_http_requests_total", route="/api/v1/attempts/{attempt_id:int}", method="GET", status="401"
    )
    assert after == before + 1
