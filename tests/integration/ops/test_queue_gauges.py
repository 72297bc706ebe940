"""Queues with a deadline reach /metrics: the Stripe webhook backlog and the privacy requests.

The figures come from the tables at scrape time (sayzhong/ops/collector.py); each test builds the rows
through the feature's own services and reads the gauges the way Prometheus does (text exposition).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import Session, select

from sayzhong.billing import webhooks
from sayzhong.billing.models import BillingWebhookEvent
from sayzhong.db import utcnow
from sayzhong.ops.collector import OpsCollector, read_snapshot
from sayzhong.ops.metrics import render_metrics
from sayzhong.privacy import dsr
from sayzhong.privacy.models import ErasureRequest
from tests.factories import UserFactory


def _scrape(session: Session, tmp_path: Path) -> dict[str, float]:
    @contextmanager
    def same_session() -> Iterator[Session]:
        yield session

    collector = OpsCollector(session_factory=same_session, backup_dir=tmp_path, ttl_s=0)
    body, _ = render_metrics(collector)
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
        if not sample.labels
    }


def _event(session: Session, n: int, kind: str = "customer.subscription.updated") -> BillingWebhookEvent:
    assert webhooks.record_event(session=session, event={"id": f"evt_{n}", "type": kind})
    return session.exec(select(BillingWebhookEvent).where(BillingWebhookEvent.event_id == f"evt_{n}")).one()


def test_an_empty_instance_reports_zero_everywhere(db_session: Session, tmp_path: Path) -> None:
    figures = _scrape(db_session, tmp_path)
    for name in (
        "sayzhong_webhook_backlog",
        "sayzhong_webhook_failed_events",
        "sayzhong_webhook_oldest_pending_age_seconds",
        "sayzhong_dsr_requests_open",
        "sayzhong_dsr_oldest_open_age_seconds",
        "sayzhong_dsr_requests_due_within_7d",
        "sayzhong_dsr_requests_overdue",
        "sayzhong_erasure_requests_overdue",
    ):
        assert figures[name] == 0.0, name


def test_webhook_backlog_counts_pending_and_failed_events_and_ages_the_oldest(
    db_session: Session, tmp_path: Path
) -> None:
    now = utcnow()
    old = _event(db_session, 1)
    old.received_at = now - timedelta(minutes=90)
    retrying = _event(db_session, 2)
    retrying.attempts, retrying.next_attempt_at = 3, now + timedelta(minutes=4)
    gave_up = _event(db_session, 3)
    gave_up.status, gave_up.attempts = "failed", webhooks.MAX_ATTEMPTS
    gave_up.received_at = now - timedelta(days=2)  # failed, not pending: does not age the backlog
    handled = _event(db_session, 4)
    handled.status = "handled"
    _event(db_session, 5, kind="charge.refunded")  # a type we do not act on: stored as ignored
    for row in (old, retrying, gave_up, handled):
        db_session.add(row)
    db_session.flush()

    queue = webhooks.backlog(session=db_session, now=now)
    assert (queue.pending, queue.failed) == (2, 1)
    assert abs(queue.oldest_pending_age_s - 90 * 60) < 1

    figures = _scrape(db_session, tmp_path)
    assert figures["sayzhong_webhook_backlog"] == 2
    assert figures["sayzhong_webhook_failed_events"] == 1
    assert 90 * 60 - 1 < figures["sayzhong_webhook_oldest_pending_age_seconds"] < 90 * 60 + 60


def test_requeue_puts_failed_events_back_for_a_fresh_round_of_retries(db_session: Session) -> None:
    gave_up = _event(db_session, 1)
    gave_up.status, gave_up.attempts = "failed", webhooks.MAX_ATTEMPTS
    gave_up.last_error = "StripeError: down"
    gave_up.next_attempt_at = utcnow() - timedelta(days=1)
    db_session.add(gave_up)
    _event(db_session, 2)  # already pending: untouched
    db_session.flush()

    assert webhooks.requeue_failed(session=db_session) == 1
    assert webhooks.requeue_failed(session=db_session) == 0
    db_session.refresh(gave_up)
    assert (gave_up.status, gave_up.attempts, gave_up.locked_until) == ("pending", 0, None)
    assert webhooks.backlog(session=db_session).failed == 0
    assert webhooks.backlog(session=db_session).pending == 2


def test_privacy_gauges_count_open_requests_against_their_deadlines(
    db_session: Session, make_user: UserFactory, tmp_path: Path
) -> None:
    staff = make_user(role="support")
    now = utcnow()

    def request(days_ago: float) -> int:
        view = dsr.create_request(
            session=db_session,
            actor=staff,
            actor_id=staff.id,
            kind="access",
            requester_email=f"person{days_ago}@example.org",
            received_at=now - timedelta(days=days_ago),
        )
        return view.id

    request(35)  # 5 days late
    request(25)  # due in 5 days
    request(2)  # due in 28 days
    closed = request(40)  # late, but answered: not counted
    dsr.close_request(
        session=db_session, actor=staff, actor_id=staff.id, request_id=closed, resolution="Archive sent."
    )
    user = make_user()
    for status, due in (("pending", 3), ("erasing", 5), ("pending", 0.5), ("done", 10), ("cancelled", 10)):
        db_session.add(
            ErasureRequest(
                user_id=user.id,
                subject="s",
                status=status,
                scheduled_for=now - timedelta(hours=due),
            )
        )
    db_session.add(ErasureRequest(user_id=user.id, subject="s", scheduled_for=now + timedelta(days=14)))
    db_session.flush()

    deadlines = dsr.deadlines(session=db_session, now=now)
    assert (deadlines.open, deadlines.due_soon, deadlines.overdue) == (3, 1, 1)
    assert abs(deadlines.oldest_open_age_s - 35 * 86400) < 1

    snap = read_snapshot(db_session)
    assert snap.erasures_overdue == 2  # 3 h and 5 h late; the one due 30 min ago is still in time
    figures = _scrape(db_session, tmp_path)
    assert figures["sayzhong_dsr_requests_open"] == 3
    assert figures["sayzhong_dsr_requests_due_within_7d"] == 1
    assert figures["sayzhong_dsr_requests_overdue"] == 1
    assert figures["sayzhong_erasure_requests_overdue"] == 2
    assert 35 * 86400 - 1 < figures["sayzhong_dsr_oldest_open_age_seconds"] < 35 * 86400 + 60
