"""BI revenue reconciliation (issue 15): invoices counted from the stored Stripe events against the
invoices localstripe lists, through the real `stripe` library."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from sayzhong.bi import reconcile
from sayzhong.billing import catalog, service
from sayzhong.billing.models import BillingSubscription, BillingTrialClaim
from sayzhong.billing.offline import PaymentsNotConfigured
from sayzhong.db import session_scope, utcnow
from sayzhong.integrations.stripe_payments import StripePayments
from tests.factories import learner_with_api_token
from tests.support.bi_scenario import stripe_event
from tests.support.localstripe_server import LocalStripe, confirm_card


def _paying(email: str, payments: StripePayments, localstripe: LocalStripe) -> str:
    """A learner who had their trial already, so subscribing pays the first invoice now: its id."""
    user_id = learner_with_api_token(email)[0]
    with session_scope() as session:
        session.add(BillingTrialClaim(email_hash=service.email_hash(email)))
    with session_scope() as session:
        entry = service.start_card_entry(session=session, user_id=user_id, payments=payments)
    confirm_card(localstripe, entry.client_secret, "4242424242424242")
    with session_scope() as session:
        service.subscribe(
            session=session,
            user_id=user_id,
            plan_id=catalog.PLUS_MONTHLY.id,
            setup_intent_id=entry.setup_intent_id,
            payments=payments,
        )
    with session_scope() as session:
        sub = session.exec(select(BillingSubscription).where(BillingSubscription.user_id == user_id)).one()
        assert sub.latest_invoice_id
        return sub.latest_invoice_id


def test_reconciliation_lists_every_difference_with_stripe(
    payments: StripePayments, localstripe: LocalStripe
) -> None:
    recorded = _paying("paid.one@example.org", payments, localstripe)
    _lost = _paying("paid.two@example.org", payments, localstripe)  # its webhook never arrived
    now = utcnow().strftime("%Y-%m-%d %H:%M")
    with session_scope() as session:
        # The first invoice's event says 899 (Stripe: 999); one event names an invoice Stripe lacks.
        stripe_event(
            session, "evt_a", "invoice.paid", now, {"id": recorded, "amount_paid": 899, "currency": "eur"}
        )
        stripe_event(
            session, "evt_b", "invoice.paid", now, {"id": "in_ghost", "amount_paid": 500, "currency": "eur"}
        )
    today = utcnow().date()
    with session_scope() as session:
        result = reconcile.reconcile_invoices(
            session=session, start=today - timedelta(days=1), end=today + timedelta(days=1), payments=payments
        )
    assert result.configured
    kinds = {d.kind: (d.local_amount, d.stripe_amount) for d in result.differences}
    assert kinds == {
        "amount": (899, catalog.PLUS_MONTHLY.amount),
        "missing_locally": (None, catalog.PLUS_MONTHLY.amount),
        "missing_at_stripe": (500, None),
    }
    assert result.stripe_total == 2 * catalog.PLUS_MONTHLY.amount
    assert result.local_total == 899 + 500
    assert result.matched == 0
    assert result.agreement == 1 - abs(2 * 999 - (899 + 500)) / (2 * 999)


def test_reconciliation_without_payments_says_so(db_session: Session) -> None:
    result = reconcile.reconcile_invoices(
        session=db_session, start=utcnow().date(), end=utcnow().date(), payments=PaymentsNotConfigured()
    )
    assert result.configured is False and result.differences == [] and result.agreement is None
