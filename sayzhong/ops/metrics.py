"""Prometheus metrics: the one list of what SayZhong measures, and how it is exposed.

Multiprocess-safe: with several web workers, set ``PROMETHEUS_MULTIPROC_DIR`` to an empty folder
shared by the workers *before they start* (``scripts/run.sh`` and the Dockerfile do); every worker
then writes its samples there and ``render_metrics`` merges them. Without it the process's own
registry is served (one worker, ``make run``).

Label values are always from small fixed sets (route templates, handler names, engine names,
reasons): never user input, ids or e-mail addresses.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

NAMESPACE = "sayzhong"
# Request and handler latencies: most answers are a few ms, scoring a few hundred.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_REQUESTS = Counter(
    "http_requests_total",
    "HTTP requests answered, by route template, method and status code.",
    ["route", "method", "status"],
    namespace=NAMESPACE,
)
HTTP_DURATION = Histogram(
    "http_request_duration_seconds",
    "Time to answer an HTTP request (to the end of the response body).",
    ["route", "method"],
    namespace=NAMESPACE,
    buckets=LATENCY_BUCKETS,
)
WEBSOCKET_CONNECTIONS = Gauge(
    "websocket_connections",
    "Open Reflex websocket connections (summed over live workers).",
    namespace=NAMESPACE,
    multiprocess_mode="livesum",
)
EVENT_DURATION = Histogram(
    "event_handler_duration_seconds",
    "Reflex event handler run time, by handler and outcome (ok or the error type).",
    ["handler", "outcome"],
    namespace=NAMESPACE,
    buckets=LATENCY_BUCKETS,
)
STATE_ACQUIRE_DURATION = Histogram(
    "state_acquire_duration_seconds",
    "Time a Reflex event waited to load its session state (memory or Redis).",
    ["handler"],
    namespace=NAMESPACE,
    buckets=LATENCY_BUCKETS,
)
GC_PAUSE = Histogram(
    "gc_pause_seconds",
    "Python garbage-collection pauses (every thread stops), by generation (2: a full collection).",
    ["generation"],
    namespace=NAMESPACE,
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
)
GC_FROZEN = Gauge(
    "gc_frozen_objects",
    "Objects a web worker froze out of garbage collection at start (the largest over live workers).",
    namespace=NAMESPACE,
    multiprocess_mode="livemax",
)
SCORING_DURATION = Histogram(
    "scoring_duration_seconds",
    "Time to score one take (decode, pitch, align, classify, Azure), by engine and outcome.",
    ["engine", "outcome"],
    namespace=NAMESPACE,
    buckets=LATENCY_BUCKETS,
)
SCORING_QUEUE = Gauge(
    "scoring_queue",
    "Takes received and waiting for a scoring thread (summed over live workers).",
    namespace=NAMESPACE,
    multiprocess_mode="livesum",
)
AZURE_FALLBACKS = Counter(
    "azure_fallback_total",
    "Takes scored offline because Azure Speech could not be used, by reason.",
    ["reason"],
    namespace=NAMESPACE,
)
SCORED_TAKES = Counter(
    "scored_takes_total",
    "Takes scored and stored, by practice mode and engine.",
    ["mode", "engine"],
    namespace=NAMESPACE,
)
GUARD_CACHE = Counter(
    "guard_cache_total",
    "Page-load guards by how they were answered (hit: from the worker's memory; miss: from the "
    "database; error: Redis did not answer the generation check, or had just lost its counters, so "
    "from the database).",
    ["outcome"],
    namespace=NAMESPACE,
)
GUARD_CACHE_BUMPS_FAILED = Counter(
    "guard_cache_bumps_failed_total",
    "Committed writes whose guard-cache generation bump did not reach Redis (other workers may "
    "answer from memory until guard_cache_seconds ends).",
    namespace=NAMESPACE,
)
PASSWORD_CHECKS_TURNED_AWAY = Counter(
    "password_checks_turned_away_total",
    "Password checks refused with 'busy, try again' by the admission control, by reason.",
    ["reason"],
    namespace=NAMESPACE,
)
JOB_RUNS = Counter(
    "job_runs_total",
    "Scheduled job runs, by job and outcome (ok or failed).",
    ["job", "outcome"],
    namespace=NAMESPACE,
)
JOB_DURATION = Histogram(
    "job_duration_seconds",
    "Scheduled job run time.",
    ["job"],
    namespace=NAMESPACE,
    buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600),
)
JOB_LAST_SUCCESS = Gauge(
    "job_last_success_timestamp_seconds",
    "Unix time of each job's last successful run.",
    ["job"],
    namespace=NAMESPACE,
    multiprocess_mode="max",
)

# Issue 14: product analytics sent to PostHog (a dead PostHog drops events instead of slowing requests).
ANALYTICS_EVENTS_DROPPED = Counter(
    "analytics_events_dropped_total",
    "Product analytics events given up on, by reason (queue_full: PostHog's bounded queue was full; "
    "send_failed: a batch failed after its retries).",
    ["reason"],
    namespace=NAMESPACE,
)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def build_registry() -> CollectorRegistry:
    """The registry a scrape reads: every worker's samples (multiprocess) or this process's."""
    from prometheus_client import REGISTRY

    if multiprocess_dir() is None:
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    return registry


def render_metrics(*extra_collectors: object) -> tuple[bytes, str]:
    """The text exposition (body, content type). Extra collectors are read once, for this scrape."""
    registry = build_registry()
    body = generate_latest(registry)
    if extra_collectors:
        scrape_only = CollectorRegistry()
        for collector in extra_collectors:
            scrape_only.register(collector)  # type: ignore[arg-type]
        body += generate_latest(scrape_only)
    return body, CONTENT_TYPE_LATEST


def mark_worker_dead(pid: int | None = None) -> None:
    """A worker that exits removes its live gauges from the multiprocess folder."""
    if multiprocess_dir() is not None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid or os.getpid())


@contextmanager
def timed_job(job: str) -> Iterator[None]:
    """Count and time one run of a scheduled job; a raised exception counts as failed."""
    start = time.perf_counter()
    try:
        yield
    except BaseException:
        JOB_RUNS.labels(job, "failed").inc()
        raise
    else:
        JOB_RUNS.labels(job, "ok").inc()
        JOB_LAST_SUCCESS.labels(job).set(time.time())
    finally:
        JOB_DURATION.labels(job).observe(time.perf_counter() - start)


class ScoringOutcome:
    """Filled in by the caller of ``scoring_timer``: the engine that actually scored."""

    def __init__(self, engine: str) -> None:
        self.engine = engine


@contextmanager
def scoring_timer(engine: str) -> Iterator[ScoringOutcome]:
    """Time one scoring into SCORING_DURATION; an error's ``code`` (or ``error``) is the outcome."""
    outcome = ScoringOutcome(engine)
    start = time.perf_counter()
    try:
        yield outcome
    except Exception as exc:
        code = getattr(exc, "code", None)
        SCORING_DURATION.labels(outcome.engine, code if isinstance(code, str) else "error").observe(
            time.perf_counter() - start
        )
        raise
    SCORING_DURATION.labels(outcome.engine, "ok").observe(time.perf_counter() - start)
