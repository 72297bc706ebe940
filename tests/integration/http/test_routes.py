"""Server routes: probes, security headers, the session-cookie hand-off and sign-out."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import SQLModel
from starlette.testclient import TestClient

from sayzhong import routes
from sayzhong.accounts import sign_in
from sayzhong.db import get_engine, session_scope
from sayzhong.http.app import create_http_app, security_headers
from sayzhong.http.session_cookie import make_ticket
from sayzhong.models import load_all_models
from sayzhong.settings import Settings
from tests.factories import signed_in_learner


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    load_all_models()
    SQLModel.metadata.create_all(get_engine())
    with TestClient(security_headers(create_http_app()), base_url=settings.app_url) as c:
        yield c


def test_healthz_answers_ok_with_security_headers(client: TestClient) -> None:
    response = client.get(routes.HEALTHZ)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "strict-transport-security" not in response.headers  # plain http in tests


def test_hsts_is_sent_when_the_app_is_served_over_https(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sayzhong.settings import reset_settings_cache

    monkeypatch.setenv("APP_URL", "https://sayzhong.example.org")
    reset_settings_cache()
    with TestClient(security_headers(create_http_app())) as c:
        assert "max-age=" in c.get(routes.HEALTHZ).headers["strict-transport-security"]


def test_readyz_reports_the_database(client: TestClient) -> None:
    response = client.get(routes.READYZ)
    assert response.status_code == 200
    assert response.json()["database"] is True


def test_readyz_is_503_while_the_worker_is_still_loading(client: TestClient) -> None:
    """A fresh worker loading the scoring models stays out of rotation until they are loaded."""
    from sayzhong.ops.warmup import startup_load

    with startup_load("scoring"), startup_load("tone-notes"):
        warming = client.get(routes.READYZ)
    assert warming.status_code == 503
    assert warming.json() == {"status": "warming", "database": True, "loading": ["scoring", "tone-notes"]}
    ready = client.get(routes.READYZ)
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "database": True, "loading": []}


def test_readyz_fails_when_the_database_is_unreachable(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sayzhong.settings import reset_settings_cache

    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    reset_settings_cache()
    with TestClient(security_headers(create_http_app())) as c:
        response = c.get(routes.READYZ)
    assert response.status_code == 503
    assert response.json()["database"] is False


def test_ticket_sets_an_http_only_session_cookie_and_redirects(
    client: TestClient, settings: Settings
) -> None:
    token = signed_in_learner()
    response = client.post(
        routes.AUTH_SESSION,
        data={"ticket": make_ticket(settings, token), "next": "/account"},
        headers={"origin": settings.app_url},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == settings.app_url + "/account"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{settings.session_cookie_name}={token}")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie


def test_open_redirects_are_refused(client: TestClient, settings: Settings) -> None:
    token = signed_in_learner()
    response = client.post(
        routes.AUTH_SESSION,
        data={"ticket": make_ticket(settings, token), "next": "//evil.example/steal"},
        headers={"origin": settings.app_url},
        follow_redirects=False,
    )
    assert response.headers["location"] == settings.app_url + routes.HOME


@pytest.mark.parametrize("ticket", ["", "garbage", "a" * 300])
def test_bad_tickets_send_the_user_back_to_sign_in(
    client: TestClient, settings: Settings, ticket: str
) -> None:
    response = client.post(
        routes.AUTH_SESSION,
        data={"ticket": ticket},
        headers={"origin": settings.app_url},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert "/signin?error=expired" in response.headers["location"]
    assert "set-cookie" not in response.headers


def test_ticket_for_a_revoked_session_is_refused(client: TestClient, settings: Settings) -> None:
    token = signed_in_learner()
    with session_scope() as session:
        sign_in.sign_out(session=session, token=token)
    response = client.post(
        routes.AUTH_SESSION,
        data={"ticket": make_ticket(settings, token)},
        headers={"origin": settings.app_url},
        follow_redirects=False,
    )
    assert "error=expired" in response.headers["location"]


def test_cross_site_posts_are_refused(client: TestClient, settings: Settings) -> None:
    token = signed_in_learner()
    response = client.post(
        routes.AUTH_SESSION,
        data={"ticket": make_ticket(settings, token)},
        headers={"origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert client.post(routes.AUTH_SIGN_OUT, headers={"origin": "https://evil.example"}).status_code == 403


def test_sign_out_revokes_the_session_and_clears_the_cookie(client: TestClient, settings: Settings) -> None:
    token = signed_in_learner()
    client.cookies.set(settings.session_cookie_name, token)
    response = client.post(routes.AUTH_SIGN_OUT, headers={"origin": settings.app_url}, follow_redirects=False)
    assert response.status_code == 303
    assert f'{settings.session_cookie_name}=""' in response.headers["set-cookie"]
    with session_scope() as session:
        assert sign_in.resolve_session(session=session, token=token) is None


def test_oidc_start_without_configuration_explains_itself(client: TestClient) -> None:
    response = client.get(routes.AUTH_OIDC_START, follow_redirects=False)
    assert response.status_code == 303
    assert "error=oidc_disabled" in response.headers["location"]
