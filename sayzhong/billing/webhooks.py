"""Stripe webhooks and the reconciler.

The HTTP route verifies the signature, then `record_event` stores the event once by its id (a unique
key: a duplicate delivery stores nothing) and answers 200 at once. `process_due_events` — run right
after the delivery and every minute by the jobs runner — claims due events, handles each in its own
unit of work, marks it handled only on success and retries failures with exponential backoff.
Handlers never trust the event's snapshot: they re-read the subscription from Stripe, so events
arriving out of order or twice end in Stripe's current state. `reconcile` compares every local
subscription with Stripe (daily) and repairs drift, recording what it found for the staff page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from sayzhong import routes
from sayzhong.accounts.models import User
from sayzhong.analytics.catalog import CURRENCIES
from sayzhong.billing import catalog
from sayzhong.billing.models import (
    BillingCustomer,
    BillingDailyUsage,
    BillingReconcileFinding,
    BillingSubscription,
    BillingWebhookEvent,
)
from sayzhong.billing.ports import PaymentsGateway
from sayzhong.billing.service import (
    payments_or_default,
    record_paid_conversion,
    refresh_subscription,
    store_snapshot,
    track_billing_event,
)
from sayzhong.db import as_utc, session_scope, utcnow
from sayzhong.settings import get_settings

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
LOCK = timedelta(minutes=5)
SUBSCRIPTION_EVENTS = frozenset(
    {
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "customer.subscription.trial_will_end",
        "customer.subscription.paused",
        "customer.subscription.resumed",
    }
)
INVOICE_EVENTS = frozenset(
    {"invoice.payment_succeeded", "invoice.paid", "invoice.payment_failed", "invoice.payment_action_required"}
)
HANDLED_TYPES = SUBSCRIPTION_EVENTS | INVOICE_EVENTS


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, … capped at 6 h."""
    return timedelta(seconds=min(30 * 2 ** max(0, attempts - 1), 6 * 3600))


def record_event(*, session: Session, event: dict[str, Any]) -> bool:
    """Store a verified event once. False when this event id was already stored (duplicate delivery).

    Types we do not act on are stored as `ignored` (recorded, never handled).
    """
    event_id = str(event["id"])[:255]
    if session.exec(select(BillingWebhookEvent.id).where(BillingWebhookEvent.event_id == event_id)).first():
        return False
    kind = str(event.get("type", ""))[:100]
    row = BillingWebhookEvent(
        event_id=event_id, type=kind, payload=event, status="pending" if kind in HANDLED_TYPES else "ignored"
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False  # a concurrent delivery of the same event won the unique key
    return True


@dataclass(frozen=True, slots=True)
class ProcessResult:
    handled: int
    retried: int
    failed: int


Handler = Callable[[Session, dict[str, Any], PaymentsGateway], None]


def _claim(now: datetime, event_row_id: int) -> bool:
    with session_scope() as session:
        result = session.execute(
            update(BillingWebhookEvent)
            .where(
                col(BillingWebhookEvent.id) == event_row_id,
                col(BillingWebhookEvent.status) == "pending",
                or_(
                    col(BillingWebhookEvent.locked_until).is_(None),
                    col(BillingWebhookEvent.locked_until) < now,
                ),
            )
            .values(locked_until=now + LOCK)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def process_due_events(
    *,
    payments: PaymentsGateway | None = None,
    now: datetime | None = None,
    limit: int = 50,
    handler: Handler | None = None,
) -> ProcessResult:
    """Handle every due pending event (jobs runner; also kicked right after a delivery)."""
    payments = payments_or_default(payments)
    handle = handler or handle_event
    now = now or utcnow()
    with session_scope() as session:
        due = session.exec(
            select(BillingWebhookEvent.id)
            .where(BillingWebhookEvent.status == "pending", col(BillingWebhookEvent.next_attempt_at) <= now)
            .order_by(col(BillingWebhookEvent.id))
            .limit(limit)
        ).all()
    handled = retried = failed = 0
    for row_id in due:
        assert row_id is not None
        if not _claim(now, row_id):
            continue
        try:
            with session_scope() as session:
                row = session.get(BillingWebhookEvent, row_id)
                assert row is not None
                handle(session, dict(row.payload), payments)
                row.status, row.handled_at, row.locked_until = "handled", utcnow(), None
                row.attempts += 1
                row.last_error = None
                session.add(row)
            handled += 1
        except Exception as exc:
            log.exception("webhook event %s failed", row_id)
            with session_scope() as session:
                row = session.get(BillingWebhookEvent, row_id)
                assert row is not None
                row.attempts += 1
                row.last_error = f"{type(exc).__name__}: {exc}"[:1000]
                row.locked_until = None
                if row.attempts >= MAX_ATTEMPTS:
                    row.status = "failed"
                    failed += 1
                else:
                    row.next_attempt_at = now + backoff(row.attempts)
                    retried += 1
                session.add(row)
    return ProcessResult(handled, retried, failed)


def _subscription_id(event: dict[str, Any]) -> str | None:
    obj = (event.get("data") or {}).get("object") or {}
    if event.get("type", "").startswith("customer.subscription."):
        return str(obj.get("id") or "") or None
    sub = obj.get("subscription")
    if isinstance(sub, dict):
        sub = sub.get("id")
    if not sub:
        details = (obj.get("parent") or {}).get("subscription_details") or {}
        sub = details.get("subscription")
    return str(sub) if sub else None


def handle_event(session: Session, event: dict[str, Any], payments: PaymentsGateway) -> None:
    """Re-read the subscription the event is about and store Stripe's current state; send receipts
    and dunning e-mails for invoice events."""
    sub_id = _subscription_id(event)
    if sub_id is None:
        return
    row = refresh_subscription(session=session, subscription_id=sub_id, payments=payments)
    kind = str(event.get("type"))
    if row is None or kind not in INVOICE_EVENTS:
        return
    obj = (event.get("data") or {}).get("object") or {}
    user = session.get(User, row.user_id)
    if user is None:
        return
    amount = catalog.format_money(
        int(obj.get("amount_paid") or obj.get("amount_due") or 0), str(obj.get("currency") or "eur")
    )
    billing_url = get_settings().app_url.rstrip("/") + routes.BILLING
    if kind in ("invoice.payment_succeeded", "invoice.paid") and int(obj.get("amount_paid") or 0) > 0:
        currency = str(obj.get("currency") or "eur").lower()
        track_billing_event(
            session,
            row.user_id,
            "subscription_paid",
            row.plan_id,
            amount_minor=int(obj.get("amount_paid") or 0),
            **({"currency": currency} if currency in CURRENCIES else {}),
        )
        _mail(
            session,
            user.email,
            f"Your SayZhong receipt ({amount})",
            f"Thank you — we received {amount} for SayZhong Plus.\n\nInvoices and receipts: {billing_url}\n",
        )
        record_paid_conversion(session=session, user_id=row.user_id)
    elif kind == "invoice.payment_failed":
        _mail(
            session,
            user.email,
            "Your SayZhong payment did not go through",
            f"We could not take {amount} for SayZhong Plus. Plus continues while we retry the card over the "
            f"next days. To avoid losing it, update your card at {billing_url}\n",
        )
    elif kind == "invoice.payment_action_required":
        _mail(
            session,
            user.email,
            "Please confirm your SayZhong payment",
            f"Your bank asks you to confirm the payment of {amount}. "
            f"Open {billing_url} and press Confirm payment.\n",
        )


def _mail(session: Session, to: str, subject: str, body: str) -> None:
    from sayzhong.notifications.ports import EmailMessageData
    from sayzhong.wiring import get_mailer

    get_mailer(get_settings(), session=session).send(EmailMessageData(to=to, subject=subject, text_body=body))


# --- reconciler ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Finding:
    user_id: int | None
    stripe_subscription_id: str
    field: str
    local_value: str | None
    stripe_value: str | None


def _fields(row: BillingSubscription | None) -> dict[str, str | None]:
    if row is None:
        return {"status": None, "plan_id": None, "cancel_at_period_end": None, "current_period_end": None}
    return {
        "status": row.status,
        "plan_id": row.plan_id,
        "cancel_at_period_end": str(row.cancel_at_period_end),
        "current_period_end": as_utc(row.current_period_end).isoformat() if row.current_period_end else None,
    }


def reconcile(*, session: Session, payments: PaymentsGateway | None = None) -> list[Finding]:
    """Compare every customer's subscriptions in Stripe with the local copies; repair and record drift."""
    payments = payments_or_default(payments)
    if not payments.configured:
        return []
    findings: list[Finding] = []
    run_at = utcnow()
    seen: set[str] = set()
    for customer in session.exec(select(BillingCustomer)).all():
        for snap in payments.list_subscriptions(customer.stripe_customer_id):
            seen.add(snap.id)
            row = session.exec(
                select(BillingSubscription).where(BillingSubscription.stripe_subscription_id == snap.id)
            ).first()
            before = _fields(row)
            stored = store_snapshot(session=session, snap=snap, user_id=customer.user_id)
            after = _fields(stored)
            for name, old in before.items():
                if old != after[name]:
                    findings.append(Finding(customer.user_id, snap.id, name, old, after[name]))
    for row in session.exec(select(BillingSubscription)).all():
        if row.stripe_subscription_id not in seen and row.status not in ("canceled", "incomplete_expired"):
            old_status = row.status
            refreshed = refresh_subscription(
                session=session, subscription_id=row.stripe_subscription_id, payments=payments
            )
            if refreshed is not None and refreshed.status != old_status:
                findings.append(
                    Finding(row.user_id, row.stripe_subscription_id, "status", old_status, refreshed.status)
                )
    for f in findings:
        session.add(
            BillingReconcileFinding(
                run_at=run_at,
                user_id=f.user_id,
                stripe_subscription_id=f.stripe_subscription_id,
                field=f.field,
                local_value=f.local_value,
                stripe_value=f.stripe_value,
            )
        )
    session.flush()
    if findings:
        log.warning("billing reconciler repaired %d differences", len(findings))
    return findings


@dataclass(frozen=True, slots=True)
class FindingView:
    run_at: datetime
    user_id: int | None
    stripe_subscription_id: str
    field: str
    local_value: str | None
    stripe_value: str | None


def recent_findings(*, session: Session, limit: int = 100) -> list[FindingView]:
    rows = session.exec(
        select(BillingReconcileFinding).order_by(col(BillingReconcileFinding.id).desc()).limit(limit)
    ).all()
    return [
        FindingView(
            as_utc(r.run_at), r.user_id, r.stripe_subscription_id, r.field, r.local_value, r.stripe_value
        )
        for r in rows
    ]


@dataclass(frozen=True, slots=True)
class EventView:
    event_id: str
    type: str
    status: str
    attempts: int
    received_at: datetime
    last_error: str | None


def recent_events(*, session: Session, limit: int = 50) -> list[EventView]:
    rows = session.exec(
        select(BillingWebhookEvent).order_by(col(BillingWebhookEvent.id).desc()).limit(limit)
    ).all()
    return [
        EventView(r.event_id, r.type, r.status, r.attempts, as_utc(r.received_at), r.last_error) for r in rows
    ]


@dataclass(frozen=True, slots=True)
class Backlog:
    """What the webhook queue holds now (the metrics read it at scrape time)."""

    pending: int
    """Stored and not yet handled, including events waiting for a retry."""
    failed: int
    """Given up after MAX_ATTEMPTS (kept until retention; `requeue_failed` puts them back)."""
    oldest_pending_age_s: float
    """Seconds since the oldest pending event arrived; 0 when none is pending."""


def backlog(*, session: Session, now: datetime | None = None) -> Backlog:
    now = now or utcnow()
    pending, oldest = session.exec(
        select(func.count(), func.min(BillingWebhookEvent.received_at)).where(
            BillingWebhookEvent.status == "pending"
        )
    ).one()
    failed = session.exec(
        select(func.count()).select_from(BillingWebhookEvent).where(BillingWebhookEvent.status == "failed")
    ).one()
    age = max(0.0, (now - as_utc(oldest)).total_seconds()) if oldest is not None else 0.0
    return Backlog(int(pending), int(failed), age)


def requeue_failed(*, session: Session, now: datetime | None = None) -> int:
    """Put events that exhausted their retries back in the queue (after the cause is fixed).

    Safe to repeat: handlers re-read Stripe's current state, so a late or second run changes nothing
    that is already right. Returns how many events were requeued.
    """
    result = session.execute(
        update(BillingWebhookEvent)
        .where(col(BillingWebhookEvent.status) == "failed")
        .values(status="pending", attempts=0, next_attempt_at=now or utcnow(), locked_until=None),
        execution_options={"synchronize_session": "fetch"},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


EVENT_RETENTION = timedelta(days=90)


def purge_billing_records(*, session: Session, older_than: timedelta = EVENT_RETENTION) -> int:
    """Retention: settled webhook events and reconciler findings older than 90 days, and daily-usage
    counters of days that ended (kept two days: the date is local, so "yesterday" may still be today
    somewhere). Returns how many."""
    from sqlalchemy import delete

    cutoff = utcnow() - older_than
    events = session.execute(
        delete(BillingWebhookEvent).where(
            col(BillingWebhookEvent.received_at) < cutoff, col(BillingWebhookEvent.status) != "pending"
        ),
        execution_options={"synchronize_session": "fetch"},
    )
    findings = session.execute(
        delete(BillingReconcileFinding).where(col(BillingReconcileFinding.run_at) < cutoff),
        execution_options={"synchronize_session": "fetch"},
    )
    usage = session.execute(
        delete(BillingDailyUsage).where(
            col(BillingDailyUsage.day) < (utcnow() - timedelta(days=2)).date().isoformat()
        ),
        execution_options={"synchronize_session": "fetch"},
    )
    return sum(int(getattr(r, "rowcount", 0) or 0) for r in (events, findings, usage))
