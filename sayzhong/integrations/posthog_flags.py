"""PostHog feature flags serving experiment variants, evaluated locally by the official library.

The client downloads the flag definitions (`/flags/definitions`, with the personal API key) and
re-polls them in the background; each page view is evaluated in-process, so PostHog being slow or
down never slows a request — a flag that is not (yet) known answers None and the experiments service
buckets locally. A PostHog multivariate flag whose key is the experiment key and whose variant keys
are the experiment's serves that experiment.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

log = logging.getLogger(__name__)


class PostHogFeatureFlags:
    name = "posthog"

    def __init__(self, client: Any) -> None:
        self._client = client

    @classmethod
    def connect(
        cls, *, project_key: str, personal_key: str, host: str, poll_interval: int = 60
    ) -> PostHogFeatureFlags:
        from posthog import Posthog

        client = Posthog(
            project_key,
            host=host,
            secret_key=personal_key,  # a personal API key or a project secret API key
            poll_interval=poll_interval,
            feature_flags_request_timeout_seconds=2,
            send=False,  # this client only evaluates flags; events go through the analytics sink
        )
        client.load_feature_flags()
        return cls(client)

    def variant(self, *, key: str, unit_id: str, variants: Sequence[tuple[str, int]]) -> str | None:
        flags = self._client.evaluate_flags(unit_id, only_evaluate_locally=True, flag_keys=[key])
        value = flags.get_flag(key, send_feature_flag_events=False)
        return value if isinstance(value, str) and value in {name for name, _ in variants} else None

    def close(self) -> None:
        self._client.shutdown()


_shared: dict[tuple[str, str, str], PostHogFeatureFlags] = {}
_lock = threading.Lock()


def shared_posthog_flags(*, project_key: str, personal_key: str, host: str) -> PostHogFeatureFlags:
    """One polling client per process and configuration (like a connection pool): building one per
    page view would download the definitions every time."""
    config = (project_key, personal_key, host)
    with _lock:
        flags = _shared.get(config)
        if flags is None:
            flags = _shared[config] = PostHogFeatureFlags.connect(
                project_key=project_key, personal_key=personal_key, host=host
            )
        return flags


def close_shared() -> None:
    """Stop every shared client's poller (process shutdown, tests)."""
    with _lock:
        for flags in _shared.values():
            flags.close()
        _shared.clear()
