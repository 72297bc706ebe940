"""Reflex's built-in trace points, fed into our Prometheus metrics.

Reflex (``reflex_base.otel``) times every event handler, the wait for session state and the open
websocket count through the OpenTelemetry *metrics API*. Instead of running an OpenTelemetry
metrics SDK beside prometheus-client (two exporters, no multiprocess support), this bridge is the
meter provider Reflex is given: each instrument it asks for writes straight into the matching
multiprocess-safe Prometheus metric. Instruments we do not chart are dropped.

Nothing here imports Reflex; ``sayzhong/sayzhong.py`` hands the bridge to ``reflex_base.otel.enable``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sayzhong.ops import metrics

EVENT_NAME = "reflex.event.name"
ERROR_TYPE = "error.type"


class _Drop:
    def record(self, *_args: Any, **_kwargs: Any) -> None:
        return None

    def add(self, *_args: Any, **_kwargs: Any) -> None:
        return None


class _EventDuration:
    def record(self, amount: float, attributes: Mapping[str, Any] | None = None, *_a: Any, **_k: Any) -> None:
        attrs = attributes or {}
        handler = str(attrs.get(EVENT_NAME, "unknown"))
        outcome = str(attrs.get(ERROR_TYPE, "ok"))
        metrics.EVENT_DURATION.labels(handler, outcome).observe(amount)


class _StateAcquire:
    def record(self, amount: float, attributes: Mapping[str, Any] | None = None, *_a: Any, **_k: Any) -> None:
        metrics.STATE_ACQUIRE_DURATION.labels(str((attributes or {}).get(EVENT_NAME, "unknown"))).observe(
            amount
        )


class _Connections:
    def add(self, amount: int, *_a: Any, **_k: Any) -> None:
        metrics.WEBSOCKET_CONNECTIONS.inc(amount)


_INSTRUMENTS: dict[str, object] = {
    "reflex.event.duration": _EventDuration(),
    "reflex.state.acquire.duration": _StateAcquire(),
    "reflex.websocket.connections": _Connections(),
}


class PrometheusMeter:
    def _instrument(self, name: str) -> object:
        return _INSTRUMENTS.get(name, _Drop())

    def create_histogram(self, name: str, *_a: Any, **_k: Any) -> object:
        return self._instrument(name)

    def create_up_down_counter(self, name: str, *_a: Any, **_k: Any) -> object:
        return self._instrument(name)

    def create_counter(self, name: str, *_a: Any, **_k: Any) -> object:
        return self._instrument(name)


class PrometheusMeterProvider:
    """Quacks like ``opentelemetry.metrics.MeterProvider`` for the instruments Reflex creates."""

    def get_meter(self, *_a: Any, **_k: Any) -> PrometheusMeter:
        return PrometheusMeter()
