"""Offline analytics sink: events are stored in the `analytics_event` table.

The default adapter for `analytics.ports.AnalyticsSink` (`sayzhong.wiring.get_analytics_sink`).
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, delete, update

from sayzhong.analytics.models import AnalyticsEvent
from sayzhong.analytics.ports import AnalyticsSink


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


class FanOutSink:
    """Several sinks as one (wiring: the local table and PostHog), so the funnel pages keep working
    offline from the local store while PostHog receives the same events."""

    def __init__(self, *sinks: AnalyticsSink) -> None:
        self.sinks = sinks

    def capture(self, *, event: str, distinct_id: str, properties: dict[str, Any]) -> None:
        for sink in self.sinks:
            sink.capture(event=event, distinct_id=distinct_id, properties=properties)

    def alias(self, *, previous_id: str, distinct_id: str) -> None:
        for sink in self.sinks:
            sink.alias(previous_id=previous_id, distinct_id=distinct_id)

    def delete_person(self, *, distinct_id: str) -> int:
        return sum(sink.delete_person(distinct_id=distinct_id) for sink in self.sinks)
