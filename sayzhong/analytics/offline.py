"""Offline analytics sink: events are stored in the `analytics_event` table.

The default adapter for `analytics.ports.AnalyticsSink` (`sayzhong.wiring.get_analytics_sink`).
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, delete, update

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

    def alias(self, *, previous_id: str, distinct_id: str) -> None:
        """The visitor's earlier events are re-keyed to the account, so funnels see one person."""
        self._session.exec(
            update(AnalyticsEvent)
            .where(col(AnalyticsEvent.distinct_id) == previous_id)
            .values(distinct_id=distinct_id)
        )

    def delete_person(self, *, distinct_id: str) -> int:
        result = self._session.exec(
            delete(AnalyticsEvent).where(col(AnalyticsEvent.distinct_id) == distinct_id)
        )
        return int(result.rowcount or 0)
