"""The attribution route sets the necessary cookie; sign-up stores first/last touch; marketing tags
are validated against the allow-list, audited, and served per page; the CSP allows their hosts."""

from __future__ import annotations

import pytest
from sqlmodel import Session, SQLModel, select
from starlette.testclient import TestClient

from sayzhong import routes
from sayzhong.analytics import attribution, tags
from sayzhong.audit import AuditEvent
from sayzhong.db import utcnow
from sayzhong.errors import NotFoundError, ValidationError
from sayzhong.settings import Settings

HOSTS = ("ads.example.com", "127.0.0.1:9999")


def _client() -> TestClient:
    from sayzhong.db import get_engine
    from sayzhong.http.app import create_http_app
    from sayzhong.models import load_all_models

    load_all_models()
    SQLModel.metadata.create_all(get_engine())
    return TestClient(create_http_app())


def test_the_touch_route_sets_a_signed_cookie_then_keeps_the_first_touch(settings: Settings) -> None:
    client = _client()
    headers = {"origin": settings.app_url}
    body = {
        "path": "/",
        "referrer": "",
        "query": {"utm_source": "google", "utm_medium": "cpc", "utm_campaign": "x1"},
    }
    answer = client.post(routes.ATTRIBUTION_TOUCH, json=body, headers=headers)
    assert answer.json() == {"recorded": True}
    cookie = answer.cookies.get(attribution.COOKIE_NAME)
    assert cookie and "httponly" in answer.headers["set-cookie"].lower()
    first, last = attribution.decode_cookie(cookie, secret=settings.secret_key) or (None, None)
    assert first is not None and first.campaign == "x1" and last == first
    # A plain later visit changes nothing; a different site becomes the last touch.
    again = {"cookie": f"{attribution.COOKIE_NAME}={cookie}", **headers}
    assert client.post(routes.ATTRIBUTION_TOUCH, json={"path": "/pricing"}, headers=again).json() == {
        "recorded": False
    }
    referred = client.post(
        routes.ATTRIBUTION_TOUCH, json={"path": "/", "referrer": "https://blog.example.org/p"}, headers=again
    )
    updated = attribution.decode_cookie(
        referred.cookies.get(attribution.COOKIE_NAME), secret=settings.secret_key
    )
    assert updated is not None and updated[0] == first and updated[1].channel == "referral"


def test_the_touch_route_refuses_cross_site_and_bad_bodies(settings: Settings) -> None:
    client = _client()
    assert (
        client.post(routes.ATTRIBUTION_TOUCH, json={}, headers={"origin": "https://evil.example"}).status_code
        == 403
    )
    ok = {"origin": settings.app_url}
    assert client.post(routes.ATTRIBUTION_TOUCH, content="[1]", headers=ok).status_code == 400
    assert client.post(routes.ATTRIBUTION_TOUCH, content="x" * 5000, headers=ok).status_code == 400


def test_sign_up_stores_first_and_last_touch(db_session: Session, settings: Settings, make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user()
    ad = attribution.touch_from_visit(
        query={"utm_source": "google", "utm_medium": "cpc", "utm_campaign": "spring"},
        referrer="",
        path="/",
        own_host="localhost",
        now=utcnow(),
    )
    mail = attribution.touch_from_visit(
        query={"utm_source": "news", "utm_medium": "email", "utm_campaign": "dec"},
        referrer="",
        path="/pricing",
        own_host="localhost",
        now=utcnow(),
    )
    cookie = attribution.encode_cookie(first=ad, last=mail, secret=settings.secret_key)
    first = attribution.attach_to_account(
        session=db_session, user_id=user.id, cookie_header=f"sz_src={cookie}"
    )
    assert first.campaign == "spring"
    views = attribution.account_attribution(session=db_session, user_id=user.id)
    assert [(v.touch, v.channel, v.campaign, v.landing_path) for v in views] == [
        ("first", "paid_search", "spring", "/"),
        ("last", "email", "dec", "/pricing"),
    ]
    other = make_user()
    assert (
        attribution.attach_to_account(
            session=db_session, user_id=other.id, cookie_header="sz_src=forged.x"
        ).channel
        == "direct"
    )


def test_tags_are_validated_audited_and_served_per_page(db_session: Session, make_user) -> None:  # type: ignore[no-untyped-def]
    staff = make_user()
    for url, code in (
        ("http://ads.example.com/t.js", "tag_bad_url"),
        ("https://evil.example/t.js", "tag_host_not_allowed"),
        ("https://user:pw@ads.example.com/t.js", "tag_bad_url"),
        ("javascript:alert(1)", "tag_bad_url"),
    ):
        with pytest.raises(ValidationError) as raised:
            tags.save_tag(
                session=db_session, actor_id=staff.id, name="x", script_url=url, pages="*", hosts=HOSTS
            )
        assert raised.value.code == code
    with pytest.raises(ValidationError):
        tags.save_tag(
            session=db_session,
            actor_id=staff.id,
            name="x",
            script_url="https://ads.example.com/t.js",
            pages="signup",
            hosts=HOSTS,
        )
    everywhere = tags.save_tag(
        session=db_session,
        actor_id=staff.id,
        name="Ads",
        script_url="https://ads.example.com/t.js",
        pages="*",
        hosts=HOSTS,
    )
    signup = tags.save_tag(
        session=db_session,
        actor_id=staff.id,
        name="Sign-up pixel",
        script_url="http://127.0.0.1:9999/p.js",
        pages="/signup, /",
        hosts=HOSTS,
    )
    assert tags.scripts_for_page(session=db_session, path="/signup", hosts=HOSTS) == [
        everywhere.script_url,
        signup.script_url,
    ]
    assert tags.scripts_for_page(session=db_session, path="/practice", hosts=HOSTS) == [everywhere.script_url]
    tags.set_enabled(session=db_session, actor_id=staff.id, tag_id=everywhere.id, enabled=False, hosts=HOSTS)
    assert tags.scripts_for_page(session=db_session, path="/practice", hosts=HOSTS) == []
    # A host later removed from the allow-list is not served even if the tag is on.
    assert tags.scripts_for_page(session=db_session, path="/signup", hosts=("ads.example.com",)) == []
    tags.delete_tag(session=db_session, actor_id=staff.id, tag_id=signup.id)
    with pytest.raises(NotFoundError):
        tags.delete_tag(session=db_session, actor_id=staff.id, tag_id=signup.id)
    actions = db_session.exec(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions.count("marketing.tag_saved") == 3 and actions.count("marketing.tag_deleted") == 1


def test_the_csp_allows_exactly_the_allow_listed_tag_hosts() -> None:
    from sayzhong.http.security import content_security_policy

    origins = tags.tag_origins("ads.example.com, 127.0.0.1:9999, bad host")
    assert origins == ("https://ads.example.com", "http://127.0.0.1:9999")
    policy = content_security_policy(backend_origin="http://localhost:3000", tag_origins=origins)
    script_src = next(p for p in policy.split("; ") if p.startswith("script-src"))
    assert script_src == "script-src 'self' https://ads.example.com http://127.0.0.1:9999"
    assert "unsafe" not in script_src
    assert "script-src 'self';" in content_security_policy(backend_origin="http://localhost:3000") + ";"


def test_record_sign_up_stores_the_source_merges_the_visitor_and_emits_signed_up(
    db_session: Session,
    settings: Settings,
    make_user,  # type: ignore[no-untyped-def]
) -> None:
    from sayzhong.analytics import service as analytics
    from sayzhong.privacy import consent

    visitor = "visitor-signup-0000001"
    consent.record_consent(
        session=db_session, visitor_id=visitor, user_id=None, analytics=True, marketing=False, source="banner"
    )
    analytics.track(
        session=db_session, user_id=None, anonymous_id=visitor, event="page_viewed", properties={"path": "/"}
    )
    ad = attribution.touch_from_visit(
        query={"utm_source": "google", "utm_medium": "cpc", "utm_campaign": "spring"},
        referrer="",
        path="/",
        own_host="localhost",
        now=utcnow(),
    )
    source = attribution.encode_cookie(first=ad, last=ad, secret=settings.secret_key)
    cookies = f"sz_consent={visitor}; sz_src={source}"
    user = make_user()
    consent.link_visitor_to_user(session=db_session, visitor_id=visitor, user_id=user.id)
    analytics.record_sign_up(session=db_session, user_id=user.id, method="oidc", cookie_header=cookies)
    db_session.flush()
    events = analytics.list_events(session=db_session, distinct_id=str(user.id))
    assert [(e.event, e.properties) for e in events] == [
        ("signed_up", {"method": "oidc", "channel": "paid_search", "campaign": "spring"}),
        ("page_viewed", {"path": "/"}),
    ]
    assert [v.campaign for v in attribution.account_attribution(session=db_session, user_id=user.id)] == [
        "spring",
        "spring",
    ]
