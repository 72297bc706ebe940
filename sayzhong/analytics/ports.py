"""The analytics port: where product events go.

Kept deliberately small so a PostHog adapter in `sayzhong/integrations/` can implement it in a few
lines. Properties must be JSON-serialisable and must not carry personal data (no e-mail, names or
free text); the distinct id is the user id as a string or an anonymous id.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlmodel import Session

from sayzhong.analytics.models import AnalyticsEvent


class AnalyticsSink(Protocol):
    def capture(self, *, event: str, distinct_id: str, properties: dict[str, Any]) -> None: ...


class DatabaseAnalyticsSink:
    """Default sink: one `AnalyticsEvent` row per event, in the caller's unit of work.

    Because the row shares the caller's transaction, an event is recorded exactly when the change
    it describes is committed.
    """

    def __init__(self, session: Session) -> None:
        self._session = session

    def capture(self, *, event: str, distinct_id: str, properties: dict[str, Any]) -> None:
        self._session.add(AnalyticsEvent(event=event, distinct_id=distinct_id, properties=dict(properties)))
