"""What the accounts feature needs from an OpenID Connect provider (adapter: integrations/oidc_client.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class VerifiedIdentity:
    """Claims from an ID token whose signature, issuer, audience, expiry and nonce were checked."""

    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    name: str | None


class OidcProvider(Protocol):
    @property
    def issuer(self) -> str: ...

    def authorization_url(self, *, redirect_uri: str, state: str, nonce: str, code_verifier: str) -> str:
        """URL of the provider's authorization endpoint for the code flow with PKCE S256."""
        ...

    def exchange_code(
        self, *, code: str, redirect_uri: str, code_verifier: str, nonce: str
    ) -> VerifiedIdentity:
        """Redeem the code at the token endpoint and verify the returned ID token.

        Raises OidcError (user-facing message) when the provider's answer cannot be trusted, or
        ServiceUnavailableError when the provider cannot be reached.
        """
        ...
