"""The running app (production build) measures its Reflex handlers, websockets and HTTP routes, and
its log stream carries no e-mail address or password of a learner who signed up in the browser."""

from __future__ import annotations

import json

from playwright.sync_api import Page

from e2e.conftest import RESULTS, RunningApp
from e2e.helpers import STRONG_PASSWORD, expect_onboarding, read_metrics, sign_up, unique_email


def test_handlers_websockets_and_routes_are_measured_and_logs_hold_no_personal_data(
    app: RunningApp, page: Page
) -> None:
    email = unique_email("observed")
    sign_up(page, app.url, email=email)
    expect_onboarding(page, app.url, "Mei")

    text = read_metrics(app.url)
    prefix = "sayzhong_event_handler_duration_seconds_count{"
    handler_counts = [line for line in text.splitlines() if line.startswith(prefix)]
    assert handler_counts, "no Reflex event handler was measured"
    assert any(float(line.rsplit(" ", 1)[1]) > 0 for line in handler_counts)
    assert any(
        line.startswith("sayzhong_websocket_connections ") and float(line.split()[1]) >= 1
        for line in text.splitlines()
    )
    assert 'sayzhong_http_requests_total{method="POST",route="/auth/session",status="303"}' in text

    log = (RESULTS / "app.log").read_text(errors="replace")
    json_lines = [json.loads(line) for line in log.splitlines() if line.startswith('{"ts"')]
    assert any(line.get("route") == "/auth/session" and line.get("trace_id") for line in json_lines)
    assert email not in log
    assert STRONG_PASSWORD not in log
