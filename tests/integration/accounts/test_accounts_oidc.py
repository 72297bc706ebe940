"""“Sign in with …” against a real oidc-provider-mock server on loopback (no browser needed:
the test plays the browser by POSTing the mock's consent form and reading its redirect)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from urllib.parse import parse_qs, parse_qsl, urlsplit

import oidc_provider_mock
import pytest
import requests
from sqlalchemy import update
from sqlmodel import Session, select

from sayzhong.accounts import oidc, sign_in, users
from sayzhong.accounts.models import OidcIdentity, OidcLoginState, User, UserSession
from sayzhong.audit import AuditEvent
from sayzhong.db import utcnow
from sayzhong.errors import SayZhongError, ValidationError
from sayzhong.integrations.oidc_client import clear_provider_cache
from sayzhong.settings import Settings

REDIRECT_URI = "http://localhost:3000/auth/oidc/callback"


@pytest.fixture(scope="module")
def provider_url() -> Iterator[str]:
    with oidc_provider_mock.run_server_in_thread(port=0) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture
def oidc_settings(settings: Settings, provider_url: str) -> Iterator[Settings]:
    settings.oidc_issuer = provider_url
    settings.oidc_client_id = "sayzhong-test"
    settings.oidc_client_secret = "client-secret"
    settings.oidc_display_name = "MockID"
    clear_provider_cache()
    yield settings
    clear_provider_cache()


def _set_user(provider_url: str, sub: str, **claims: object) -> None:
    response = requests.put(f"{provider_url}/users/{sub}", json=claims, timeout=10)
    assert response.status_code == 204


def _consent(url: str, sub: str, *, deny: bool = False) -> dict[str, str]:
    """What the browser does at the provider: approve (or deny) and follow the redirect to us."""
    data = {"action": "deny"} if deny else {"sub": sub}
    response = requests.post(url, data=data, allow_redirects=False, timeout=10)
    assert response.status_code in (302, 303), response.text[:500]
    location = response.headers["Location"]
    assert location.startswith(REDIRECT_URI)
    return dict(parse_qsl(urlsplit(location).query))


def _begin(db_session: Session, settings: Settings) -> oidc.OidcAuthorization:
    return oidc.begin_oidc_login(session=db_session, settings=settings, redirect_uri=REDIRECT_URI)


def _complete(
    db_session: Session, settings: Settings, params: dict[str, str], browser_state: str | None
) -> oidc.SignInResult:
    return oidc.complete_oidc_login(
        session=db_session,
        settings=settings,
        redirect_uri=REDIRECT_URI,
        params=params,
        browser_state=browser_state,
        ip="127.0.0.1",
        user_agent="pytest",
    )


def _sign_in_as(db_session: Session, settings: Settings, sub: str) -> oidc.SignInResult:
    auth = _begin(db_session, settings)
    return _complete(db_session, settings, _consent(auth.url, sub), auth.state)


def test_authorization_request_uses_pkce_s256_state_and_nonce(
    db_session: Session, oidc_settings: Settings
) -> None:
    auth = _begin(db_session, oidc_settings)
    query = {k: v[0] for k, v in parse_qs(urlsplit(auth.url).query).items()}
    row = db_session.exec(select(OidcLoginState)).one()
    expected_challenge = base64.urlsafe_b64encode(hashlib.sha256(row.code_verifier.encode()).digest()).rstrip(
        b"="
    )
    assert query["response_type"] == "code" and query["client_id"] == "sayzhong-test"
    assert query["code_challenge_method"] == "S256" and query["code_challenge"] == expected_challenge.decode()
    assert query["state"] == auth.state and row.state_hash != auth.state
    assert query["nonce"] == row.nonce and len(row.nonce) >= 32
    assert query["redirect_uri"] == REDIRECT_URI and "openid" in query["scope"].split()


def test_first_sign_in_creates_a_learner_and_the_next_one_finds_it(
    db_session: Session, oidc_settings: Settings, provider_url: str
) -> None:
    _set_user(provider_url, "sub-new-1", email="Lin.Mei@Example.com", email_verified=True, name="Lin Mei")
    user, token = _sign_in_as(db_session, oidc_settings, "sub-new-1").unwrap()
    assert (user.email, user.display_name, user.role) == ("lin.mei@example.com", "Lin Mei", "learner")
    assert user.email_verified and not user.has_password
    resolved = sign_in.resolve_session(session=db_session, token=token)
    assert resolved is not None and resolved.auth_method == "oidc"
    link = db_session.exec(select(OidcIdentity)).one()
    assert (link.issuer, link.subject, link.user_id) == (provider_url, "sub-new-1", user.id)

    again, _ = _sign_in_as(db_session, oidc_settings, "sub-new-1").unwrap()
    assert again.id == user.id
    assert len(db_session.exec(select(User)).all()) == 1
    assert db_session.exec(select(OidcLoginState)).first() is None  # both states consumed


def test_wrong_state_is_refused_and_signs_nobody_in(
    db_session: Session, oidc_settings: Settings, provider_url: str
) -> None:
    _set_user(provider_url, "sub-state", email="state@example.com", email_verified=True)
    auth = _begin(db_session, oidc_settings)
    params = _consent(auth.url, "sub-state")
    params["state"] = "forged-" + params["state"][7:]
    result = _complete(db_session, oidc_settings, params, params["state"])
    assert result.error is not None and result.error.code == "oidc_state_invalid"
    assert "start signing in again" in result.error.user_message
    assert db_session.exec(select(UserSession)).first() is None
    assert db_session.exec(select(User)).first() is None


def test_state_not_started_in_this_browser_is_refused(
    db_session: Session, oidc_settings: Settings, provider_url: str
) -> None:
    _set_user(provider_url, "sub-csrf", email="csrf@example.com", email_verified=True)
    auth = _begin(db_session, oidc_settings)
    params = _consent(auth.url, "sub-csrf")
    for cookie in (None, "some-other-state"):
        again = _begin(db_session, oidc_settings)
        fresh = _consent(again.url, "sub-csrf")
        result = _complete(db_session, oidc_settings, fresh, cookie)
        assert result.error is not None and result.error.code == "oidc_state_mismatch"
    assert params and db_session.exec(select(UserSession)).first() is None


def test_a_callback_cannot_be_replayed(
    db_session: Session, oidc_settings: Settings, provider_url: str
) -> None:
    _set_user(provider_url, "sub-replay", email="replay@example.com", email_verified=True)
    auth = _begin(db_session, oidc_settings)
    params = _consent(auth.url, "sub-replay")
    assert _complete(db_session, oidc_settings, params, auth.state).ok
    replay = _complete(db_session, oidc_settings, params, auth.state)
    assert replay.error is not None and replay.error.code == "oidc_state_invalid"


def test_wrong_nonce_in_the_id_token_is_refused(
    db_session: Session, oidc_settings: Settings, provider_url: str
) -> None:
    _set_user(provider_url, "sub-nonce", email="nonce@example.com", email_verified=True)
    auth = _begin(db_session, oidc_settings)
    params = _consent(auth.url, "sub-nonce")
    # The provider put the original nonce in the ID token; expect a different one on our side.
    db_session.execute(update(OidcLoginState).values(nonce="a-different-nonce-than-the-one-sent"))
    result = _complete(db_session, oidc_settings, params, auth.state)
    assert result.error is not None and "could not be verified" in result.error.user_message
    assert db_session.exec(select(User)).first() is None
    failed = db_session.exec(select(AuditEvent).where(AuditEvent.action == "sign_in.failed")).one()
    assert failed.detail["method"] == "oidc"


def test_expired_state_is_refused(db_session: Session, oidc_settings: Settings, provider_url: str) -> None:
    _set_user(provider_url, "sub-slow", email="slow@example.com", email_verified=True)
    auth = _begin(db_session, oidc_settings)
    params = _consent(auth.url, "sub-slow")
    db_session.execute(update(OidcLoginState).values(expires_at=utcnow()))
    result = _complete(db_session, oidc_settings, params, auth.state)
    assert result.error is not None and result.error.code == "oidc_state_expired"


def test_cancelled_at_the_provider_gives_a_clear_message(
    db_session: Session, oidc_settings: Settings
) -> None:
    auth = _begin(db_session, oidc_settings)
    params = _consent(auth.url, "anyone", deny=True)
    result = _complete(db_session, oidc_settings, params, auth.state)
    assert result.error is not None and result.error.code == "oidc_access_denied"
    assert "cancelled" in result.error.user_message


def test_existing_email_is_not_linked_automatically(
    db_session: Session, oidc_settings: Settings, provider_url: str
) -> None:
    existing = users.sign_up(
        session=db_session,
        email="ana@example.com",
        password="correct horse battery staple",
        display_name="Ana",
    )
    _set_user(provider_url, "sub-ana", email="ana@example.com", email_verified=True)
    result = _sign_in_as(db_session, oidc_settings, "sub-ana")
    assert result.error is not None and result.error.code == "oidc_email_taken"
    assert "Sign in with your password first" in result.error.user_message
    assert "account page" in result.error.user_message
    assert db_session.exec(select(OidcIdentity)).first() is None
    assert sign_in.list_sessions(session=db_session, user_id=existing.id) == []


def test_unverified_email_does_not_create_an_account(
    db_session: Session, oidc_settings: Settings, provider_url: str
) -> None:
    _set_user(provider_url, "sub-unverified", email="squatter@example.com", email_verified=False)
    result = _sign_in_as(db_session, oidc_settings, "sub-unverified")
    assert result.error is not None and result.error.code == "oidc_email_unverified"
    assert db_session.exec(select(User)).first() is None


def test_signed_in_user_links_a_provider_then_signs_in_with_it(
    db_session: Session, oidc_settings: Settings, provider_url: str
) -> None:
    ana = users.sign_up(
        session=db_session,
        email="ana@example.com",
        password="correct horse battery staple",
        display_name="Ana",
    )
    _set_user(provider_url, "sub-ana-link", email="ana@example.com", email_verified=True)
    auth = oidc.begin_oidc_link(
        session=db_session, settings=oidc_settings, redirect_uri=REDIRECT_URI, user_id=ana.id
    )
    params = _consent(auth.url, "sub-ana-link")
    linked = oidc.complete_oidc_link(
        session=db_session,
        settings=oidc_settings,
        redirect_uri=REDIRECT_URI,
        params=params,
        browser_state=auth.state,
        user_id=ana.id,
    ).unwrap()
    assert linked.id == ana.id
    assert [i.subject for i in oidc.list_linked_identities(session=db_session, user_id=ana.id)] == [
        "sub-ana-link"
    ]
    user, _ = _sign_in_as(db_session, oidc_settings, "sub-ana-link").unwrap()
    assert user.id == ana.id


def test_a_link_started_by_one_user_cannot_be_completed_by_another(
    db_session: Session, oidc_settings: Settings, provider_url: str
) -> None:
    attacker = users.sign_up(
        session=db_session,
        email="mallory@example.com",
        password="correct horse battery staple",
        display_name="M",
    )
    victim = users.sign_up(
        session=db_session,
        email="victim@example.com",
        password="correct horse battery staple",
        display_name="V",
    )
    _set_user(provider_url, "sub-mallory", email="mallory@example.com", email_verified=True)
    auth = oidc.begin_oidc_link(
        session=db_session, settings=oidc_settings, redirect_uri=REDIRECT_URI, user_id=attacker.id
    )
    params = _consent(auth.url, "sub-mallory")
    result = oidc.complete_oidc_link(
        session=db_session,
        settings=oidc_settings,
        redirect_uri=REDIRECT_URI,
        params=params,
        browser_state=auth.state,
        user_id=victim.id,
    )
    assert result.error is not None
    assert db_session.exec(select(OidcIdentity)).first() is None


def test_unlinking_the_only_sign_in_method_is_refused(
    db_session: Session, oidc_settings: Settings, provider_url: str
) -> None:
    _set_user(provider_url, "sub-only", email="only@example.com", email_verified=True)
    user, _ = _sign_in_as(db_session, oidc_settings, "sub-only").unwrap()
    (identity,) = oidc.list_linked_identities(session=db_session, user_id=user.id)
    with pytest.raises(ValidationError):
        oidc.unlink_oidc_identity(session=db_session, user_id=user.id, identity_id=identity.id)


def test_error_codes_map_back_to_the_same_user_messages(oidc_settings: Settings) -> None:
    for code in oidc.OIDC_MESSAGES:
        message = oidc.oidc_error_message(code, oidc_settings)
        assert message and "{" not in message
    assert "link MockID from your account page" in oidc.oidc_error_message("oidc_email_taken", oidc_settings)
    assert oidc.oidc_error_message("no-such-code", oidc_settings) == oidc.oidc_error_message(
        "oidc_failed", oidc_settings
    )


def test_unconfigured_provider_is_a_clear_unavailable_error(db_session: Session, settings: Settings) -> None:
    settings.oidc_issuer = ""
    with pytest.raises(SayZhongError) as info:
        oidc.begin_oidc_login(session=db_session, settings=settings, redirect_uri=REDIRECT_URI)
    assert info.value.code == "oidc_disabled" and info.value.http_status == 503
