"""The analytics port: where product events go.

Kept deliberately small so a PostHog adapter in `sayzhong/integrations/` can implement it in a few
lines; `sayzhong.wiring` chooses the sink, and the offline default is in `analytics/offline.py`.
Events reach a sink only through `analytics.service.track`, which has checked them against the
catalogue (`analytics/catalog.py`: no personal data in properties); the distinct id is the user id
as a string or an anonymous visitor id.
"""

from __future__ import annotations

from typing import Any, Protocol


class AnalyticsSink(Protocol):
    def capture(self, *, event: str, distinct_id: str, properties: dict[str, Any]) -> None: ...

    def alias(self, *, previous_id: str, distinct_id: str) -> None:
        """Sign-up: the anonymous `previous_id` and the account `distinct_id` are the same person."""
        ...

    def delete_person(self, *, distinct_id: str) -> int:
        """Erasure: delete everything the sink holds for this distinct id (PostHog: person deletion)."""
        ...
