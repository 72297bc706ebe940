"""OpenID Connect relying party built on Authlib (code flow + PKCE S256) and joserfc (ID tokens).

`AuthlibOidcProvider` implements sayzhong.accounts.ports.OidcProvider. Discovery metadata and the
provider's JWKS are cached per issuer for an hour; an unknown key id triggers one JWKS refresh
(key rotation). Only loopback issuers may use plain http.
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlsplit

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from sayzhong.accounts.ports import VerifiedIdentity
from sayzhong.errors import SayZhongError, ServiceUnavailableError
from sayzhong.settings import Settings

logger = logging.getLogger(__name__)

SCOPE = "openid email profile"
_CACHE_TTL_S = 3600.0
_LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}
# Asymmetric algorithms only: never "none", never HS* keyed with the client secret.
_ALLOWED_ALGS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")


_UNVERIFIED = "The sign-in response could not be verified. Please start signing in again."
_REFUSED = "Your provider did not accept this sign-in. Please start signing in again."


class OidcError(SayZhongError):
    code = "oidc_failed"
    http_status = 400
    default_message = "Signing in with your provider did not work. Please try again."


def require_secure_issuer(issuer: str) -> None:
    parts = urlsplit(issuer)
    if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS):
        return
    raise ValueError(f"OIDC_ISSUER must be an https:// URL (got {issuer!r})")


@dataclass(frozen=True, slots=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    algorithms: tuple[str, ...]


def verify_id_token(
    id_token: str,
    *,
    jwks: dict[str, Any],
    issuer: str,
    client_id: str,
    nonce: str,
    access_token: str | None = None,
    algorithms: tuple[str, ...] = _ALLOWED_ALGS,
    now: int | None = None,
    leeway_s: int = 60,
) -> dict[str, Any]:
    """Verify signature, iss, aud (and azp), exp/iat, nonce and at_hash; return the claims.

    Raises InvalidKeyIdError when the key id is unknown (the caller refreshes the JWKS), and
    OidcError for anything else.
    """
    allowed = tuple(alg for alg in algorithms if alg in _ALLOWED_ALGS) or ("RS256",)
    try:
        token = jwt.decode(
            id_token, KeySet.import_key_set(cast(Any, jwks)), registry=JWSRegistry(algorithms=list(allowed))
        )
    except InvalidKeyIdError:
        raise
    except (JoseError, ValueError) as exc:
        logger.warning("ID token rejected: %s", exc.__class__.__name__)
        raise OidcError(_UNVERIFIED, code="oidc_token_invalid") from exc
    options: dict[str, Any] = {
        "iss": {"essential": True, "value": issuer},
        "aud": {"essential": True, "value": client_id},
        "sub": {"essential": True},
        "nonce": {"essential": True},
    }
    params: dict[str, Any] = {"nonce": nonce, "client_id": client_id}
    if access_token:
        params["access_token"] = access_token
    claims = CodeIDToken(token.claims, token.header, options, params)
    try:
        claims.validate(now=now, leeway=leeway_s)
    except JoseError as exc:
        logger.warning("ID token claims rejected: %s", exc)
        raise OidcError(_UNVERIFIED, code="oidc_token_invalid") from exc
    # Belt and braces: constant-time nonce comparison even though the validator checked it.
    if not hmac.compare_digest(str(claims.get("nonce", "")).encode(), nonce.encode()):
        raise OidcError(_UNVERIFIED, code="oidc_token_invalid")
    return dict(claims)


class _ProviderCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._metadata: dict[str, tuple[float, ProviderMetadata]] = {}
        self._jwks: dict[str, tuple[float, dict[str, Any]]] = {}

    def clear(self) -> None:
        with self._lock:
            self._metadata.clear()
            self._jwks.clear()


_cache = _ProviderCache()


def clear_provider_cache() -> None:
    _cache.clear()


class AuthlibOidcProvider:
    def __init__(
        self, *, issuer: str, client_id: str, client_secret: str = "", timeout_s: float = 10.0
    ) -> None:
        require_secure_issuer(issuer)
        self._issuer = issuer  # compared exactly (some issuers end with "/", some do not)
        self._client_id = client_id
        self._client_secret = client_secret
        self._timeout_s = timeout_s

    @classmethod
    def from_settings(cls, settings: Settings) -> AuthlibOidcProvider:
        return cls(
            issuer=settings.oidc_issuer,
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret,
        )

    @property
    def issuer(self) -> str:
        return self._issuer

    # --- provider documents ---

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = requests.get(url, timeout=self._timeout_s, headers={"Accept": "application/json"})
            response.raise_for_status()
            data = response.json()
        except (requests.RequestException, ValueError) as exc:
            logger.warning("OIDC provider request to %s failed: %s", url, exc.__class__.__name__)
            raise ServiceUnavailableError(
                "The sign-in provider is not reachable right now. Please try again shortly."
            ) from exc
        if not isinstance(data, dict):
            raise ServiceUnavailableError("The sign-in provider sent an unexpected answer.")
        return data

    def metadata(self) -> ProviderMetadata:
        now = time.monotonic()
        with _cache._lock:
            cached = _cache._metadata.get(self._issuer)
        if cached and now - cached[0] < _CACHE_TTL_S:
            return cached[1]
        doc = self._get_json(f"{self._issuer.rstrip('/')}/.well-known/openid-configuration")
        # OIDC Discovery 4.3: the issuer in the document must be exactly the configured one.
        if doc.get("issuer") != self._issuer:
            raise ServiceUnavailableError("The sign-in provider is misconfigured (issuer mismatch).")
        try:
            meta = ProviderMetadata(
                issuer=self._issuer,
                authorization_endpoint=str(doc["authorization_endpoint"]),
                token_endpoint=str(doc["token_endpoint"]),
                jwks_uri=str(doc["jwks_uri"]),
                algorithms=tuple(doc.get("id_token_signing_alg_values_supported") or ("RS256",)),
            )
        except KeyError as exc:
            raise ServiceUnavailableError(
                "The sign-in provider is misconfigured (incomplete metadata)."
            ) from exc
        with _cache._lock:
            _cache._metadata[self._issuer] = (now, meta)
        return meta

    def _jwks(self, *, force: bool = False) -> dict[str, Any]:
        now = time.monotonic()
        with _cache._lock:
            cached = _cache._jwks.get(self._issuer)
        if cached and not force and now - cached[0] < _CACHE_TTL_S:
            return cached[1]
        jwks = self._get_json(self.metadata().jwks_uri)
        with _cache._lock:
            _cache._jwks[self._issuer] = (now, jwks)
        return jwks

    # --- the code flow ---

    def _client(self, redirect_uri: str) -> OAuth2Session:
        return OAuth2Session(
            client_id=self._client_id,
            client_secret=self._client_secret or None,
            token_endpoint_auth_method="client_secret_basic" if self._client_secret else "none",
            scope=SCOPE,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            default_timeout=self._timeout_s,
        )

    def authorization_url(self, *, redirect_uri: str, state: str, nonce: str, code_verifier: str) -> str:
        with self._client(redirect_uri) as client:
            url, _ = client.create_authorization_url(
                self.metadata().authorization_endpoint, state=state, nonce=nonce, code_verifier=code_verifier
            )
        return str(url)

    def exchange_code(
        self, *, code: str, redirect_uri: str, code_verifier: str, nonce: str
    ) -> VerifiedIdentity:
        meta = self.metadata()
        try:
            with self._client(redirect_uri) as client:
                token = client.fetch_token(
                    meta.token_endpoint,
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=code_verifier,
                )
        except requests.RequestException as exc:
            raise ServiceUnavailableError(
                "The sign-in provider is not reachable right now. Please try again shortly."
            ) from exc
        except Exception as exc:  # Authlib raises OAuthError subclasses for error responses
            logger.warning("OIDC token exchange failed: %s", exc)
            raise OidcError(_REFUSED, code="oidc_token_refused") from exc
        id_token = token.get("id_token") if isinstance(token, dict) else None
        if not id_token:
            raise OidcError(_UNVERIFIED, code="oidc_token_invalid")
        access_token = token.get("access_token")
        try:
            claims = verify_id_token(
                id_token,
                jwks=self._jwks(),
                issuer=self._issuer,
                client_id=self._client_id,
                nonce=nonce,
                access_token=access_token,
                algorithms=meta.algorithms,
            )
        except InvalidKeyIdError:
            try:
                claims = verify_id_token(
                    id_token,
                    jwks=self._jwks(force=True),
                    issuer=self._issuer,
                    client_id=self._client_id,
                    nonce=nonce,
                    access_token=access_token,
                    algorithms=meta.algorithms,
                )
            except InvalidKeyIdError as exc:
                raise OidcError(_UNVERIFIED, code="oidc_token_invalid") from exc
        email = claims.get("email")
        name = claims.get("name") or claims.get("preferred_username")
        return VerifiedIdentity(
            issuer=self._issuer,
            subject=str(claims["sub"]),
            email=str(email) if email else None,
            email_verified=claims.get("email_verified") is True,
            name=str(name) if name else None,
        )
