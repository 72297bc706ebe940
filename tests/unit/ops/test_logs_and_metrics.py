"""Log scrubbing and formatting, the Reflex metrics bridge and who may read /metrics (pure)."""

from __future__ import annotations

import io
import json
import logging

import pytest
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import REGISTRY
from starlette.requests import Request

from sayzhong.http.observability import metrics_allowed, route_label
from sayzhong.ops.logs import JsonFormatter, Redactor, bind, configure_logging, hash_user, log_context
from sayzhong.ops.reflex_bridge import PrometheusMeterProvider
from sayzhong.settings import Settings, reset_settings_cache


@pytest.mark.parametrize(
    ("raw", "scrubbed"),
    [
        ("sign-in for mei.li+tones@example.org failed", "sign-in for [email] failed"),
        ("Authorization: Bearer abc.def-ghi_123456", "Authorization: [redacted]"),
        ("calling with bearer Zm9vYmFyYmF6cXV4", "calling with bearer [redacted]"),
        ("password=hunter2hunter2 next", "password=[redacted] next"),
        ('{"api_key": "k-123456789"}', '{"api_key": [redacted]}'),
        ("stripe key sk_live_51HxYzAbCdEfGh", "stripe key [redacted-key]"),
        ("card 4242 4242 4242 4242 declined", "card [number] declined"),
        ("scored 12 syllables in 35 ms", "scored 12 syllables in 35 ms"),
    ],
)
def test_personal_data_and_secrets_are_scrubbed(raw: str, scrubbed: str) -> None:
    assert Redactor()(raw) == scrubbed


def test_configured_secret_values_are_scrubbed_wherever_they_appear() -> None:
    redact = Redactor(("an-azure-speech-key-value", "short"))
    assert redact("url?x=an-azure-speech-key-value&y=1") == "url?x=[redacted]&y=1"
    assert redact("short words stay") == "short words stay"  # too short to be a secret worth hiding


def test_user_hash_is_keyed_and_stable() -> None:
    assert hash_user(42, key="k1") == hash_user(42, key="k1")
    assert hash_user(42, key="k1") != hash_user(42, key="k2")
    assert hash_user(42, key="k1") != hash_user(43, key="k1")
    assert len(hash_user(42, key="k1")) == 12


def test_alembic_start_up_chatter_stays_out_of_the_log_but_migrations_are_logged(
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        configure_logging(Settings(log_level="INFO", log_format="json"))
        logging.getLogger("alembic.runtime.plugins").info("setup plugin alembic.autogenerate.schemas")
        logging.getLogger("alembic.runtime.migration").info("Running upgrade a -> b")
        logging.getLogger("alembic.runtime.plugins").warning("a plugin failed")
        reflex_app = logging.getLogger("reflex.app")
        reflex_app.warning("Page home is being redefined with the same component.")
        reflex_app.warning("Page /broken has no component to render.")
    finally:
        for handler in list(root.handlers):
            if handler not in handlers:
                root.removeHandler(handler)
        root.setLevel(level)
    messages = [json.loads(line)["msg"] for line in capsys.readouterr().err.splitlines()]
    assert messages == [
        "Running upgrade a -> b",
        "a plugin failed",
        "Page /broken has no component to render.",
    ]


def test_json_lines_carry_trace_context_fields_and_scrubbed_exceptions() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter(Redactor(("the-secret-key-value",))))
    logger = logging.getLogger("sayzhong.unit-probe")
    logger.addHandler(handler)
    logger.propagate = False
    token = log_context.set(None)
    try:
        bind(request_id="req-12345678", route="/api/v1/me")
        with TracerProvider().get_tracer("t").start_as_current_span("s") as span:
            try:
                raise ValueError("bad login for ann@example.org with the-secret-key-value")
            except ValueError:
                logger.exception("failed", extra={"duration_ms": 3.5, "status": 500})
        trace_id = format(span.get_span_context().trace_id, "032x")
    finally:
        log_context.reset(token)
        logger.removeHandler(handler)
    line = json.loads(stream.getvalue())
    assert line["trace_id"] == trace_id and line["request_id"] == "req-12345678"
    assert line["route"] == "/api/v1/me" and line["duration_ms"] == 3.5 and line["status"] == 500
    assert line["level"] == "error" and "ValueError" in line["exc"]
    assert "ann@example.org" not in line["exc"] and "the-secret-key-value" not in line["exc"]


def test_reflex_instruments_write_into_prometheus_metrics() -> None:
    meter = PrometheusMeterProvider().get_meter("reflex", "0.10")
    name = "state.practice_state.submit_take"
    before = (
        REGISTRY.get_sample_value(
            "sayzhong_event_handler_duration_seconds_count", {"handler": name, "outcome": "ok"}
        )
        or 0.0
    )
    meter.create_histogram("reflex.event.duration").record(0.02, {"reflex.event.name": name})
    meter.create_histogram("reflex.event.duration").record(
        0.5, {"reflex.event.name": name, "error.type": "ValueError"}
    )
    connections = REGISTRY.get_sample_value("sayzhong_websocket_connections") or 0.0
    meter.create_up_down_counter("reflex.websocket.connections").add(1)
    meter.create_histogram("reflex.websocket.message.size").record(512, {})  # not charted: dropped
    assert (
        REGISTRY.get_sample_value(
            "sayzhong_event_handler_duration_seconds_count", {"handler": name, "outcome": "ok"}
        )
        == before + 1
    )
    assert (
        REGISTRY.get_sample_value(
            "sayzhong_event_handler_duration_seconds_count", {"handler": name, "outcome": "ValueError"}
        )
        >= 1
    )
    assert REGISTRY.get_sample_value("sayzhong_websocket_connections") == connections + 1


def _request(host: str, authorization: str | None = None) -> Request:
    headers = [(b"authorization", authorization.encode())] if authorization else []
    return Request(
        {"type": "http", "method": "GET", "path": "/metrics", "headers": headers, "client": (host, 5)}
    )


@pytest.mark.parametrize(
    ("env", "token", "host", "authorization", "allowed"),
    [
        ("dev", "", "127.0.0.1", None, True),
        ("dev", "", "10.0.0.7", None, False),
        ("prod", "", "127.0.0.1", None, False),
        ("dev", "t0ken-t0ken-t0ken", "127.0.0.1", None, False),
        ("dev", "t0ken-t0ken-t0ken", "10.0.0.7", "Bearer t0ken-t0ken-t0ken", True),
        ("dev", "t0ken-t0ken-t0ken", "10.0.0.7", "Bearer t0ken", False),
    ],
)
def test_who_may_read_metrics(
    monkeypatch: pytest.MonkeyPatch, env: str, token: str, host: str, authorization: str | None, allowed: bool
) -> None:
    monkeypatch.setenv("ENV", env)
    monkeypatch.setenv("METRICS_TOKEN", token)
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("SMTP_HOST", "smtp.example.org")
    reset_settings_cache()
    try:
        assert metrics_allowed(_request(host, authorization)) is allowed
    finally:
        reset_settings_cache()


def test_requests_without_a_matched_route_get_one_label() -> None:
    assert route_label({"type": "http"}) == "unmatched"
    assert isinstance(Settings, type)
