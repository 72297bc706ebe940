"""PostHog adapter for the analytics port (`analytics/ports.py`), using the official `posthog` library.

Chosen by `sayzhong.wiring.get_analytics_sink` when POSTHOG_API_KEY and POSTHOG_HOST are set, always
behind the consent gate. What keeps a slow or dead PostHog away from requests:

- `capture`/`alias` only put the event on the library's in-memory queue (never blocks); a background
  thread sends batches (`flush_at` events or every `flush_interval` seconds, gzip) to `/batch/`.
- The queue is bounded (`max_queue_size`); when it is full the library drops the event and we count
  it in `sayzhong_analytics_events_dropped_total{reason="queue_full"}`.
- A batch is retried a few times with back-off (`max_retries`, short `timeout`), then given up on and
  counted with reason "send_failed" (through the library's `on_error` hook).

One client per process (per key and host), shared by every request: the queue and its sender thread
are the process's, as the library intends; `shutdown_clients` flushes them at exit.

Erasure (`delete_person`): PostHog's capture key cannot delete people, so with POSTHOG_PERSONAL_API_KEY
(scope person:write) and POSTHOG_PROJECT_ID set, the person and their events are deleted through
PostHog's `persons/bulk_delete` API by distinct id; without them erasure fails loudly (and is retried),
rather than claiming a deletion that did not happen — see docs/marketing.md.
"""

from __future__ import annotations

import atexit
import logging
import threading
from typing import Any

from sayzhong.errors import SayZhongError

log = logging.getLogger(__name__)

FLUSH_AT = 50
FLUSH_INTERVAL_S = 2.0
MAX_RETRIES = 2
TIMEOUT_S = 3.0
DELETE_TIMEOUT_S = 10.0


class PostHogDeletionError(SayZhongError):
    """PostHog person deletion could not be done (not configured, or PostHog refused/failed)."""


def _count_dropped(reason: str, n: int = 1) -> None:
    from sayzhong.ops import metrics

    metrics.ANALYTICS_EVENTS_DROPPED.labels(reason=reason).inc(n)


def _on_error(error: Exception, batch: list[Any]) -> None:
    log.warning("PostHog batch of %d events dropped: %s", len(batch), type(error).__name__)
    _count_dropped("send_failed", len(batch))


# The per-process PostHog clients, by (key, host, queue size). Not an adapter global: wiring still
# builds a `PostHogSink` per call; this only shares the library's queue and sender thread.
_clients: dict[tuple[str, str, int], Any] = {}
_clients_lock = threading.Lock()


def shared_client(api_key: str, host: str, max_queue_size: int) -> Any:
    """The process's PostHog client for this key and host (built once: it owns a queue and a thread)."""
    key = (api_key, host, max_queue_size)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            from posthog import Posthog

            client = Posthog(
                api_key,
                host=host,
                max_queue_size=max_queue_size,
                flush_at=FLUSH_AT,
                flush_interval=FLUSH_INTERVAL_S,
                gzip=True,
                max_retries=MAX_RETRIES,
                timeout=TIMEOUT_S,
                on_error=_on_error,
                disable_geoip=True,
                enable_exception_autocapture=False,
                enable_local_evaluation=False,
                capture_mode="v0",
            )
            _clients[key] = client
        return client


def shutdown_clients() -> None:
    """Flush and stop every client this process built (at exit, and between tests)."""
    with _clients_lock:
        clients = list(_clients.values())
        _clients.clear()
    for client in clients:
        try:
            client.shutdown()
        except Exception:
            log.exception("PostHog client did not shut down cleanly")


atexit.register(shutdown_clients)


class PostHogSink:
    """Events and aliases go to PostHog's queue; person deletion through PostHog's API."""

    def __init__(
        self,
        *,
        api_key: str,
        host: str,
        max_queue_size: int = 10_000,
        personal_api_key: str = "",
        project_id: str = "",
        client: Any = None,
    ) -> None:
        self.host = host.rstrip("/")
        self.client = client or shared_client(api_key, self.host, max_queue_size)
        self._personal_api_key = personal_api_key
        self._project_id = project_id

    @classmethod
    def from_settings(cls, settings: Any) -> PostHogSink:
        return cls(
            api_key=settings.posthog_api_key,
            host=settings.posthog_host,
            max_queue_size=settings.posthog_max_queue_size,
            personal_api_key=settings.posthog_personal_api_key,
            project_id=settings.posthog_project_id,
        )

    def capture(self, *, event: str, distinct_id: str, properties: dict[str, Any]) -> None:
        # No person profile for anonymous visitors until they sign up (PostHog's personless events).
        props = dict(properties)
        if not distinct_id.isdigit():
            props["$process_person_profile"] = False
        if self.client.capture(event, distinct_id=distinct_id, properties=props) is None:
            _count_dropped("queue_full")

    def alias(self, *, previous_id: str, distinct_id: str) -> None:
        if self.client.alias(previous_id=previous_id, distinct_id=distinct_id) is None:
            _count_dropped("queue_full")

    def delete_person(self, *, distinct_id: str) -> int:
        if not (self._personal_api_key and self._project_id):
            raise PostHogDeletionError(
                "PostHog person deletion needs POSTHOG_PERSONAL_API_KEY and POSTHOG_PROJECT_ID.",
                code="posthog_deletion_not_configured",
            )
        import requests

        # Events still queued for this person must reach PostHog before the deletion request, or
        # they would arrive after it and recreate the person.
        self.client.flush()
        try:
            answer = requests.post(
                f"{self.host}/api/projects/{self._project_id}/persons/bulk_delete/",
                params={"delete_events": "true"},
                json={"distinct_ids": [distinct_id], "delete_events": True},
                headers={"Authorization": f"Bearer {self._personal_api_key}"},
                timeout=DELETE_TIMEOUT_S,
            )
        except requests.RequestException as exc:
            raise PostHogDeletionError(
                "PostHog could not be reached to delete the person.", code="posthog_unreachable"
            ) from exc
        if answer.status_code >= 300:
            raise PostHogDeletionError(
                f"PostHog refused the person deletion (HTTP {answer.status_code}).", code="posthog_refused"
            )
        try:
            found = int(answer.json().get("persons_deleted", 0))
        except (ValueError, AttributeError, TypeError):
            found = 0
        return found
