"""The analytics port: where product events go.

Kept deliberately small so a PostHog adapter in `sayzhong/integrations/` can implement it in a few
lines; `sayzhong.wiring` chooses the sink, and the offline default is in `analytics/offline.py`.
Properties must be JSON-serialisable and must not carry personal data (no e-mail, names or free
text); the distinct id is the user id as a string or an anonymous id.
"""

from __future__ import annotations

from typing import Any, Protocol


class AnalyticsSink(Protocol):
    def capture(self, *, event: str, distinct_id: str, properties: dict[str, Any]) -> None: ...

    def delete_person(self, *, distinct_id: str) -> int:
        """Erasure: delete everything the sink holds for this distinct id (PostHog: person deletion)."""
        ...
