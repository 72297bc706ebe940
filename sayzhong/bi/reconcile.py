"""Revenue reconciliation: the paid invoices the BI aggregates counted (from the stored Stripe events)
against the invoices Stripe itself lists, with every difference named.

Run on demand (the revenue page's button or `python -m sayzhong bi reconcile`), never on page load:
it asks Stripe about every customer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session, col, select

from sayzhong.bi.aggregate import day_bounds, load_billing, reporting_zone
from sayzhong.billing.models import BillingCustomer
from sayzhong.billing.ports import PaymentsGateway
from sayzhong.billing.service import payments_or_default
from sayzhong.db import as_utc


@dataclass(frozen=True, slots=True)
class InvoiceDifference:
    invoice_id: str
    kind: str
    """missing_locally (Stripe has it, no event arrived) | missing_at_stripe | amount"""
    local_amount: int | None
    stripe_amount: int | None
    day: date


@dataclass(frozen=True, slots=True)
class Reconciliation:
    configured: bool
    local_total: int = 0
    stripe_total: int = 0
    matched: int = 0
    differences: list[InvoiceDifference] = field(default_factory=list)

    @property
    def agreement(self) -> float | None:
        """Share of the Stripe total the aggregates account for (1.0 = every cent)."""
        if not self.stripe_total:
            return None
        return 1 - abs(self.stripe_total - self.local_total) / self.stripe_total


def reconcile_invoices(
    *,
    session: Session,
    start: date,
    end: date,
    payments: PaymentsGateway | None = None,
    timezone: str | None = None,
) -> Reconciliation:
    payments = payments_or_default(payments)
    if not payments.configured:
        return Reconciliation(configured=False)
    zone = reporting_zone(timezone)
    lo, hi = day_bounds(start, zone)[0], day_bounds(end, zone)[1]
    local: dict[str, tuple[datetime, int]] = {
        inv: (at, amount) for at, inv, amount in load_billing(session).invoices_paid if lo <= at < hi
    }
    stripe: dict[str, tuple[datetime, int]] = {}
    customers = session.exec(
        select(BillingCustomer.stripe_customer_id).order_by(col(BillingCustomer.id))
    ).all()
    for customer in customers:
        for invoice in payments.list_invoices(customer, limit=100):
            created = as_utc(invoice.created)
            if invoice.status == "paid" and invoice.amount_paid > 0 and lo <= created < hi:
                stripe[invoice.id] = (created, invoice.amount_paid)
    differences: list[InvoiceDifference] = []
    matched = 0
    for inv in sorted(set(local) | set(stripe)):
        mine, theirs = local.get(inv), stripe.get(inv)
        when = (theirs or mine)[0].astimezone(zone).date()  # type: ignore[index]
        if mine is None:
            differences.append(
                InvoiceDifference(inv, "missing_locally", None, theirs[1] if theirs else None, when)
            )
        elif theirs is None:
            differences.append(InvoiceDifference(inv, "missing_at_stripe", mine[1], None, when))
        elif mine[1] != theirs[1]:
            differences.append(InvoiceDifference(inv, "amount", mine[1], theirs[1], when))
        else:
            matched += 1
    return Reconciliation(
        configured=True,
        local_total=sum(a for _at, a in local.values()),
        stripe_total=sum(a for _at, a in stripe.values()),
        matched=matched,
        differences=differences,
    )
