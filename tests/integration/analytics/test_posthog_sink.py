"""The PostHog adapter through the real `posthog` library against a local capture server
(tests/support/posthog_capture.py): batching, identify/alias, the consent gate, and a dead PostHog
that must neither slow requests nor grow memory (bounded queue, drops counted)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from prometheus_client import REGISTRY
from sqlmodel import Session

from sayzhong import wiring
from sayzhong.analytics import service as analytics
from sayzhong.integrations import posthog_sink
from sayzhong.integrations.posthog_sink import PostHogSink
from sayzhong.privacy import consent
from sayzhong.settings import Settings, get_settings, reset_settings_cache
from tests.support.posthog_capture import HangingServer, PostHogCapture

VISITOR = "visitor-posthog-000001"


@pytest.fixture(scope="module")
def capture() -> Iterator[PostHogCapture]:
    server = PostHogCapture().start()
    yield server
    server.stop()


@pytest.fixture
def posthog_settings(
    settings: Settings, capture: PostHogCapture, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    capture.reset()
    monkeypatch.setenv("POSTHOG_API_KEY", "phc_test_key")
    monkeypatch.setenv("POSTHOG_HOST", capture.url)
    reset_settings_cache()
    yield get_settings()
    posthog_sink.shutdown_clients()
    reset_settings_cache()


def _dropped(reason: str) -> float:
    return REGISTRY.get_sample_value("sayzhong_analytics_events_dropped_total", {"reason": reason}) or 0.0


def _consent(
    session: Session, *, user_id: int | None = None, visitor: str | None = None, yes: bool = True
) -> None:
    consent.record_consent(
        session=session, visitor_id=visitor, user_id=user_id, analytics=yes, marketing=False, source="banner"
    )


def _flush(settings: Settings) -> None:
    posthog_sink.shared_client(
        settings.posthog_api_key, settings.posthog_host, settings.posthog_max_queue_size
    ).flush()


def test_wiring_picks_posthog_only_when_key_and_host_are_set(
    posthog_settings: Settings, db_session: Session
) -> None:
    from sayzhong.analytics.offline import DatabaseAnalyticsSink, FanOutSink
    from sayzhong.privacy.consent import ConsentGatedSink

    assert wiring.posthog_configured(posthog_settings)
    sink = wiring.get_analytics_sink(posthog_settings, session=db_session)
    assert isinstance(sink, ConsentGatedSink) and isinstance(sink.inner, FanOutSink)
    assert [type(s) for s in sink.inner.sinks] == [DatabaseAnalyticsSink, PostHogSink]
    offline = Settings(posthog_api_key="phc_x", posthog_host="")
    assert not wiring.posthog_configured(offline)
    local = wiring.get_analytics_sink(offline, session=db_session)
    assert isinstance(local, ConsentGatedSink) and isinstance(local.inner, DatabaseAnalyticsSink)


def test_events_arrive_batched_with_the_account_id_after_identify(
    posthog_settings: Settings, capture: PostHogCapture, db_session: Session
) -> None:
    _consent(db_session, visitor=VISITOR)
    analytics.track(
        session=db_session, user_id=None, anonymous_id=VISITOR, event="page_viewed", properties={"path": "/"}
    )
    consent.link_visitor_to_user(session=db_session, visitor_id=VISITOR, user_id=41)
    analytics.identify(session=db_session, user_id=41, anonymous_id=VISITOR)
    analytics.track(session=db_session, user_id=41, event="signed_up", properties={"method": "password"})
    analytics.track(session=db_session, user_id=41, event="onboarding_started")
    _flush(posthog_settings)

    events = capture.wait_for(lambda evs: len(evs) >= 4)
    assert [(e["event"], e["distinct_id"]) for e in events] == [
        ("page_viewed", VISITOR),
        ("$create_alias", VISITOR),
        ("signed_up", "41"),
        ("onboarding_started", "41"),
    ]
    assert events[1]["properties"]["alias"] == "41"
    assert events[0]["properties"]["$process_person_profile"] is False
    assert events[2]["properties"]["method"] == "password"
    # Batched: one POST to /batch/ carried them all, with the project key.
    assert len(capture.batches) == 1
    assert capture.batches[0]["path"] == "/batch/"
    assert capture.batches[0]["body"]["api_key"] == "phc_test_key"
    # The local table (what the funnel pages read) has the same events, merged into the account.
    db_session.flush()
    assert sorted(e.event for e in analytics.list_events(session=db_session, distinct_id="41")) == [
        "onboarding_started",
        "page_viewed",
        "signed_up",
    ]


def test_without_consent_posthog_receives_nothing(
    posthog_settings: Settings, capture: PostHogCapture, db_session: Session
) -> None:
    _consent(db_session, user_id=52, yes=False)
    analytics.track(session=db_session, user_id=52, event="signed_up", properties={"method": "password"})
    analytics.identify(session=db_session, user_id=52, anonymous_id=VISITOR)
    analytics.track(
        session=db_session,
        user_id=None,
        anonymous_id="never-asked-visitor-9",
        event="page_viewed",
        properties={"path": "/"},
    )
    # A consented event afterwards proves the pipe works and that the refused ones were never queued.
    _consent(db_session, user_id=53)
    analytics.track(session=db_session, user_id=53, event="onboarding_started")
    _flush(posthog_settings)
    events = capture.wait_for(lambda evs: len(evs) >= 1)
    assert [(e["event"], e["distinct_id"]) for e in events] == [("onboarding_started", "53")]


def test_a_hanging_posthog_never_blocks_capture_and_the_queue_stays_bounded(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = HangingServer()
    # Long enough that the sender thread stays stuck on its first batch for the whole test.
    monkeypatch.setattr(posthog_sink, "TIMEOUT_S", 8.0)
    sink = PostHogSink(api_key="phc_dead", host=dead.url, max_queue_size=10)
    try:
        before = _dropped("queue_full")
        sink.capture(event="onboarding_started", distinct_id="7", properties={})
        assert dead.wait_accepted(1)  # the sender thread now waits on the dead server
        for n in range(100):
            sink.capture(event="onboarding_started", distinct_id=str(n + 100), properties={})
        # Every call returned at once (it only enqueues); the queue holds its bound and no more.
        assert sink.client.queue.qsize() == 10
        assert _dropped("queue_full") - before == 90
    finally:
        # Empty the queue, then let the stuck batch fail, so nothing of this test is counted later.
        queue = sink.client.queue
        while not queue.empty():
            queue.get_nowait()
            queue.task_done()
        failed_before = _dropped("send_failed")
        dead.stop()
        deadline = time.monotonic() + 20
        while _dropped("send_failed") == failed_before and time.monotonic() < deadline:
            time.sleep(0.05)
        posthog_sink.shutdown_clients()


def test_a_failing_posthog_gives_up_after_retries_and_counts_the_batch(
    settings: Settings, capture: PostHogCapture
) -> None:
    capture.reset(mode="fail")
    sink = PostHogSink(api_key="phc_failing", host=capture.url, max_queue_size=100)
    before = _dropped("send_failed")
    try:
        for n in range(3):
            sink.capture(event="onboarding_started", distinct_id=str(n + 1), properties={})
        sink.client.flush()
        # flush() returns when the queue is drained, which includes the retries and on_error.
        assert capture.requests == 1 + posthog_sink.MAX_RETRIES
        assert _dropped("send_failed") - before == 3
        assert capture.batches == []
    finally:
        sink.client.shutdown()
        posthog_sink.shutdown_clients()
        capture.reset()


def test_erasure_deletes_the_person_through_posthogs_api(settings: Settings) -> None:
    import json
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Thread

    seen: list[tuple[str, str, dict[str, object]]] = []

    class Api(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append((self.path, self.headers["Authorization"], body))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'{"persons_found": 1, "persons_deleted": 1}')

        def log_message(self, format: str, *args: object) -> None:
            return

    api = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    Thread(target=api.serve_forever, daemon=True).start()
    host = f"http://127.0.0.1:{api.server_address[1]}"
    try:
        unconfigured = PostHogSink(api_key="phc_e", host=host)
        with pytest.raises(posthog_sink.PostHogDeletionError):
            unconfigured.delete_person(distinct_id="5")
        sink = PostHogSink(api_key="phc_e", host=host, personal_api_key="phx_personal", project_id="12")
        assert sink.delete_person(distinct_id="5") == 1
        assert seen == [
            (
                "/api/projects/12/persons/bulk_delete/?delete_events=true",
                "Bearer phx_personal",
                {"distinct_ids": ["5"], "delete_events": True},
            )
        ]
    finally:
        api.shutdown()
        api.server_close()
        posthog_sink.shutdown_clients()
