"""scripts/canary_check.py against real /metrics endpoints on loopback: a canary that errs or slows
down is rolled back, a healthy one promoted, an idle one left undecided (issue 16, change management).

Each endpoint is a local HTTP server whose counters are real prometheus_client metrics in a registry
of its own, advanced between the script's two scrapes exactly as a serving revision's would be.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from sayzhong.ops.metrics import LATENCY_BUCKETS
from sayzhong.settings import REPO_ROOT

TOKEN = "canary-token-0123456789"


@pytest.fixture
def canary_check(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(REPO_ROOT / "scripts"))
    return importlib.import_module("canary_check")


class Revision:
    """One revision's metrics: the same families and labels the app exports."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "sayzhong_http_requests_total", "", ["route", "method", "status"], registry=self.registry
        )
        self.duration = Histogram(
            "sayzhong_http_request_duration_seconds",
            "",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.scrapes = 0
        self.after_first_scrape: Callable[[], None] = lambda: None

    def serve(
        self, n: int, *, status: str = "200", seconds: float = 0.02, route: str = "/api/v1/progress"
    ) -> None:
        for _ in range(n):
            self.requests.labels(route, "GET", status).inc()
            self.duration.labels(route, "GET").observe(seconds)


@pytest.fixture
def endpoints() -> Iterator[Callable[[Revision], str]]:
    servers: list[ThreadingHTTPServer] = []

    def start(revision: Revision) -> str:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.headers.get("authorization") != f"Bearer {TOKEN}":
                    self.send_error(404)
                    return
                body = generate_latest(revision.registry)
                revision.scrapes += 1
                if revision.scrapes == 1:
                    revision.after_first_scrape()  # traffic during the window
                self.send_response(200)
                self.send_header("content-type", "text/plain; version=0.0.4")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: object) -> None:
                return

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/metrics"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _run(canary_check: ModuleType, canary: str, stable: str, *extra: str) -> int:
    return int(
        canary_check.main(["--canary", canary, "--stable", stable, "--token", TOKEN, "--window", "0", *extra])
    )


def test_a_canary_answering_errors_is_rolled_back(
    canary_check: ModuleType, endpoints: Callable[[Revision], str], capsys: pytest.CaptureFixture[str]
) -> None:
    canary, stable = Revision(), Revision()
    canary.serve(1000)  # before the window: history that must not count
    stable.serve(5000)
    canary.after_first_scrape = lambda: (canary.serve(180), canary.serve(20, status="500"))
    stable.after_first_scrape = lambda: (stable.serve(1990), stable.serve(10, status="503"))
    assert _run(canary_check, endpoints(canary), endpoints(stable)) == canary_check.ROLL_BACK
    out = capsys.readouterr().out
    assert "ROLL BACK" in out and "canary error ratio 10.00% vs stable 0.50%" in out


def test_a_slow_canary_is_rolled_back(canary_check: ModuleType, endpoints: Callable[[Revision], str]) -> None:
    canary, stable = Revision(), Revision()
    canary.after_first_scrape = lambda: (canary.serve(150), canary.serve(50, seconds=2.0))
    stable.after_first_scrape = lambda: stable.serve(2000)
    assert _run(canary_check, endpoints(canary), endpoints(stable)) == canary_check.ROLL_BACK


def test_a_healthy_canary_is_promoted_and_health_checks_do_not_count(
    canary_check: ModuleType, endpoints: Callable[[Revision], str], capsys: pytest.CaptureFixture[str]
) -> None:
    canary, stable = Revision(), Revision()
    canary.serve(500, status="500")  # errors before the window (an earlier bad minute): not judged now

    def canary_traffic() -> None:
        canary.serve(199)
        canary.serve(1, status="500")  # 0.5 %: under the 1 % floor
        canary.serve(300, status="503", route="/readyz")  # a replica warming up: not user traffic

    canary.after_first_scrape = canary_traffic
    stable.after_first_scrape = lambda: stable.serve(2000)
    assert _run(canary_check, endpoints(canary), endpoints(stable)) == canary_check.PROMOTE
    assert "PROMOTE" in capsys.readouterr().out


def test_too_little_canary_traffic_gives_no_verdict(
    canary_check: ModuleType, endpoints: Callable[[Revision], str]
) -> None:
    canary, stable = Revision(), Revision()
    canary.after_first_scrape = lambda: canary.serve(10, status="500")
    stable.after_first_scrape = lambda: stable.serve(2000)
    assert _run(canary_check, endpoints(canary), endpoints(stable)) == canary_check.NO_VERDICT


def test_an_unreadable_canary_is_rolled_back_and_an_unreadable_stable_judged_on_the_floor(
    canary_check: ModuleType, endpoints: Callable[[Revision], str]
) -> None:
    stable = Revision()
    stable_url = endpoints(stable)
    assert _run(canary_check, "http://127.0.0.1:9/metrics", stable_url) == canary_check.ROLL_BACK
    canary = Revision()
    canary.after_first_scrape = lambda: canary.serve(200)
    assert _run(canary_check, endpoints(canary), "http://127.0.0.1:9/metrics") == canary_check.PROMOTE


def test_the_script_runs_as_the_runbook_calls_it(endpoints: Callable[[Revision], str]) -> None:
    canary, stable = Revision(), Revision()
    canary.after_first_scrape = lambda: canary.serve(100, status="500")
    stable.after_first_scrape = lambda: stable.serve(100)
    done = subprocess.run(
        [
            sys.executable,
            str(REPO_ROOT / "scripts/canary_check.py"),
            "--canary",
            endpoints(canary),
            "--stable",
            endpoints(stable),
            "--token",
            TOKEN,
            "--window",
            "0",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "ROLL BACK" in done.stdout
