"""Process start-up for observability: JSON logs, the tracer provider, metric housekeeping."""

from __future__ import annotations

import atexit

from opentelemetry.sdk.trace import TracerProvider

from sayzhong.ops.logs import configure_logging
from sayzhong.ops.metrics import mark_worker_dead
from sayzhong.ops.tracing import configure_tracing
from sayzhong.settings import get_settings


def start_telemetry(*, role: str) -> TracerProvider:
    """Call once when a web worker or the jobs process starts (``role``: web or jobs)."""
    settings = get_settings()
    configure_logging(settings)
    provider = configure_tracing(settings, role=role)
    # Flush queued spans and drop this worker's live gauges when it exits.
    atexit.register(provider.shutdown)
    atexit.register(mark_worker_dead)
    return provider
