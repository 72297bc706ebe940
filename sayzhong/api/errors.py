"""JSON error bodies for the API: `{"error": {"code": "...", "message": "..."}}`.

Every failure the API answers is a `SayZhongError` subclass carrying its code, HTTP status and
message. The OpenAPI document lists, per operation, the codes of the classes that operation declares
(see `sayzhong.api.operations`), so the document's codes are these classes' codes, never a hand list.
"""

from __future__ import annotations

from http import HTTPStatus

from starlette.responses import JSONResponse

from sayzhong.api.views import ErrorBody, ErrorDetail, to_json
from sayzhong.errors import InternalError, NotFoundError, RateLimitedError, SayZhongError, ValidationError

NO_STORE = {"Cache-Control": "no-store"}


class UnknownPathError(NotFoundError):
    """No route matches (also a path parameter of the wrong shape, e.g. `/attempts/abc`)."""

    code = "not_found"
    default_message = "There is nothing at this address."


class MethodNotAllowedError(SayZhongError):
    code = "method_not_allowed"
    http_status = 405
    default_message = "This address does not accept that method."


class ItemIdMissingError(ValidationError):
    code = "item_id_missing"
    http_status = 422
    default_message = "Say which item was practised (X-Item-Id header)."


class MultipartInvalidError(ValidationError):
    code = "multipart_invalid"
    http_status = 422
    default_message = "The form upload could not be read."


class AudioMissingError(ValidationError):
    code = "audio_missing"
    http_status = 422
    default_message = "Put the recording in a form field named “audio”."


class HttpStatusError(SayZhongError):
    """Any other status Starlette raises on its own (not declared by an operation)."""

    def __init__(self, status: int) -> None:
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Error"
        self.http_status = status
        super().__init__(f"{phrase}.", code=phrase.lower().replace(" ", "_").replace("-", "_"))


def protocol_error(status: int) -> SayZhongError:
    """The error for a status Starlette's router raised (unknown path, wrong method, …)."""
    if status == 404:
        return UnknownPathError()
    if status == 405:
        return MethodNotAllowedError()
    return HttpStatusError(status)


def error_response(exc: SayZhongError, headers: dict[str, str] | None = None) -> JSONResponse:
    """The JSON response for an error, with the headers its status calls for."""
    status = int(getattr(exc, "http_status", 400) or 400)
    extra: dict[str, str] = {**dict(getattr(exc, "headers", {}) or {}), **(headers or {})}
    if isinstance(exc, RateLimitedError):
        extra["Retry-After"] = str(max(1, int(exc.retry_after_s)))
    if status == 401:
        extra.setdefault("WWW-Authenticate", 'Bearer realm="sayzhong"')
    body = ErrorBody(error=ErrorDetail(code=exc.code, message=exc.user_message))
    return JSONResponse(to_json(ErrorBody, body), status_code=status, headers={**NO_STORE, **extra})


def internal_error_response() -> JSONResponse:
    return error_response(InternalError())
