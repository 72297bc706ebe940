"""“Sign in with …” through OpenID Connect: authorization code flow with PKCE S256, state and nonce.

The browser half of the state lives in a short-lived HttpOnly cookie that the route sets from
`OidcAuthorization.state`; the server half (nonce, PKCE verifier, redirect URI) lives in
`oidc_login_state` and is deleted by the callback, so every state works once. Users are
identified by (issuer, subject). A provider identity whose e-mail matches an existing account is
never linked automatically: the person signs in with their password first and links the provider
from the account page (`begin_oidc_link` / `complete_oidc_link`), which proves they own both.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from sayzhong.accounts import sessions as sessions_mod
from sayzhong.accounts.access import Role
from sayzhong.accounts.models import OidcIdentity, OidcLoginState, User
from sayzhong.accounts.ports import OidcProvider, VerifiedIdentity
from sayzhong.accounts.schemas import SignInResult, UserInfo
from sayzhong.accounts.sign_in import second_factor_required
from sayzhong.accounts.users import normalize_email
from sayzhong.audit import record_audit
from sayzhong.db import as_utc, utcnow
from sayzhong.errors import NotFoundError, SayZhongError, ServiceUnavailableError, ValidationError
from sayzhong.settings import Settings

STATE_TTL = timedelta(minutes=10)
OIDC_STATE_COOKIE = "sz_oidc_state"
"""Suggested name for the HttpOnly, SameSite=Lax cookie that carries `OidcAuthorization.state`."""
_MAX_PARAM_LENGTH = 2048
_AGAIN = "Please start signing in again."

# Every failure has a stable code (safe to put in a redirect URL) and a message for the user;
# `oidc_error_message(code, settings)` turns a code back into the message.
OIDC_MESSAGES: dict[str, str] = {
    "oidc_access_denied": "Signing in with {provider} was cancelled.",
    "oidc_provider_error": "{provider} could not sign you in. " + _AGAIN,
    "oidc_state_missing": "The sign-in response is missing its security check. " + _AGAIN,
    "oidc_state_invalid": "This sign-in response is not valid or was already used. " + _AGAIN,
    "oidc_state_mismatch": "This sign-in response was not started from this browser. " + _AGAIN,
    "oidc_state_expired": "The sign-in took too long. " + _AGAIN,
    "oidc_wrong_flow": "This sign-in response does not match what was started. " + _AGAIN,
    "oidc_redirect_mismatch": "The sign-in response came back to the wrong address. " + _AGAIN,
    "oidc_code_missing": "The sign-in response is incomplete. " + _AGAIN,
    "oidc_token_invalid": "The sign-in response could not be verified. " + _AGAIN,
    "oidc_token_refused": "{provider} did not accept this sign-in. " + _AGAIN,
    "oidc_no_email": (
        "{provider} did not share a usable e-mail address, so we cannot create your account. "
        "Sign up with e-mail and password instead."
    ),
    "oidc_email_unverified": (
        "{provider} has not verified your e-mail address, so we cannot create your account from it. "
        "Verify it there, or sign up with e-mail and password."
    ),
    "oidc_email_taken": (
        "An account with this e-mail address already exists. Sign in with your password first, "
        "then link {provider} from your account page."
    ),
    "oidc_concurrent_sign_up": "This account was just created by another sign-in. Please try again.",
    "oidc_link_wrong_user": (
        "This link request belongs to another account. Please start again from your account page."
    ),
    "oidc_identity_taken": "This {provider} account is already linked to another SayZhong account.",
    "oidc_disabled": "Signing in with {provider} is not set up on this server.",
    "oidc_failed": "Signing in with {provider} did not work. " + _AGAIN,
    "unavailable": "{provider} is not reachable right now. Please try again shortly.",
}


def oidc_error_message(code: str, settings: Settings) -> str:
    """User-facing message for an OIDC error code (unknown codes get the generic message)."""
    template = OIDC_MESSAGES.get(code, OIDC_MESSAGES["oidc_failed"])
    return template.format(provider=settings.oidc_display_name)


class OidcFlowError(SayZhongError):
    code = "oidc_failed"
    default_message = "Signing in with your provider did not work. Please try again."


def _fail(code: str, settings: Settings) -> OidcFlowError:
    return OidcFlowError(oidc_error_message(code, settings), code=code)


@dataclass(frozen=True, slots=True)
class OidcAuthorization:
    """Where to send the browser, and the state to keep in an HttpOnly cookie until the callback."""

    url: str
    state: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class OidcLinkResult:
    """Outcome of linking; like SignInResult, commit first, then unwrap()."""

    user: UserInfo | None = None
    error: SayZhongError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def unwrap(self) -> UserInfo:
        if self.error is not None:
            raise self.error
        assert self.user is not None
        return self.user


@dataclass(frozen=True, slots=True)
class LinkedIdentityInfo:
    id: int
    issuer: str
    subject: str
    email: str | None
    created_at: datetime


def _provider(settings: Settings, provider: OidcProvider | None) -> OidcProvider:
    """The provider passed in (tests), else the one `sayzhong.wiring` configures from settings."""
    from sayzhong import wiring

    provider = provider or wiring.get_oidc_provider(settings)
    if provider is None:
        raise ServiceUnavailableError(oidc_error_message("oidc_disabled", settings), code="oidc_disabled")
    return provider


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _begin(
    *,
    session: Session,
    settings: Settings,
    redirect_uri: str,
    purpose: str,
    link_user_id: int | None,
    provider: OidcProvider | None,
) -> OidcAuthorization:
    idp = _provider(settings, provider)
    state = secrets.token_urlsafe(32)
    nonce = secrets.token_urlsafe(32)
    code_verifier = secrets.token_urlsafe(64)  # 86 characters, within RFC 7636's 43–128
    now = utcnow()
    session.add(
        OidcLoginState(
            state_hash=_hash(state),
            nonce=nonce,
            code_verifier=code_verifier,
            redirect_uri=redirect_uri,
            purpose=purpose,
            link_user_id=link_user_id,
            created_at=now,
            expires_at=now + STATE_TTL,
        )
    )
    session.flush()
    url = idp.authorization_url(
        redirect_uri=redirect_uri, state=state, nonce=nonce, code_verifier=code_verifier
    )
    return OidcAuthorization(url=url, state=state, expires_at=now + STATE_TTL)


def begin_oidc_login(
    *, session: Session, settings: Settings, redirect_uri: str, provider: OidcProvider | None = None
) -> OidcAuthorization:
    """Start "Sign in with …": redirect to `.url`, keep `.state` in an HttpOnly SameSite=Lax cookie."""
    return _begin(
        session=session,
        settings=settings,
        redirect_uri=redirect_uri,
        purpose="login",
        link_user_id=None,
        provider=provider,
    )


def begin_oidc_link(
    *,
    session: Session,
    settings: Settings,
    redirect_uri: str,
    user_id: int,
    provider: OidcProvider | None = None,
) -> OidcAuthorization:
    """Start linking a provider identity to the signed-in user `user_id` (account page)."""
    if session.get(User, user_id) is None:
        raise NotFoundError("We could not find that account.")
    return _begin(
        session=session,
        settings=settings,
        redirect_uri=redirect_uri,
        purpose="link",
        link_user_id=user_id,
        provider=provider,
    )


def _param(params: dict[str, str], name: str) -> str | None:
    value = params.get(name)
    if not isinstance(value, str) or not value or len(value) > _MAX_PARAM_LENGTH:
        return None
    return value


def _consume(
    *,
    session: Session,
    settings: Settings,
    redirect_uri: str,
    params: dict[str, str],
    browser_state: str | None,
    purpose: str,
    provider: OidcProvider | None,
) -> tuple[VerifiedIdentity, OidcLoginState]:
    """Check and delete the state, then redeem the code. Raises OidcFlowError/ServiceUnavailableError."""
    state = _param(params, "state")
    provider_error = _param(params, "error")
    if provider_error is not None:
        # Some providers omit the state on errors; nothing is signed in either way.
        if state is not None:
            session.execute(
                delete(OidcLoginState).where(col(OidcLoginState.state_hash) == _hash(state)),
                execution_options={"synchronize_session": "fetch"},
            )
        if provider_error == "access_denied":
            raise _fail("oidc_access_denied", settings)
        raise _fail("oidc_provider_error", settings)
    if state is None:
        raise _fail("oidc_state_missing", settings)
    row = session.exec(select(OidcLoginState).where(col(OidcLoginState.state_hash) == _hash(state))).first()
    if row is None:
        raise _fail("oidc_state_invalid", settings)
    session.delete(row)  # single use, whatever happens next
    session.flush()
    if not browser_state or not hmac.compare_digest(browser_state.encode(), state.encode()):
        raise _fail("oidc_state_mismatch", settings)
    if as_utc(row.expires_at) <= utcnow():
        raise _fail("oidc_state_expired", settings)
    if row.purpose != purpose:
        raise _fail("oidc_wrong_flow", settings)
    if row.redirect_uri != redirect_uri:
        raise _fail("oidc_redirect_mismatch", settings)
    code = _param(params, "code")
    if code is None:
        raise _fail("oidc_code_missing", settings)
    idp = _provider(settings, provider)
    identity = idp.exchange_code(
        code=code, redirect_uri=row.redirect_uri, code_verifier=row.code_verifier, nonce=row.nonce
    )
    return identity, row


def _identity_owner(session: Session, identity: VerifiedIdentity) -> User | None:
    link = session.exec(
        select(OidcIdentity).where(
            col(OidcIdentity.issuer) == identity.issuer, col(OidcIdentity.subject) == identity.subject
        )
    ).first()
    return session.get(User, link.user_id) if link else None


def _normalised_email(identity: VerifiedIdentity) -> str | None:
    if not identity.email:
        return None
    try:
        return normalize_email(identity.email)
    except ValidationError:
        return None


def complete_oidc_login(
    *,
    session: Session,
    settings: Settings,
    redirect_uri: str,
    params: dict[str, str],
    browser_state: str | None,
    ip: str | None = None,
    user_agent: str | None = None,
    current_token: str | None = None,
    provider: OidcProvider | None = None,
    cookie_header: str | None = None,
) -> SignInResult:
    """Finish "Sign in with …". `params` are the callback's query parameters; `browser_state` the cookie.
    `cookie_header` (the browser's cookies) carries the cookie choice and sign-up source a new account
    inherits.

    Signs in the account linked to (issuer, subject), or creates a new learner account when the
    provider vouches for an e-mail that no account uses yet. Commit, then `result.unwrap()`.
    """
    try:
        identity, _ = _consume(
            session=session,
            settings=settings,
            redirect_uri=redirect_uri,
            params=params,
            browser_state=browser_state,
            purpose="login",
            provider=provider,
        )
        user = _identity_owner(session, identity)
        created = False
        if user is None:
            user = _create_user_from_identity(session, settings, identity)
            created = True
    except SayZhongError as exc:
        record_audit(
            session=session,
            action="sign_in.failed",
            ip=ip,
            detail={"method": "oidc", "code": exc.code},
        )
        return SignInResult(error=exc)
    assert user.id is not None
    if created:
        from sayzhong.analytics import service as analytics
        from sayzhong.privacy import consent

        consent.link_visitor_to_user(
            session=session, visitor_id=consent.visitor_from_cookie_header(cookie_header), user_id=user.id
        )
        analytics.record_sign_up(session=session, user_id=user.id, method="oidc", cookie_header=cookie_header)
    if identity.email_verified and not user.email_verified and _normalised_email(identity) == user.email:
        # The provider vouches for the very address this account uses: that counts as verified.
        user.email_verified = True
        session.add(user)
        session.flush()
        record_audit(
            session=session,
            action="email.verified",
            actor_id=user.id,
            target=f"user:{user.id}",
            ip=ip,
            detail={"via": "oidc", "issuer": identity.issuer},
        )
    if user.two_factor_enabled:
        return second_factor_required(session=session, user=user, method="oidc", ip=ip)
    token = sessions_mod.create_session(
        session=session,
        user_id=user.id,
        ip=ip,
        user_agent=user_agent,
        auth_method="oidc",
        replaces_token=current_token,
    )
    record_audit(
        session=session,
        action="sign_in.succeeded",
        actor_id=user.id,
        target=f"user:{user.id}",
        ip=ip,
        detail={"method": "oidc", "issuer": identity.issuer, "new_account": created},
    )
    return SignInResult(user=UserInfo.from_row(user), token=token, new_account=created)


def _create_user_from_identity(session: Session, settings: Settings, identity: VerifiedIdentity) -> User:
    email = _normalised_email(identity)
    if email is None:
        raise _fail("oidc_no_email", settings)
    if not identity.email_verified:
        raise _fail("oidc_email_unverified", settings)
    if session.exec(select(User.id).where(col(User.email) == email)).first() is not None:
        raise _fail("oidc_email_taken", settings)
    display_name = (identity.name or email.split("@", 1)[0]).strip()[:80] or email.split("@", 1)[0][:80]
    user = User(
        email=email,
        password_hash=None,
        display_name=display_name,
        role=Role.LEARNER.value,
        email_verified=True,
    )
    try:
        with session.begin_nested():
            session.add(user)
            session.flush()
            session.add(
                OidcIdentity(
                    user_id=user.id or 0, issuer=identity.issuer, subject=identity.subject, email=email
                )
            )
    except IntegrityError:
        raise _fail("oidc_concurrent_sign_up", settings) from None
    record_audit(
        session=session,
        action="user.signed_up",
        actor_id=user.id,
        target=f"user:{user.id}",
        detail={"method": "oidc", "issuer": identity.issuer},
    )
    return user


def complete_oidc_link(
    *,
    session: Session,
    settings: Settings,
    redirect_uri: str,
    params: dict[str, str],
    browser_state: str | None,
    user_id: int,
    ip: str | None = None,
    provider: OidcProvider | None = None,
) -> OidcLinkResult:
    """Finish linking for the signed-in `user_id` (must be the user who started the link)."""
    try:
        identity, row = _consume(
            session=session,
            settings=settings,
            redirect_uri=redirect_uri,
            params=params,
            browser_state=browser_state,
            purpose="link",
            provider=provider,
        )
        if row.link_user_id != user_id:
            raise _fail("oidc_link_wrong_user", settings)
        user = session.get(User, user_id)
        if user is None:
            raise NotFoundError("We could not find that account.")
        owner = _identity_owner(session, identity)
        if owner is not None and owner.id != user_id:
            raise _fail("oidc_identity_taken", settings)
        if owner is None:
            session.add(
                OidcIdentity(
                    user_id=user_id,
                    issuer=identity.issuer,
                    subject=identity.subject,
                    email=_normalised_email(identity),
                )
            )
            session.flush()
    except SayZhongError as exc:
        record_audit(
            session=session,
            action="oidc.link_failed",
            actor_id=user_id,
            target=f"user:{user_id}",
            ip=ip,
            detail={"code": exc.code},
        )
        return OidcLinkResult(error=exc)
    record_audit(
        session=session,
        action="oidc.linked",
        actor_id=user_id,
        target=f"user:{user_id}",
        ip=ip,
        detail={"issuer": identity.issuer, "subject": identity.subject},
    )
    return OidcLinkResult(user=UserInfo.from_row(user))


def list_linked_identities(*, session: Session, user_id: int) -> list[LinkedIdentityInfo]:
    rows = session.exec(
        select(OidcIdentity).where(col(OidcIdentity.user_id) == user_id).order_by(col(OidcIdentity.id))
    ).all()
    return [
        LinkedIdentityInfo(
            id=r.id or 0, issuer=r.issuer, subject=r.subject, email=r.email, created_at=as_utc(r.created_at)
        )
        for r in rows
    ]


def unlink_oidc_identity(*, session: Session, user_id: int, identity_id: int, ip: str | None = None) -> None:
    """Remove a linked provider; refused if it is the account's only way to sign in."""
    row = session.get(OidcIdentity, identity_id)
    if row is None or row.user_id != user_id:
        raise NotFoundError("That linked sign-in no longer exists.")
    user = session.get(User, user_id)
    others = session.exec(
        select(OidcIdentity.id).where(
            col(OidcIdentity.user_id) == user_id, col(OidcIdentity.id) != identity_id
        )
    ).all()
    if user is not None and user.password_hash is None and not others:
        raise ValidationError(
            "Set a password first: otherwise you would have no way left to sign in.",
            code="last_sign_in_method",
        )
    session.delete(row)
    session.flush()
    record_audit(
        session=session,
        action="oidc.unlinked",
        actor_id=user_id,
        target=f"user:{user_id}",
        ip=ip,
        detail={"issuer": row.issuer},
    )


def purge_expired_oidc_states(*, session: Session) -> int:
    result = session.execute(
        delete(OidcLoginState).where(col(OidcLoginState.expires_at) < utcnow()),
        execution_options={"synchronize_session": "fetch"},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
