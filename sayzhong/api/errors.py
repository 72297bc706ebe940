"""JSON error bodies for the API: `{"error": {"code": "...", "message": "..."}}`.

Every `SayZhongError` keeps its own stable code and user message. Protocol-level failures get the
codes below, listed once here so the OpenAPI document and the docs cannot drift from the routes.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from sayzhong.errors import RateLimitedError, SayZhongError

# Stable codes for protocol-level errors (HTTP status -> (code, message)).
HTTP_ERRORS: dict[int, tuple[str, str]] = {
    400: ("bad_request", "The request could not be understood."),
    402: ("plan_required", "That needs SayZhong Plus. See the plans on the pricing page."),
    401: ("unauthenticated", "Send a valid access token in the Authorization header."),
    403: ("forbidden", "This access token is not allowed to do that."),
    404: ("not_found", "There is nothing at this address."),
    405: ("method_not_allowed", "This address does not accept that method."),
    409: ("conflict", "The request conflicts with one still being processed. Try again in a moment."),
    413: ("payload_too_large", "The upload is too large."),
    415: ("unsupported_media_type", "Send the recording as audio (WAV, MP3, FLAC, Ogg, WebM or M4A)."),
    422: ("invalid_input", "Some of the information sent is not valid."),
    429: ("rate_limited", "Too many requests. Wait a moment and try again."),
    500: ("internal_error", "Something went wrong on our side. Please try again."),
    503: ("unavailable", "This service is temporarily unavailable. Please try again shortly."),
}

NO_STORE = {"Cache-Control": "no-store"}


class ApiError(SayZhongError):
    """A protocol-level failure raised inside the API layer (bad header, wrong media type, …)."""

    def __init__(self, status: int, message: str | None = None, *, code: str | None = None) -> None:
        default_code, default_message = HTTP_ERRORS.get(status, HTTP_ERRORS[400])
        self.http_status = status
        self.headers: dict[str, str] = {}
        super().__init__(message or default_message, code=code or default_code)


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def error_response(
    status: int, code: str | None = None, message: str | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    default_code, default_message = HTTP_ERRORS.get(status, HTTP_ERRORS[500])
    return JSONResponse(
        error_body(code or default_code, message or default_message),
        status_code=status,
        headers={**NO_STORE, **(headers or {})},
    )


def response_for(exc: SayZhongError) -> JSONResponse:
    """The JSON response for a domain or API error, with the headers its status calls for."""
    status = int(getattr(exc, "http_status", 400) or 400)
    headers: dict[str, str] = dict(getattr(exc, "headers", {}) or {})
    if isinstance(exc, RateLimitedError):
        headers["Retry-After"] = str(max(1, int(exc.retry_after_s)))
    if status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="sayzhong"')
    return error_response(status, exc.code, exc.user_message, headers)
