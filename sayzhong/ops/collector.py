"""Metrics read from the database and the backup folder at scrape time.

Business and security figures come from the tables themselves, not from per-worker counters, so
every worker's /metrics reports the same truth and a restart loses nothing. The queries are a few
indexed counts; their result is cached briefly so a scrape storm cannot load the database.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func
from sqlmodel import Session, col, select

from sayzhong.db import utcnow

log = logging.getLogger(__name__)

# Audit actions that are security signals: counted over a short window so alerts see bursts.
SECURITY_ACTIONS = (
    "sign_in.failed",
    "sign_in.throttled",
    "password.reset_requested",
    "password.reset_throttled",
    "role.changed",
    "api_token.created",
    "oidc.link_failed",
)
SECURITY_WINDOW = timedelta(minutes=15)
BUSINESS_WINDOW = timedelta(hours=24)


@dataclass
class Snapshot:
    db_up: bool = False
    users_by_role: dict[str, int] = field(default_factory=dict)
    attempts_total: int = 0
    attempts_24h: dict[str, int] = field(default_factory=dict)
    signups_24h: int = 0
    security_15m: dict[str, int] = field(default_factory=dict)
    mail_outbox: int = 0
    webhook_pending: int = 0
    webhook_failed: int = 0
    webhook_oldest_pending_age_s: float = 0.0
    dsr_open: int = 0
    dsr_oldest_open_age_s: float = 0.0
    dsr_due_within_7d: int = 0
    dsr_overdue: int = 0
    erasures_overdue: int = 0


def read_snapshot(session: Session) -> Snapshot:
    from sayzhong.accounts.models import User
    from sayzhong.audit import AuditEvent
    from sayzhong.billing import webhooks
    from sayzhong.notifications.models import OutboxEmail
    from sayzhong.practice.models import Attempt
    from sayzhong.privacy import dsr, erasure

    now = utcnow()
    snap = Snapshot(db_up=True)
    for role, n in session.exec(select(User.role, func.count()).group_by(User.role)).all():
        snap.users_by_role[str(role)] = int(n)
    snap.attempts_total = int(session.exec(select(func.count()).select_from(Attempt)).one())
    since = now - BUSINESS_WINDOW
    for engine, n in session.exec(
        select(Attempt.engine, func.count()).where(col(Attempt.created_at) >= since).group_by(Attempt.engine)
    ).all():
        snap.attempts_24h[str(engine)] = int(n)
    snap.signups_24h = int(
        session.exec(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "user.signed_up", col(AuditEvent.created_at) >= since)
        ).one()
    )
    for action, n in session.exec(
        select(AuditEvent.action, func.count())
        .where(
            col(AuditEvent.action).in_(SECURITY_ACTIONS),
            col(AuditEvent.created_at) >= now - SECURITY_WINDOW,
        )
        .group_by(AuditEvent.action)
    ).all():
        snap.security_15m[str(action)] = int(n)
    snap.mail_outbox = int(session.exec(select(func.count()).select_from(OutboxEmail)).one())
    queue = webhooks.backlog(session=session, now=now)
    snap.webhook_pending, snap.webhook_failed = queue.pending, queue.failed
    snap.webhook_oldest_pending_age_s = queue.oldest_pending_age_s
    requests = dsr.deadlines(session=session, now=now)
    snap.dsr_open, snap.dsr_oldest_open_age_s = requests.open, requests.oldest_open_age_s
    snap.dsr_due_within_7d, snap.dsr_overdue = requests.due_soon, requests.overdue
    snap.erasures_overdue = erasure.overdue_erasures(session=session, now=now)
    return snap


def last_backup(backup_dir: Path) -> tuple[float, int] | None:
    """(unix time, bytes) of the newest verified backup manifest in ``backup_dir``."""
    newest: tuple[float, int] | None = None
    for manifest in backup_dir.glob("*/manifest.json"):
        try:
            data = json.loads(manifest.read_text())
            stamp, size = float(data["finished_unix"]), int(data["total_bytes"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if newest is None or stamp > newest[0]:
            newest = (stamp, size)
    return newest


class OpsCollector(Collector):
    """Scrape-time gauges; ``session_factory`` opens a database session (``sayzhong.db.session_scope``)."""

    def __init__(
        self,
        *,
        session_factory: Callable[[], object],
        backup_dir: Path,
        ttl_s: float = 15.0,
    ) -> None:
        self._session_factory = session_factory
        self._backup_dir = backup_dir
        self._ttl_s = ttl_s
        self._lock = threading.Lock()
        self._cached: tuple[float, Snapshot] | None = None

    def _snapshot(self) -> Snapshot:
        with self._lock:
            if self._cached and time.monotonic() - self._cached[0] < self._ttl_s:
                return self._cached[1]
            try:
                with self._session_factory() as session:  # type: ignore[attr-defined]
                    snap = read_snapshot(session)
            except Exception:
                log.exception("metrics: database figures unavailable")
                snap = Snapshot(db_up=False)
            self._cached = (time.monotonic(), snap)
            return snap

    def collect(self) -> Iterator[GaugeMetricFamily]:
        snap = self._snapshot()
        yield GaugeMetricFamily(
            "sayzhong_database_up", "1 when the metrics query reached the database.", value=int(snap.db_up)
        )
        users = GaugeMetricFamily("sayzhong_users", "Accounts, by role.", labels=["role"])
        for role, n in sorted(snap.users_by_role.items()):
            users.add_metric([role], n)
        yield users
        yield GaugeMetricFamily(
            "sayzhong_attempts_stored", "Scored takes stored in the database.", value=snap.attempts_total
        )
        recent = GaugeMetricFamily(
            "sayzhong_attempts_last_24h", "Takes scored in the last 24 hours, by engine.", labels=["engine"]
        )
        for engine, n in sorted(snap.attempts_24h.items()):
            recent.add_metric([engine], n)
        yield recent
        yield GaugeMetricFamily(
            "sayzhong_signups_last_24h", "Accounts created in the last 24 hours.", value=snap.signups_24h
        )
        security = GaugeMetricFamily(
            "sayzhong_security_events_last_15m",
            "Security-relevant audit events in the last 15 minutes.",
            labels=["action"],
        )
        for action in SECURITY_ACTIONS:
            security.add_metric([action], snap.security_15m.get(action, 0))
        yield security
        yield GaugeMetricFamily(
            "sayzhong_mail_outbox_messages",
            "E-mails held in the local outbox (development).",
            value=snap.mail_outbox,
        )
        yield from _queue_gauges(snap)
        backup = last_backup(self._backup_dir)
        if backup is not None:
            yield GaugeMetricFamily(
                "sayzhong_backup_last_success_timestamp_seconds",
                "Unix time of the newest complete backup.",
                value=backup[0],
            )
            yield GaugeMetricFamily(
                "sayzhong_backup_last_size_bytes", "Size of the newest complete backup.", value=backup[1]
            )


def _queue_gauges(snap: Snapshot) -> Iterator[GaugeMetricFamily]:
    """Work queues with a deadline: Stripe webhooks and privacy requests. Every replica reports the
    same figures (alerts read them with max())."""
    gauges: tuple[tuple[str, str, float], ...] = (
        ("sayzhong_webhook_backlog", "Stripe webhook events not yet handled.", snap.webhook_pending),
        (
            "sayzhong_webhook_failed_events",
            "Stripe webhook events that ran out of retries (requeue after fixing the cause).",
            snap.webhook_failed,
        ),
        (
            "sayzhong_webhook_oldest_pending_age_seconds",
            "Age of the oldest Stripe webhook event not yet handled (0 when none).",
            snap.webhook_oldest_pending_age_s,
        ),
        ("sayzhong_dsr_requests_open", "Open data-subject requests in the staff queue.", snap.dsr_open),
        (
            "sayzhong_dsr_oldest_open_age_seconds",
            "Age of the oldest open data-subject request (0 when none).",
            snap.dsr_oldest_open_age_s,
        ),
        (
            "sayzhong_dsr_requests_due_within_7d",
            "Open data-subject requests whose legal deadline is within 7 days.",
            snap.dsr_due_within_7d,
        ),
        (
            "sayzhong_dsr_requests_overdue",
            "Open data-subject requests past their legal deadline.",
            snap.dsr_overdue,
        ),
        (
            "sayzhong_erasure_requests_overdue",
            "Account erasures still not done 2 hours after they were due.",
            snap.erasures_overdue,
        ),
    )
    for name, documentation, value in gauges:
        yield GaugeMetricFamily(name, documentation, value=value)
