"""Structured logs: one JSON object per line, with the trace id, the request id and a user hash.

Nothing personal or secret reaches a log line: e-mail addresses, bearer tokens, ``password=…``-style
pairs, card-like numbers and the configured secret values are replaced before a line is written,
in the message, its arguments, extra fields and exception text alike. Users appear only as a keyed
hash of their id (``user_hash``), stable within a deployment and useless outside it.
"""

from __future__ import annotations

import contextvars
import hashlib
import hmac
import ipaddress
import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from opentelemetry import trace

if TYPE_CHECKING:
    from sayzhong.settings import Settings

# The current request's (or job's) log fields. A dict, shared by reference with the worker threads a
# request hands work to (asyncio.to_thread copies the context, not the dict), so a user bound while
# scoring in a thread also tags the request's access-log line.
log_context: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "sz_log_context", default=None
)

# Extra fields a log call may pass (``log.info("…", extra={"duration_ms": 3})``); others are ignored.
EXTRA_FIELDS = (
    "event",
    "actor_hash",
    "target_kind",
    "ip_prefix",
    "route",
    "method",
    "status",
    "duration_ms",
    "handler",
    "job",
    "engine",
    "outcome",
    "reason",
    "bytes",
)

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"(?i)\b([\w-]*(?:password|passwd|secret|token|api[_-]?key|authorization|cookie|session|ticket)[\w-]*)"
            r"(\"?\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|(?:(?:bearer|basic)\s+)?[^\s,;&]+)"
        ),
        r"\1\2[redacted]",
    ),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}"), r"\1 [redacted]"),
    (re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"), "[email]"),
    (re.compile(r"\b(?:sk|rk|pk|whsec)_(?:live|test)?_?[A-Za-z0-9]{8,}"), "[redacted-key]"),
    (re.compile(r"\b(?:\d[ -]?){12,18}\d\b"), "[number]"),
)


class Redactor:
    """Replaces personal data and secrets in text; ``secrets`` are literal values to hide."""

    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        self.secrets = tuple(sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True))

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "[redacted]")
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text


def settings_secrets(settings: Settings) -> tuple[str, ...]:
    return (
        settings.secret_key,
        settings.smtp_password,
        settings.azure_speech_key,
        settings.oidc_client_secret,
        settings.metrics_token,
        settings.backup_encryption_key,
    )


def hash_user(user_id: int | str, *, key: str) -> str:
    """A pseudonymous, deployment-keyed handle for a user id (12 hex digits)."""
    return hmac.new(key.encode(), str(user_id).encode(), hashlib.sha256).hexdigest()[:12]


def bind(**fields: str) -> None:
    """Add fields (request_id, route, user_hash) to the current log context, creating one if needed."""
    current = log_context.get()
    if current is None:
        log_context.set(dict(fields))
    else:
        current.update(fields)


def bind_user(user_id: int) -> None:
    """Tag the log lines of the current request or handler with the user's hash."""
    from sayzhong.settings import get_settings

    bind(user_hash=hash_user(user_id, key=get_settings().secret_key))


security_log = logging.getLogger("sayzhong.security")


def ip_prefix(ip: str | None) -> str | None:
    """The network, not the host: IPv4 /24, IPv6 /48 — enough to spot an attack, not to find a person."""
    if not ip:
        return None
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return None
    prefix = 24 if addr.version == 4 else 48
    return str(ipaddress.ip_network(f"{addr}/{prefix}", strict=False))


def security_event(*, action: str, actor_id: int | None, target: str | None, ip: str | None) -> None:
    """One line on the ``sayzhong.security`` stream (schema: docs/operations.md "Security log")."""
    from sayzhong.settings import get_settings

    key = get_settings().secret_key
    security_log.info(
        "security event %s",
        action,
        extra={
            "event": action,
            "actor_hash": hash_user(actor_id, key=key) if actor_id is not None else None,
            "target_kind": target.split(":", 1)[0]
            if target and ":" in target
            else ("email" if target else None),
            "ip_prefix": ip_prefix(ip),
        },
    )


def current_trace_ids() -> tuple[str | None, str | None]:
    ctx = trace.get_current_span().get_span_context()
    if not ctx.is_valid:
        return None, None
    return format(ctx.trace_id, "032x"), format(ctx.span_id, "016x")


class JsonFormatter(logging.Formatter):
    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        trace_id, span_id = current_trace_ids()
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": self.redact(record.getMessage()),
        }
        if trace_id:
            out["trace_id"], out["span_id"] = trace_id, span_id
        out.update(log_context.get() or {})
        for name in EXTRA_FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                out[name] = self.redact(value) if isinstance(value, str) else value
        if record.exc_info:
            out["exc"] = self.redact(self.formatException(record.exc_info))
        return json.dumps(out, ensure_ascii=False, default=str)


class RedactingTextFormatter(logging.Formatter):
    """Human-readable lines for development, scrubbed the same way."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        trace_id, _ = current_trace_ids()
        line = super().format(record)
        return self.redact(line + (f" trace_id={trace_id}" if trace_id else ""))


_HANDLER_MARK = "_sayzhong_handler"


def build_handler(settings: Settings, stream: Any = None) -> logging.Handler:
    handler = logging.StreamHandler(stream or sys.stderr)
    redact = Redactor(settings_secrets(settings))
    handler.setFormatter(
        JsonFormatter(redact) if settings.log_format == "json" else RedactingTextFormatter(redact)
    )
    setattr(handler, _HANDLER_MARK, True)
    return handler


class _SamePageAgain(logging.Filter):
    """Reflex's production server registers every page a second time with the very same component
    (the backend re-applies the decorated pages after the frontend build) and warns once per page:
    over 60 lines of "Page … is being redefined with the same component." on every start, which say
    nothing wrong. A page redefined with a *different* component is an error Reflex raises, not this."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "is being redefined with the same component" not in record.getMessage()


QUIET_LOGGERS = ("alembic.runtime.plugins",)
"""Start-up chatter kept out of the log at INFO: Reflex compares the models with the database on
every start, and alembic announces each of its plugins as it does (16 lines per `make run`)."""


def configure_logging(settings: Settings) -> None:
    """Install the one root handler (idempotent: a second call replaces the first)."""
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, _HANDLER_MARK, False):
            root.removeHandler(existing)
    root.addHandler(build_handler(settings))
    root.setLevel(settings.log_level.upper())
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    reflex_app = logging.getLogger("reflex.app")
    if not any(isinstance(f, _SamePageAgain) for f in reflex_app.filters):
        reflex_app.addFilter(_SamePageAgain())
