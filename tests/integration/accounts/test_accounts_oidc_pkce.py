"""PKCE proven against a provider that enforces it (S256 required, verifier checked by Authlib's
RFC 7636 code inside oidc-provider-mock, see tests/support/pkce_provider.py): a wrong
`code_verifier` is refused at the token endpoint and signs nobody in; the right one succeeds."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import requests
from sqlmodel import Session, select

from sayzhong.accounts import oidc, sign_in
from sayzhong.accounts.models import OidcLoginState, User, UserSession
from sayzhong.integrations.oidc_client import clear_provider_cache
from sayzhong.settings import Settings
from tests.support.pkce_provider import run_pkce_provider

REDIRECT_URI = "http://localhost:3000/auth/oidc/callback"


@pytest.fixture(scope="module")
def strict_provider() -> Iterator[str]:
    with run_pkce_provider() as url:
        yield url


@pytest.fixture
def pkce_settings(settings: Settings, strict_provider: str) -> Iterator[Settings]:
    settings.oidc_issuer = strict_provider
    settings.oidc_client_id = "sayzhong-pkce"
    settings.oidc_client_secret = "client-secret"
    clear_provider_cache()
    yield settings
    clear_provider_cache()


def _set_user(provider: str, sub: str, email: str) -> None:
    response = requests.put(
        f"{provider}/users/{sub}", json={"email": email, "email_verified": True}, timeout=10
    )
    assert response.status_code == 204


def _consent(url: str, sub: str) -> dict[str, str]:
    response = requests.post(url, data={"sub": sub}, allow_redirects=False, timeout=10)
    assert response.status_code in (302, 303), response.text[:300]
    assert response.headers["Location"].startswith(REDIRECT_URI)
    return dict(parse_qsl(urlsplit(response.headers["Location"]).query))


def _start(
    db_session: Session, settings: Settings, sub: str
) -> tuple[oidc.OidcAuthorization, dict[str, str]]:
    auth = oidc.begin_oidc_login(session=db_session, settings=settings, redirect_uri=REDIRECT_URI)
    return auth, _consent(auth.url, sub)


def _complete(
    db_session: Session, settings: Settings, params: dict[str, str], state: str
) -> oidc.SignInResult:
    return oidc.complete_oidc_login(
        session=db_session,
        settings=settings,
        redirect_uri=REDIRECT_URI,
        params=params,
        browser_state=state,
        ip="127.0.0.1",
        user_agent="pytest",
    )


def test_the_provider_refuses_an_authorization_request_without_s256(strict_provider: str) -> None:
    """The peer really enforces PKCE: without a challenge (or with `plain`) it will not issue a code."""
    base = {
        "response_type": "code",
        "client_id": "sayzhong-pkce",
        "redirect_uri": REDIRECT_URI,
        "scope": "openid email",
        "state": "s" * 20,
        "nonce": "n" * 20,
    }
    for extra in ({}, {"code_challenge": "a" * 43, "code_challenge_method": "plain"}):
        url = f"{strict_provider}/oauth2/authorize?{urlencode(base | extra)}"
        response = requests.post(url, data={"sub": "nobody"}, allow_redirects=False, timeout=10)
        location = response.headers.get("Location", "")
        assert "code=" not in location, (response.status_code, location)
        assert response.status_code >= 400 or "error=invalid_request" in location


def test_a_wrong_code_verifier_is_rejected_and_signs_nobody_in(
    db_session: Session, pkce_settings: Settings, strict_provider: str
) -> None:
    _set_user(strict_provider, "pkce-wrong", "pkce.wrong@example.com")
    auth, params = _start(db_session, pkce_settings, "pkce-wrong")
    row = db_session.exec(select(OidcLoginState)).one()
    right = row.code_verifier
    row.code_verifier = secrets.token_urlsafe(48)  # well-formed, but not the one behind the challenge
    assert row.code_verifier != right
    db_session.add(row)
    db_session.flush()

    result = _complete(db_session, pkce_settings, params, auth.state)

    assert result.error is not None
    assert result.error.code.startswith("oidc_")
    assert db_session.exec(select(UserSession)).first() is None
    assert db_session.exec(select(User)).first() is None


def test_the_right_code_verifier_signs_in(
    db_session: Session, pkce_settings: Settings, strict_provider: str
) -> None:
    _set_user(strict_provider, "pkce-right", "pkce.right@example.com")
    auth, params = _start(db_session, pkce_settings, "pkce-right")

    user, token = _complete(db_session, pkce_settings, params, auth.state).unwrap()

    assert user.email == "pkce.right@example.com" and user.email_verified
    resolved = sign_in.resolve_session(session=db_session, token=token)
    assert resolved is not None and resolved.auth_method == "oidc"
