"""Domain errors: every error a user can see carries a stable code and a plain-language message.

Services raise these; state classes and HTTP routes turn them into friendly UI messages or
JSON error bodies. Never show a raw exception to a user.
"""

from __future__ import annotations


class SayZhongError(Exception):
    """Base class for errors whose message is safe and useful to show to the user."""

    code: str = "error"
    http_status: int = 400
    default_message: str = "Something went wrong. Please try again."

    def __init__(self, user_message: str | None = None, *, code: str | None = None) -> None:
        self.user_message = user_message or self.default_message
        if code is not None:
            self.code = code
        super().__init__(self.user_message)

    def __reduce__(self) -> tuple[object, ...]:
        # Keep the code and every attribute when the error crosses a process boundary (scoring pool).
        return (_restore_error, (type(self), dict(self.__dict__)))


def _restore_error(cls: type[SayZhongError], state: dict[str, object]) -> SayZhongError:
    error = cls.__new__(cls)
    Exception.__init__(error, state.get("user_message"))
    error.__dict__.update(state)
    return error


class ValidationError(SayZhongError):
    code = "invalid_input"
    default_message = "Some of the information you entered is not valid."


class NotFoundError(SayZhongError):
    code = "not_found"
    http_status = 404
    default_message = "We could not find what you were looking for."


class PermissionDeniedError(SayZhongError):
    code = "forbidden"
    http_status = 403
    default_message = "You do not have permission to do that."


class AuthenticationError(SayZhongError):
    code = "unauthenticated"
    http_status = 401
    default_message = "Please sign in to continue."


class RateLimitedError(SayZhongError):
    code = "rate_limited"
    http_status = 429
    default_message = "Too many attempts. Please wait a moment and try again."

    def __init__(self, user_message: str | None = None, *, retry_after_s: int = 60) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(user_message)


class ServiceUnavailableError(SayZhongError):
    code = "unavailable"
    http_status = 503
    default_message = "This service is temporarily unavailable. Please try again shortly."


class InternalError(SayZhongError):
    """A fault on our side: answered 5xx (so monitoring counts it) with a calm message, details logged."""

    code = "internal_error"
    http_status = 500
    default_message = "Something went wrong on our side. Please try again."
