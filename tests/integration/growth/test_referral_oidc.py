"""An account created through "Sign in with …" (real oidc-provider-mock peer) is attributed to the
invite link the browser followed first, like a password sign-up."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import oidc_provider_mock
import pytest
import requests
from sqlmodel import SQLModel, select
from starlette.testclient import TestClient

from sayzhong import routes
from sayzhong.accounts.users import find_user_by_email
from sayzhong.db import get_engine, session_scope
from sayzhong.growth import referrals
from sayzhong.growth.models import Referral
from sayzhong.http.app import create_http_app, security_headers
from sayzhong.integrations.oidc_client import clear_provider_cache
from sayzhong.models import load_all_models
from sayzhong.settings import Settings
from tests.factories import UserFactory


@pytest.fixture(scope="module")
def provider_url() -> Iterator[str]:
    with oidc_provider_mock.run_server_in_thread(port=0) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture
def client(settings: Settings, provider_url: str) -> Iterator[TestClient]:
    settings.oidc_issuer = provider_url
    settings.oidc_client_id = "sayzhong-referral"
    settings.oidc_client_secret = "secret"
    clear_provider_cache()
    load_all_models()
    SQLModel.metadata.create_all(get_engine())
    with TestClient(security_headers(create_http_app()), base_url=settings.app_url) as c:
        yield c
    clear_provider_cache()


def _sign_in_with_provider(client: TestClient, sub: str) -> int:
    start = client.get(routes.AUTH_OIDC_START, follow_redirects=False)
    consent = requests.post(start.headers["location"], data={"sub": sub}, allow_redirects=False, timeout=10)
    callback = urlsplit(consent.headers["Location"])
    return client.get(f"{callback.path}?{callback.query}", follow_redirects=False).status_code


def test_a_provider_sign_up_through_an_invite_link_is_attributed_once(
    client: TestClient, provider_url: str
) -> None:
    with session_scope() as session:
        ana = UserFactory(session)("ana.oidc@example.com")
        code = referrals.code_for(session=session, user_id=ana.id)
    requests.put(
        f"{provider_url}/users/friend-sub",
        json={"email": "friend.oidc@example.com", "email_verified": True},
        timeout=10,
    )
    invite = client.get(routes.referral_path(code), follow_redirects=False)
    assert invite.status_code == 303 and referrals.REF_COOKIE in client.cookies

    assert _sign_in_with_provider(client, "friend-sub") == 303  # creates the account
    assert referrals.REF_COOKIE not in client.cookies  # the invite is spent
    assert _sign_in_with_provider(client, "friend-sub") == 303  # a later sign-in changes nothing

    with session_scope() as session:
        friend = find_user_by_email(session=session, email="friend.oidc@example.com")
        assert friend is not None
        (row,) = session.exec(select(Referral)).all()
        assert (row.referrer_id, row.referred_id, row.status) == (ana.id, friend.id, "pending")


def test_an_existing_account_signing_in_with_a_provider_is_not_attributed(
    client: TestClient, provider_url: str
) -> None:
    requests.put(
        f"{provider_url}/users/old-sub",
        json={"email": "old.oidc@example.com", "email_verified": True},
        timeout=10,
    )
    assert _sign_in_with_provider(client, "old-sub") == 303  # the account exists before any invite
    with session_scope() as session:
        ana = UserFactory(session)("ana2.oidc@example.com")
        code = referrals.code_for(session=session, user_id=ana.id)
    client.get(routes.referral_path(code), follow_redirects=False)
    assert _sign_in_with_provider(client, "old-sub") == 303
    with session_scope() as session:
        assert session.exec(select(Referral)).all() == []
