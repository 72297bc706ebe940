"""Cookie consent: append-only proof, GPC, 6-month and policy-version re-prompts, cross-device,
and the analytics gate (the beacon route records nothing without consent)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session, select
from starlette.testclient import TestClient

from sayzhong.analytics import service as analytics
from sayzhong.db import session_scope, utcnow
from sayzhong.privacy import consent
from sayzhong.privacy.models import ConsentRecord
from sayzhong.settings import Settings
from tests.factories import UserFactory

VISITOR = "visitor-abcdefghijklmnop"


def test_no_decision_asks_and_allows_nothing(db_session: Session) -> None:
    status = consent.consent_status(session=db_session, visitor_id=None, user_id=None, gpc=False)
    assert status.ask and not status.analytics and not status.marketing
    assert db_session.exec(select(ConsentRecord)).all() == []  # asking records nothing
    assert not consent.analytics_allowed(session=db_session, distinct_id=VISITOR)


def test_decisions_are_appended_and_the_latest_counts(db_session: Session) -> None:
    consent.record_consent(
        session=db_session, visitor_id=VISITOR, user_id=None, analytics=True, marketing=True, source="banner"
    )
    assert consent.analytics_allowed(session=db_session, distinct_id=VISITOR)
    consent.record_consent(
        session=db_session,
        visitor_id=VISITOR,
        user_id=None,
        analytics=False,
        marketing=False,
        source="settings",
    )
    assert not consent.analytics_allowed(session=db_session, distinct_id=VISITOR)  # withdrawal is immediate
    rows = db_session.exec(select(ConsentRecord)).all()
    assert [(r.analytics, r.source) for r in rows] == [(True, "banner"), (False, "settings")]
    assert all(r.policy_version >= 1 and r.banner_version == 1 for r in rows)


def test_gpc_is_a_refusal_and_a_later_missing_signal_is_not_consent(db_session: Session) -> None:
    consent.record_consent(
        session=db_session, visitor_id=VISITOR, user_id=None, analytics=True, marketing=True, source="banner"
    )
    status = consent.consent_status(session=db_session, visitor_id=VISITOR, user_id=None, gpc=True)
    assert not status.ask and not status.analytics and status.gpc_honoured
    later = consent.consent_status(session=db_session, visitor_id=VISITOR, user_id=None, gpc=False)
    assert not later.analytics and later.gpc_honoured and not later.ask
    # Even a forged "accept" sent with the GPC header is stored as a refusal.
    view = consent.record_consent(
        session=db_session,
        visitor_id=VISITOR,
        user_id=None,
        analytics=True,
        marketing=True,
        source="banner",
        gpc=True,
    )
    assert (view.analytics, view.marketing, view.gpc) == (False, False, True)


def test_reprompt_after_six_months(db_session: Session) -> None:
    consent.record_consent(
        session=db_session, visitor_id=VISITOR, user_id=None, analytics=True, marketing=False, source="banner"
    )
    db_session.execute(update(ConsentRecord).values(created_at=utcnow() - timedelta(days=190)))  # type: ignore[arg-type]
    status = consent.consent_status(session=db_session, visitor_id=VISITOR, user_id=None, gpc=False)
    assert status.ask and not status.analytics
    assert not consent.analytics_allowed(session=db_session, distinct_id=VISITOR)


def test_reprompt_when_the_cookie_policy_version_changes(db_session: Session) -> None:
    consent.record_consent(
        session=db_session, visitor_id=VISITOR, user_id=None, analytics=True, marketing=False, source="banner"
    )
    db_session.execute(update(ConsentRecord).values(policy_version=0))  # answered an older policy
    status = consent.consent_status(session=db_session, visitor_id=VISITOR, user_id=None, gpc=False)
    assert status.ask and not status.analytics


def test_a_users_choice_follows_them_and_do_not_sell_opts_out(
    db_session: Session, make_user: UserFactory
) -> None:
    user = make_user(analytics_consent=False)
    consent.record_consent(
        session=db_session,
        visitor_id=VISITOR,
        user_id=user.id,
        analytics=True,
        marketing=False,
        source="banner",
    )
    other_device = consent.consent_status(
        session=db_session, visitor_id="another-device-visitor-01", user_id=user.id, gpc=False
    )
    assert other_device.analytics and not other_device.ask
    consent.record_consent(
        session=db_session,
        visitor_id=None,
        user_id=user.id,
        analytics=True,
        marketing=True,
        source="do_not_sell",
    )
    status = consent.consent_status(session=db_session, visitor_id=VISITOR, user_id=user.id, gpc=False)
    assert not status.analytics and not status.marketing and status.gpc_honoured
    assert not consent.analytics_allowed(session=db_session, distinct_id=str(user.id))


def test_sign_up_carries_the_visitors_choice_to_the_account(
    db_session: Session, make_user: UserFactory
) -> None:
    consent.record_consent(
        session=db_session, visitor_id=VISITOR, user_id=None, analytics=True, marketing=False, source="banner"
    )
    user = make_user(analytics_consent=False)
    consent.record_sign_up(session=db_session, user_id=user.id, visitor_id=VISITOR)
    assert consent.analytics_allowed(session=db_session, distinct_id=str(user.id))
    assert consent.visitor_from_cookie_header(f"a=b; sz_consent={VISITOR}; c=d") == VISITOR
    assert consent.visitor_from_cookie_header("sz_consent=<script>") is None


def test_beacon_route_records_only_with_consent(settings: Settings) -> None:
    from sqlmodel import SQLModel

    from sayzhong.db import get_engine
    from sayzhong.http.app import create_http_app
    from sayzhong.models import load_all_models

    load_all_models()
    SQLModel.metadata.create_all(get_engine())
    client = TestClient(create_http_app())
    headers = {"origin": settings.app_url, "cookie": f"sz_consent={VISITOR}"}
    body = '{"event": "page_viewed", "path": "/signup"}'
    assert client.post("/analytics/capture", content=body, headers=headers).json() == {"recorded": False}
    with session_scope() as session:
        consent.record_consent(
            session=session,
            visitor_id=VISITOR,
            user_id=None,
            analytics=True,
            marketing=False,
            source="banner",
        )
    assert client.post("/analytics/capture", content=body, headers=headers).json() == {"recorded": True}
    assert (
        client.post("/analytics/capture", content=body, headers={"origin": "http://evil.test"}).status_code
        == 403
    )
    assert client.post("/analytics/capture", content="x" * 5000, headers=headers).status_code == 400
    with session_scope() as session:
        events = analytics.list_events(session=session, distinct_id=VISITOR)
    assert [(e.event, e.properties) for e in events] == [
        ("page_viewed", {"path": "/signup", "device": "desktop"})
    ]
