"""What an API operation is, and the wrapper every authenticated operation runs through.

An `Operation` names its handler, the typed view its success body is built from, and the error
classes it can answer with; `sayzhong.api.app` turns operations into routes and
`sayzhong.api.openapi` into the document, so routes and document come from one declaration.
The wrapper authenticates the bearer token, checks the scope, spends the token's request budget
and turns every error into the JSON error body.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sayzhong.api import tokens
from sayzhong.api.errors import NO_STORE, error_response, internal_error_response
from sayzhong.api.ratelimit import TokenBucketLimiter
from sayzhong.api.requests import bearer_token, client_address
from sayzhong.api.views import to_json
from sayzhong.billing.entitlements import PlanRequiredError, has_plus, terminal_client_message
from sayzhong.db import session_scope
from sayzhong.errors import AuthenticationError, InternalError, RateLimitedError, SayZhongError

log = logging.getLogger(__name__)

Handler = Callable[[Request, tokens.TokenAuth], Awaitable[Response]]

# Every authenticated operation can answer these, whatever it does.
AUTH_ERRORS: tuple[type[SayZhongError], ...] = (
    tokens.TokenMissingError,
    tokens.TokenInvalidError,
    tokens.TokenExpiredError,
    tokens.TokenRevokedError,
    RateLimitedError,
    InternalError,
)


@dataclasses.dataclass(frozen=True)
class Operation:
    method: str
    path: str
    """Starlette path under the API prefix, e.g. `/attempts/{attempt_id:int}`."""
    operation_id: str
    summary: str
    handler: Handler
    scope: str | None
    """Required token scope; None = any valid token."""
    body: Any = None
    """The typed view of the JSON success body (see `sayzhong.api.views`); None for a binary body."""
    errors: tuple[type[SayZhongError], ...] = ()
    """Error classes this operation answers with, besides `AUTH_ERRORS` (and 403 for a scope)."""
    statuses: tuple[int, ...] = (200,)
    """Success statuses; each carries `body`."""
    cost: float = 1.0
    """Share of the token's request budget one call spends."""
    openapi: dict[str, Any] = dataclasses.field(default_factory=dict)
    """Extra OpenAPI fields (parameters, requestBody, description, a binary 200)."""
    plus_only: bool = True
    """Billing (issue 12): the API is the terminal client's door, a Plus feature (402 plan_required)."""

    @property
    def all_errors(self) -> tuple[type[SayZhongError], ...]:
        scope_error = (tokens.InsufficientScopeError,) if self.scope else ()
        plan_error = (PlanRequiredError,) if self.plus_only else ()
        return tuple(dict.fromkeys((*AUTH_ERRORS, *scope_error, *plan_error, *self.errors)))


def view_response(view: Any, value: Any, status: int = 200) -> JSONResponse:
    """A success body built from its typed view (the same type the document describes)."""
    return JSONResponse(to_json(view, value), status_code=status, headers=NO_STORE)


@dataclasses.dataclass(frozen=True)
class ApiLimits:
    per_token: TokenBucketLimiter
    """Every authenticated request spends from its token's bucket."""
    auth_failures: TokenBucketLimiter
    """Failed authentications spend from the client address's bucket (slows token guessing)."""

    @classmethod
    def default(cls) -> ApiLimits:
        return cls(
            per_token=TokenBucketLimiter(capacity=120, refill_per_s=2.0),
            auth_failures=TokenBucketLimiter(capacity=20, refill_per_s=0.2),
        )


def _authenticate_sync(raw: str | None, plus_only: bool) -> tuple[tokens.TokenAuth, bool]:
    """The token's account and whether its plan allows the operation (a Plus-only one needs Plus),
    read in one unit of work; the refusal is raised once the rate limit and scope are checked."""
    with session_scope() as session:
        auth = tokens.authenticate_token(session=session, token=raw)
        return auth, not plus_only or has_plus(session=session, user_id=auth.user.id)


def authenticated(limits: ApiLimits, operation: Operation) -> Callable[[Request], Awaitable[Response]]:
    """The operation's handler behind authentication, scope check, rate limit and error translation."""

    async def endpoint(request: Request) -> Response:
        try:
            raw = bearer_token(request)
            try:
                auth, plan_allows = await asyncio.to_thread(_authenticate_sync, raw, operation.plus_only)
            except AuthenticationError:
                if raw is not None:
                    failure = limits.auth_failures.take(client_address(request))
                    if not failure.allowed:
                        raise RateLimitedError(retry_after_s=failure.retry_after_s) from None
                raise
            decision = limits.per_token.take(f"token:{auth.token.id}", operation.cost)
            if not decision.allowed:
                raise RateLimitedError(
                    "Too many requests with this access token. Wait a moment and try again.",
                    retry_after_s=decision.retry_after_s,
                )
            if operation.scope is not None:
                tokens.require_scope(auth, operation.scope)
            if not plan_allows:
                raise PlanRequiredError(terminal_client_message())
            return await operation.handler(request, auth)
        except SayZhongError as exc:
            return error_response(exc)
        except Exception:
            log.exception("API request failed: %s %s", request.method, request.url.path)
            return internal_error_response()

    return endpoint
