"""Offline analytics sink: events are stored in the `analytics_event` table.

The default adapter for `analytics.ports.AnalyticsSink` (`sayzhong.wiring.get_analytics_sink`).
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from sayzhong.analytics.models import AnalyticsEvent


class DatabaseAnalyticsSink:
    """Default sink: one `AnalyticsEvent` row per event, in the caller's unit of work.

    Because the row shares the caller's transaction, an event is recorded exactly when the change
    it describes is committed.
    """

    def __init__(self, session: Session) -> None:
        self._session = session

    def capture(self, *, event: str, distinct_id: str, properties: dict[str, Any]) -> None:
        self._session.add(AnalyticsEvent(event=event, distinct_id=distinct_id, properties=dict(properties)))
