"""OpenTelemetry tracing: one SDK tracer provider per process, OTLP/HTTP export when configured.

The web and jobs processes call ``configure_tracing`` once at start. Spans are always recorded (so
every log line carries a trace id); they leave the process only when
``OTEL_EXPORTER_OTLP_ENDPOINT`` names a collector. Library code opens spans through the plain
OpenTelemetry API (``trace.get_tracer(__name__)``), which costs nothing when no provider is set
(tests, command-line tools).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

if TYPE_CHECKING:
    from sayzhong.settings import Settings

log = logging.getLogger(__name__)


def otlp_traces_url(endpoint: str) -> str:
    """The OTLP/HTTP traces URL for a collector base URL (the spec's OTEL_EXPORTER_OTLP_ENDPOINT rule)."""
    return endpoint.rstrip("/") + "/v1/traces"


def build_tracer_provider(settings: Settings, *, role: str) -> TracerProvider:
    resource = Resource.create(
        {"service.name": settings.otel_service_name, "service.namespace": "sayzhong", "sayzhong.role": role}
    )
    provider = TracerProvider(resource=resource)
    if settings.otel_exporter_otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=otlp_traces_url(settings.otel_exporter_otlp_endpoint), timeout=5)
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def configure_tracing(settings: Settings, *, role: str) -> TracerProvider:
    """Install this process's tracer provider (the first call wins; later calls return it)."""
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        return current
    provider = build_tracer_provider(settings, role=role)
    trace.set_tracer_provider(provider)
    if settings.otel_exporter_otlp_endpoint:
        log.info("tracing: exporting spans over OTLP/HTTP")
    return provider
