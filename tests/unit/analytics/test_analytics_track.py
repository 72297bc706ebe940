"""The analytics port: the local sink stores events; other sinks plug in; failures never propagate."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session

from sayzhong.analytics import service as analytics
from sayzhong.errors import ValidationError
from sayzhong.settings import Settings


@pytest.fixture(autouse=True)
def _settings(settings: Settings) -> Settings:
    return settings


def _consent(
    session: Session, *, user_id: int | None = None, visitor: str | None = None, yes: bool = True
) -> None:
    from sayzhong.privacy import consent

    consent.record_consent(
        session=session, visitor_id=visitor, user_id=user_id, analytics=yes, marketing=False, source="banner"
    )


def test_events_are_stored_locally_by_default(db_session: Session) -> None:
    _consent(db_session, user_id=42)
    _consent(db_session, visitor="anon-123-visitor-0001")
    analytics.track(
        session=db_session,
        user_id=None,
        event="signed_up",
        anonymous_id="anon-123-visitor-0001",
        properties={},
    )
    analytics.track(session=db_session, user_id=42, event="signed_up", properties={"method": "password"})
    db_session.flush()
    events = analytics.list_events(session=db_session, event="signed_up")
    assert [(e.distinct_id, e.properties) for e in events] == [
        ("42", {"method": "password"}),
        ("anon-123-visitor-0001", {}),
    ]
    assert events[0].created_at.tzinfo is not None


def test_nothing_is_stored_without_consent_or_after_a_refusal(db_session: Session) -> None:
    analytics.track(session=db_session, user_id=5, event="signed_up")
    _consent(db_session, user_id=6, yes=False)
    analytics.track(session=db_session, user_id=6, event="signed_up")
    analytics.track(
        session=db_session, user_id=None, event="signed_up", anonymous_id="never-asked-visitor-01"
    )
    db_session.flush()
    assert analytics.list_events(session=db_session) == []


@pytest.mark.parametrize("event", ["Signed Up", "", "x" * 65, "1st"])
def test_event_names_are_snake_case(db_session: Session, event: str) -> None:
    with pytest.raises(ValidationError):
        analytics.track(session=db_session, user_id=1, event=event)


def test_an_event_needs_someone(db_session: Session) -> None:
    with pytest.raises(ValidationError):
        analytics.track(session=db_session, user_id=None, event="signed_up")
    with pytest.raises(ValidationError):
        analytics.track(session=db_session, user_id=None, event="signed_up", anonymous_id="has spaces")


def test_a_configured_sink_receives_events(db_session: Session) -> None:
    captured: list[tuple[str, str, dict[str, Any]]] = []

    class ListSink:
        def capture(self, *, event: str, distinct_id: str, properties: dict[str, Any]) -> None:
            captured.append((event, distinct_id, properties))

    analytics.track(
        session=db_session, user_id=7, event="mic_check_passed", properties={"recordings": 2}, sink=ListSink()
    )
    assert captured == [("mic_check_passed", "7", {"recordings": 2})]
    db_session.flush()
    assert analytics.list_events(session=db_session) == []


def test_a_failing_sink_does_not_break_the_caller(
    db_session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    class BrokenSink:
        def capture(self, *, event: str, distinct_id: str, properties: dict[str, Any]) -> None:
            raise ConnectionError("posthog unreachable")

    analytics.track(session=db_session, user_id=7, event="onboarding_started", sink=BrokenSink())
    assert "analytics sink failed" in caplog.text


def test_erasure_and_retention_delete_stored_events(db_session: Session) -> None:
    from datetime import timedelta

    from sayzhong.analytics.models import AnalyticsEvent
    from sayzhong.db import utcnow

    _consent(db_session, user_id=5)
    _consent(db_session, user_id=6)
    analytics.track(session=db_session, user_id=5, event="signed_up")
    analytics.track(session=db_session, user_id=6, event="signed_up")
    db_session.add(
        AnalyticsEvent(event="signed_up", distinct_id="7", created_at=utcnow() - timedelta(days=400))
    )
    db_session.flush()
    assert analytics.erase_user_events(session=db_session, user_id=5) == 1
    assert analytics.purge_events(session=db_session) == 1
    assert [e.distinct_id for e in analytics.list_events(session=db_session)] == ["6"]


@pytest.mark.parametrize(
    ("event", "properties", "code"),
    [
        ("made_up_event", {}, "analytics_bad_event"),
        ("mic_check_passed", {"recordings": "two"}, "analytics_bad_property"),
        ("mic_check_passed", {"recordings": True}, "analytics_bad_property"),
        ("signed_up", {"method": "carrier-pigeon"}, "analytics_bad_property"),
        ("signed_up", {"email": "a@b.example"}, "analytics_unknown_property"),
        ("page_viewed", {}, "analytics_bad_property"),
        ("page_viewed", {"path": "/reset?token=abc"}, "analytics_bad_property"),
        ("experiment_exposed", {"key": "Headline Test", "variant": "b"}, "analytics_bad_property"),
        ("first_attempt_scored", {"pron": 101}, "analytics_bad_property"),
    ],
)
def test_only_catalogued_events_with_valid_properties_are_accepted(
    db_session: Session, event: str, properties: dict[str, Any], code: str
) -> None:
    _consent(db_session, user_id=3)
    with pytest.raises(ValidationError) as raised:
        analytics.track(session=db_session, user_id=3, event=event, properties=properties)
    assert raised.value.code == code
    db_session.flush()
    assert analytics.list_events(session=db_session) == []


def test_marketing_events_need_marketing_consent(db_session: Session) -> None:
    from sayzhong.privacy import consent

    consent.record_consent(
        session=db_session, visitor_id=None, user_id=8, analytics=True, marketing=False, source="banner"
    )
    consent.record_consent(
        session=db_session, visitor_id=None, user_id=9, analytics=True, marketing=True, source="banner"
    )
    for uid in (8, 9):
        analytics.track(
            session=db_session, user_id=uid, event="ad_conversion", properties={"channel": "paid_search"}
        )
        analytics.track(session=db_session, user_id=uid, event="onboarding_started")
    db_session.flush()
    assert sorted((e.event, e.distinct_id) for e in analytics.list_events(session=db_session)) == [
        ("ad_conversion", "9"),
        ("onboarding_started", "8"),
        ("onboarding_started", "9"),
    ]


def test_identify_merges_the_visitors_events_into_the_account(db_session: Session) -> None:
    visitor = "visitor-abcdefghijkl"
    _consent(db_session, visitor=visitor)
    analytics.track(
        session=db_session, user_id=None, anonymous_id=visitor, event="page_viewed", properties={"path": "/"}
    )
    _consent(db_session, user_id=11)
    analytics.identify(session=db_session, user_id=11, anonymous_id=visitor)
    analytics.track(session=db_session, user_id=11, event="signed_up", properties={"method": "password"})
    db_session.flush()
    assert sorted((e.event, e.distinct_id) for e in analytics.list_events(session=db_session)) == [
        ("page_viewed", "11"),
        ("signed_up", "11"),
    ]


def test_identify_without_the_accounts_consent_merges_nothing(db_session: Session) -> None:
    visitor = "visitor-mnopqrstuvwx"
    _consent(db_session, visitor=visitor)
    analytics.track(
        session=db_session, user_id=None, anonymous_id=visitor, event="page_viewed", properties={"path": "/"}
    )
    _consent(db_session, user_id=12, yes=False)
    analytics.identify(session=db_session, user_id=12, anonymous_id=visitor)
    db_session.flush()
    assert [e.distinct_id for e in analytics.list_events(session=db_session)] == [visitor]
