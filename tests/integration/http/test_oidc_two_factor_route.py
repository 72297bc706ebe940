"""The OpenID Connect callback for an account with two-factor sign-in: no session cookie, a short-lived
HttpOnly challenge cookie and the sign-in page's code step instead (real oidc-provider-mock peer)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import oidc_provider_mock
import pyotp
import pytest
import requests
from sqlmodel import SQLModel
from starlette.testclient import TestClient

from sayzhong import routes
from sayzhong.accounts import sign_in, two_factor
from sayzhong.accounts.users import find_user_by_email
from sayzhong.db import get_engine, session_scope
from sayzhong.http.app import create_http_app, security_headers
from sayzhong.http.session_cookie import TWO_FACTOR_COOKIE, two_factor_cookie
from sayzhong.integrations.oidc_client import clear_provider_cache
from sayzhong.models import load_all_models
from sayzhong.settings import Settings


@pytest.fixture(scope="module")
def provider_url() -> Iterator[str]:
    with oidc_provider_mock.run_server_in_thread(port=0) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture
def client(settings: Settings, provider_url: str) -> Iterator[TestClient]:
    settings.oidc_issuer = provider_url
    settings.oidc_client_id = "sayzhong-route"
    settings.oidc_client_secret = "secret"
    clear_provider_cache()
    load_all_models()
    SQLModel.metadata.create_all(get_engine())
    with TestClient(security_headers(create_http_app()), base_url=settings.app_url) as c:
        yield c
    clear_provider_cache()


def _provider_round_trip(client: TestClient, sub: str):  # type: ignore[no-untyped-def]
    start = client.get(routes.AUTH_OIDC_START, follow_redirects=False)
    assert start.status_code == 302
    consent = requests.post(start.headers["location"], data={"sub": sub}, allow_redirects=False, timeout=10)
    callback = urlsplit(consent.headers["Location"])
    return client.get(f"{callback.path}?{callback.query}", follow_redirects=False)


def test_a_two_factor_account_gets_the_code_step_not_a_session(
    client: TestClient, provider_url: str, settings: Settings
) -> None:
    requests.put(
        f"{provider_url}/users/route-2fa",
        json={"email": "route.2fa@example.com", "email_verified": True},
        timeout=10,
    )
    first = _provider_round_trip(client, "route-2fa")  # creates the account and signs in
    assert first.status_code == 303 and settings.session_cookie_name in first.cookies
    with session_scope() as session:
        user = find_user_by_email(session=session, email="route.2fa@example.com")
        assert user is not None and user.email_verified  # the provider vouched for it
        secret = two_factor.begin_enrolment(session=session, user_id=user.id).secret
        two_factor.confirm_enrolment(
            session=session, user_id=user.id, code=pyotp.TOTP(secret).at(time.time() - 30)
        )
    client.cookies.clear()

    response = _provider_round_trip(client, "route-2fa")

    assert response.status_code == 303
    assert response.headers["location"].endswith(f"{routes.SIGN_IN}?step=code")
    assert settings.session_cookie_name not in response.cookies
    set_cookie = response.headers.get_list("set-cookie")
    challenge_cookie = next(c for c in set_cookie if c.startswith(f"{TWO_FACTOR_COOKIE}="))
    assert "HttpOnly" in challenge_cookie and "Max-Age=300" in challenge_cookie
    challenge = two_factor_cookie(f"{TWO_FACTOR_COOKIE}={response.cookies[TWO_FACTOR_COOKIE]}")
    with session_scope() as session:
        result = two_factor.complete_two_factor_sign_in(
            session=session,
            challenge=challenge,
            code=pyotp.TOTP(secret).now(),  # a newer step than the enrolment code
            ip="127.0.0.1",
            user_agent="pytest",
        )
    _user, token = result.unwrap()
    with session_scope() as session:
        info = sign_in.resolve_session(session=session, token=token)
        assert info is not None and info.auth_method == "oidc+2fa"
