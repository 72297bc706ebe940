"""ID-token verification on tokens signed here, one defect at a time."""

from __future__ import annotations

import time
from typing import Any

import pytest
from authlib.oidc.core.util import create_half_hash
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError
from joserfc.jwk import KeySet, OctKey, RSAKey

from sayzhong.integrations.oidc_client import OidcError, require_secure_issuer, verify_id_token

ISSUER = "https://id.example.com"
CLIENT_ID = "sayzhong"
NONCE = "n-0S6_WzA2Mj"
KEY = RSAKey.generate_key(2048, parameters={"kid": "k1"})
OTHER_KEY = RSAKey.generate_key(2048, parameters={"kid": "k1"})
JWKS = KeySet([KEY]).as_dict(private=False)


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": "248289761001",
        "aud": CLIENT_ID,
        "exp": now + 300,
        "iat": now,
        "nonce": NONCE,
        "email": "ana@example.com",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _token(claims: dict[str, Any], key: Any = KEY, header: dict[str, Any] | None = None) -> str:
    return jwt.encode(header or {"alg": "RS256", "kid": "k1"}, claims, key)


def _verify(token: str, **kwargs: Any) -> dict[str, Any]:
    params: dict[str, Any] = {"jwks": JWKS, "issuer": ISSUER, "client_id": CLIENT_ID, "nonce": NONCE}
    params.update(kwargs)
    return verify_id_token(token, **params)


def test_a_good_token_verifies() -> None:
    assert _verify(_token(_claims()))["sub"] == "248289761001"


def test_audience_list_containing_the_client_verifies() -> None:
    assert _verify(_token(_claims(aud=[CLIENT_ID], azp=CLIENT_ID)))["sub"]


@pytest.mark.parametrize(
    "claims",
    [
        _claims(iss="https://evil.example.com"),
        _claims(aud="someone-else"),
        _claims(aud=["someone-else", CLIENT_ID], azp="someone-else"),
        _claims(aud=["someone-else"], azp=CLIENT_ID),
        _claims(exp=int(time.time()) - 3600),
        _claims(nonce="replayed-nonce"),
        _claims(nonce=None),
        _claims(sub=None),
    ],
    ids=["issuer", "audience", "azp", "audience-with-our-azp", "expired", "nonce", "no-nonce", "no-subject"],
)
def test_wrong_claims_are_refused(claims: dict[str, Any]) -> None:
    with pytest.raises(OidcError, match="could not be verified"):
        _verify(_token(claims))


def test_signature_by_another_key_is_refused() -> None:
    with pytest.raises(OidcError):
        _verify(_token(_claims(), key=OTHER_KEY))


def test_unknown_key_id_asks_for_a_jwks_refresh() -> None:
    with pytest.raises(InvalidKeyIdError):
        _verify(_token(_claims(), header={"alg": "RS256", "kid": "rotated"}))


def test_symmetric_algorithm_keyed_with_a_public_value_is_refused() -> None:
    forged = jwt.encode(
        {"alg": "HS256", "kid": "k1"}, _claims(), OctKey.import_key("client-secret-or-whatever")
    )
    with pytest.raises((OidcError, InvalidKeyIdError)):
        _verify(forged)


def test_unsigned_token_is_refused() -> None:
    import base64
    import json

    def b64(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    unsigned = f"{b64({'alg': 'none'})}.{b64(_claims())}."
    with pytest.raises(OidcError):
        _verify(unsigned)


def test_access_token_hash_must_match() -> None:
    at_hash = create_half_hash("the-access-token", "RS256").decode()
    token = _token(_claims(at_hash=at_hash))
    assert _verify(token, access_token="the-access-token")
    with pytest.raises(OidcError):
        _verify(token, access_token="another-access-token")


@pytest.mark.parametrize(
    "issuer", ["https://id.example.com", "http://localhost:9000", "http://127.0.0.1:8080"]
)
def test_https_or_loopback_issuers_are_accepted(issuer: str) -> None:
    require_secure_issuer(issuer)


@pytest.mark.parametrize("issuer", ["http://id.example.com", "ftp://id.example.com", "id.example.com"])
def test_plain_http_issuers_elsewhere_are_refused(issuer: str) -> None:
    with pytest.raises(ValueError, match="https"):
        require_secure_issuer(issuer)
