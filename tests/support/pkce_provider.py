"""oidc-provider-mock with RFC 7636 enforced: every authorization request must carry an S256
`code_challenge`, and the token endpoint refuses a `code_verifier` that does not hash to it.

oidc-provider-mock 0.3.4 has no PKCE option (it ignores `code_challenge`), so this switches on
Authlib's own server-side PKCE check (`authlib.oauth2.rfc7636.CodeChallenge`, the code real
Authlib-based providers run) inside the mock's authorization-code grant, and stores the challenge
with each code. Only the S256 method is accepted.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

import oidc_provider_mock
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc7636 import CodeChallenge
from oidc_provider_mock import _app as mock_app
from oidc_provider_mock._storage import AuthorizationCode, storage


@dataclass(kw_only=True, frozen=True)
class _PkceAuthorizationCode(AuthorizationCode):
    code_challenge: str | None = None
    code_challenge_method: str | None = None


class _S256Required(CodeChallenge):
    """Authlib's check, made strict: a challenge is required for every client, and only S256."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]  # noqa: RUF012 - overrides Authlib's class list

    def validate_code_challenge(self, grant: Any, redirect_uri: Any) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge") or data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("PKCE with code_challenge_method=S256 is required")
        super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant: Any, result: Any) -> None:
        if not grant.request.form.get("code_verifier"):
            raise InvalidRequestError("Missing 'code_verifier'")
        super().validate_code_verifier(grant, result)


class _PkceGrant(mock_app.AuthorizationCodeGrant):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _S256Required(required=True)(self)

    def save_authorization_code(self, code: str, request: object) -> None:
        super().save_authorization_code(code, request)
        saved = storage.get_authorization_code(code)
        assert saved is not None
        data = request.payload.data  # type: ignore[attr-defined]
        storage.store_authorization_code(
            _PkceAuthorizationCode(
                **asdict(saved),
                code_challenge=data.get("code_challenge"),
                code_challenge_method=data.get("code_challenge_method"),
            )
        )


@contextmanager
def run_pkce_provider() -> Iterator[str]:
    """Start the strict provider on a free loopback port; yields its issuer URL."""
    original = mock_app.AuthorizationCodeGrant
    # The mock registers its grant class when its Flask app is built; swap ours in just for that.
    mock_app.AuthorizationCodeGrant = _PkceGrant  # type: ignore[misc]
    try:
        server_cm = oidc_provider_mock.run_server_in_thread(port=0)
    finally:
        mock_app.AuthorizationCodeGrant = original  # type: ignore[misc]
    with server_cm as server:
        yield f"http://localhost:{server.server_port}"
