"""HTTP client for the SayZhong JSON API (`/api/v1`), built on `requests`.

Failures are sorted into what the learner can do about them:
- `ServerUnreachableError`: connection refused/reset, timeout, or a 5xx answer; the caller falls
  back to offline scoring and queues the take;
- `AuthProblemError`: 401 (missing, invalid, expired or revoked token): log in again;
- `ApiRequestError`: any other refusal (4xx) with the server's stable code and message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from sayzhong import routes

API_PREFIX = "/api/v1"
CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 60.0
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
"""The server's default limit; checked before uploading so a huge file is refused at once."""


class ClientError(Exception):
    """An error whose message can be shown to the learner as is."""

    def __init__(self, message: str, *, code: str = "client_error") -> None:
        self.message = message
        self.code = code
        super().__init__(message)


class ServerUnreachableError(ClientError):
    def __init__(self, message: str, *, code: str = "server_unreachable", status: int | None = None) -> None:
        self.status = status
        super().__init__(message, code=code)


class ApiRequestError(ClientError):
    def __init__(self, message: str, *, code: str, status: int, retry_after_s: int | None = None) -> None:
        self.status = status
        self.retry_after_s = retry_after_s
        super().__init__(message, code=code)


class PlanRequiredError(ApiRequestError):
    """402: the account's plan does not include this (the terminal client and later lessons are
    Plus; the Free daily limit). The message says where to upgrade."""

    def __init__(self, message: str, *, code: str, upgrade_url: str) -> None:
        if "://" not in message:  # the server's sentence names the page; give the full address
            message = f"{message} Upgrade: {upgrade_url}"
        super().__init__(message, code=code, status=402)
        self.upgrade_url = upgrade_url


class AuthProblemError(ApiRequestError):
    """The token is missing, wrong, expired or revoked."""


class FileTooLargeError(ClientError):
    def __init__(self, size: int, limit: int = MAX_UPLOAD_BYTES) -> None:
        super().__init__(
            f"The recording is too large ({size / 1_048_576:.1f} MB); the server accepts at most "
            f"{limit / 1_048_576:.0f} MB. Record or choose a shorter take.",
            code="audio_too_large",
        )


@dataclass(frozen=True, slots=True)
class SubmitResult:
    attempt: dict[str, Any]
    replayed: bool
    """True when the server already had this take (same idempotency key) and returned it again."""


_AUTH_HINT = "Create a new token on your account page, then run `sayzhong-client login`."


def _error_from(response: requests.Response) -> ClientError:
    status = response.status_code
    code, message = f"http_{status}", f"The server answered {status}."
    try:
        body = response.json()
        err = body.get("error") if isinstance(body, dict) else None
        if isinstance(err, dict):
            code = str(err.get("code") or code)
            message = str(err.get("message") or message)
    except ValueError:
        pass
    if status >= 500:
        return ServerUnreachableError(
            f"The server had a problem ({status}: {message})", code="server_error", status=status
        )
    if status == 401:
        return AuthProblemError(f"{message} {_AUTH_HINT}", code=code, status=status)
    retry_after: int | None = None
    if status == 429:
        try:
            retry_after = int(response.headers.get("Retry-After", "1"))
        except ValueError:
            retry_after = 1
        message = f"{message} (retry in {retry_after} s)"
    return ApiRequestError(message, code=code, status=status, retry_after_s=retry_after)


class ApiClient:
    def __init__(
        self,
        server: str,
        token: str | None,
        *,
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
        read_timeout_s: float = READ_TIMEOUT_S,
        session: requests.Session | None = None,
    ) -> None:
        self.server = server.rstrip("/")
        self.token = token
        self.timeout = (connect_timeout_s, read_timeout_s)
        self.http = session or requests.Session()
        self.http.headers["User-Agent"] = "sayzhong-client/1"

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        if not self.token:
            raise AuthProblemError(
                "You are not logged in. Run `sayzhong-client login` first.", code="token_missing", status=401
            )
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        url = f"{self.server}{API_PREFIX}{path}"
        try:
            response = self.http.request(method, url, headers=headers, timeout=self.timeout, **kwargs)
        except requests.Timeout:
            raise ServerUnreachableError(
                f"The server at {self.server} did not answer in time.", code="server_timeout"
            ) from None
        except requests.ConnectionError:
            raise ServerUnreachableError(f"Cannot reach the server at {self.server}.") from None
        except requests.RequestException as exc:
            raise ServerUnreachableError(f"Talking to {self.server} failed: {exc}") from None
        if response.status_code >= 400:
            error = _error_from(response)
            if response.status_code == 402 and isinstance(error, ApiRequestError):
                raise PlanRequiredError(
                    error.message, code=error.code, upgrade_url=f"{self.server}{routes.PRICING}"
                )
            raise error
        return response

    def _json(self, path: str) -> Any:
        response = self._request("GET", path)
        try:
            return response.json()
        except ValueError:
            raise ServerUnreachableError(
                "The server sent an unreadable answer. Is --server the SayZhong address?", code="bad_response"
            ) from None

    def me(self) -> dict[str, Any]:
        return dict(self._json("/me"))

    def units(self) -> list[dict[str, Any]]:
        return list(self._json("/units")["units"])

    def unit(self, unit_id: str) -> dict[str, Any]:
        return dict(self._json(f"/units/{requests.utils.quote(unit_id, safe='')}"))

    def reference_audio(self, item_id: str) -> bytes:
        path = f"/items/{requests.utils.quote(item_id, safe='')}/reference-audio"
        return self._request("GET", path).content

    def progress(self) -> dict[str, Any]:
        return dict(self._json("/progress"))

    def reviews(self) -> Any:
        return self._json("/reviews")

    def get_attempt(self, attempt_id: int) -> dict[str, Any]:
        return dict(self._json(f"/attempts/{int(attempt_id)}"))

    def submit_attempt(
        self, *, item_id: str, audio: bytes, content_type: str, idempotency_key: str
    ) -> SubmitResult:
        if len(audio) > MAX_UPLOAD_BYTES:
            raise FileTooLargeError(len(audio))
        response = self._request(
            "POST",
            "/attempts",
            data=audio,
            headers={"Content-Type": content_type, "X-Item-Id": item_id, "Idempotency-Key": idempotency_key},
        )
        try:
            attempt = response.json()
        except ValueError:
            raise ServerUnreachableError(
                "The server sent an unreadable answer.", code="bad_response"
            ) from None
        return SubmitResult(attempt=dict(attempt), replayed=response.status_code == 200)
