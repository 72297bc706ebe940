"""Across processes: metrics from several workers merge into one scrape, and spans reach a real
OTLP/HTTP collector peer (a local server decoding the protobuf export requests)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from sayzhong.settings import REPO_ROOT

WORKER = """
import os, sys
from sayzhong.ops import metrics
metrics.HTTP_REQUESTS.labels("/api/v1/me", "GET", "200").inc(int(sys.argv[1]))
metrics.WEBSOCKET_CONNECTIONS.inc(2)
if sys.argv[2] == "exit":
    metrics.mark_worker_dead()
"""
SCRAPE = """
from sayzhong.ops.metrics import render_metrics
print(render_metrics()[0].decode())
"""


def _python(code: str, *args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_workers_metrics_are_summed_and_dead_workers_leave_the_live_gauge(tmp_path: Path) -> None:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    _python(WORKER, "3", "stay", env=env)
    _python(WORKER, "4", "exit", env=env)
    text = _python(SCRAPE, env=env)
    assert 'sayzhong_http_requests_total{method="GET",route="/api/v1/me",status="200"} 7.0' in text
    # Two workers each opened two sockets; the one that exited is no longer counted.
    assert "sayzhong_websocket_connections 2.0" in text


class _Collector(BaseHTTPRequestHandler):
    received: list[ExportTraceServiceRequest]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        type(self).received.append(request)
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.end_headers()
        self.wfile.write(b"")

    def log_message(self, *_args: object) -> None:
        return


@pytest.fixture
def otlp_collector() -> Iterator[tuple[str, list[ExportTraceServiceRequest]]]:
    handler = type("Handler", (_Collector,), {"received": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler.received
    server.shutdown()


SCORE_AND_EXIT = """
import logging
from opentelemetry import trace
from sayzhong.ops.telemetry import start_telemetry
from sayzhong.pronunciation.service import assess_pronunciation
from tests.support.pron_synth import synth_wav_bytes

provider = start_telemetry(role="web")
with trace.get_tracer("probe").start_as_current_span("probe.request"):
    result = assess_pronunciation(audio=synth_wav_bytes([2, 3]), text="你好", engine="azure")
    logging.getLogger("probe").warning("scored with fallback %s", result["AzureFallbackReason"])
provider.shutdown()
"""


def test_spans_of_a_scoring_reach_the_otlp_collector_and_match_the_log_trace_id(
    otlp_collector: tuple[str, list[ExportTraceServiceRequest]], tmp_path: Path
) -> None:
    endpoint, received = otlp_collector
    env = {
        **os.environ,
        "ENV": "test",
        "DATA_DIR": str(tmp_path),
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_SERVICE_NAME": "sayzhong-test",
        "LOG_FORMAT": "json",
    }
    done = subprocess.run(
        [sys.executable, "-c", SCORE_AND_EXIT],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    spans = {}
    services = set()
    for request in received:
        for resource_spans in request.resource_spans:
            for attr in resource_spans.resource.attributes:
                if attr.key == "service.name":
                    services.add(attr.value.string_value)
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    spans[span.name] = span
    assert services == {"sayzhong-test"}
    expected = {
        "probe.request",
        "audio.decode",
        "pronunciation.offline",
        "pronunciation.pitch",
        "pronunciation.align",
        "pronunciation.classify",
    }
    assert expected <= set(spans)
    trace_ids = {spans[name].trace_id.hex() for name in expected}
    assert len(trace_ids) == 1
    assert spans["pronunciation.offline"].parent_span_id == spans["probe.request"].span_id
    log_line = next(json.loads(line) for line in done.stderr.splitlines() if '"logger": "probe"' in line)
    assert log_line["trace_id"] == trace_ids.pop()
    assert log_line["msg"] == "scored with fallback not_configured"
