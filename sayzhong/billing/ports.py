"""The payments port: what billing needs from a payment provider, in plain data.

Adapters: `PaymentsNotConfigured` (offline default, sayzhong.billing.offline) answers every payment
call with a plain "payments are not set up" error, so Free limits and staff grants keep working;
`StripePayments` (sayzhong.integrations.stripe_payments) talks to Stripe — or to any server that
speaks Stripe's API at STRIPE_API_BASE, such as localstripe in the tests. `sayzhong.wiring.get_payments`
chooses. Only the API surface both live Stripe and localstripe implement is used (docs/billing.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sayzhong.billing.catalog import CouponDef, PlanDef, ProductDef
from sayzhong.errors import SayZhongError


class PaymentsError(SayZhongError):
    """The provider refused or failed; `user_message` is already in plain words (e.g. the card's decline)."""

    code = "payment_failed"
    http_status = 402
    default_message = "The payment did not go through. Nothing was charged and nothing changed."


class PaymentsNotConfiguredError(SayZhongError):
    code = "payments_not_configured"
    http_status = 503
    default_message = (
        "Payments are not set up on this SayZhong server, so plans cannot be bought here. "
        "Staff can still give an account Plus."
    )


class WebhookSignatureError(SayZhongError):
    code = "bad_signature"
    http_status = 400
    default_message = "The webhook signature is missing, invalid or too old."


@dataclass(frozen=True, slots=True)
class SubscriptionSnapshot:
    id: str
    customer_id: str
    plan_id: str
    status: str
    trial_end: datetime | None
    current_period_end: datetime | None
    cancel_at_period_end: bool
    latest_invoice_id: str | None


@dataclass(frozen=True, slots=True)
class CardInfo:
    brand: str
    last4: str
    exp_month: int
    exp_year: int


@dataclass(frozen=True, slots=True)
class InvoiceInfo:
    id: str
    created: datetime
    amount_due: int
    amount_paid: int
    currency: str
    status: str
    hosted_invoice_url: str | None
    invoice_pdf: str | None


@dataclass(frozen=True, slots=True)
class InvoicePreview:
    amount_due: int
    currency: str
    next_payment_at: datetime | None
    lines: tuple[tuple[str, int], ...] = field(default_factory=tuple)
    """(description, amount) per line, prorations included."""


@dataclass(frozen=True, slots=True)
class CouponInfo:
    """A Stripe coupon looked up by the code a learner typed (coupon ids are the codes)."""

    id: str
    percent_off: float | None
    amount_off: int | None
    """In the smallest currency unit."""
    currency: str | None
    duration: str
    """once | repeating | forever"""
    duration_in_months: int | None
    valid: bool
    """False once expired or redeemed the maximum number of times."""
    promotion_code: str | None = None
    """The Stripe promotion code id when the code typed is a promotion code (live Stripe), else None:
    the code is the coupon's id (the only kind localstripe has)."""


@dataclass(frozen=True, slots=True)
class PaymentConfirmation:
    """A payment waiting for the learner (SCA): confirm it in the browser with this client secret."""

    payment_intent_id: str
    client_secret: str
    status: str


class PaymentsGateway(Protocol):
    @property
    def configured(self) -> bool: ...

    @property
    def publishable_key(self) -> str: ...

    @property
    def js_url(self) -> str: ...

    def sync_catalog(
        self, *, product: ProductDef, plans: tuple[PlanDef, ...], coupons: tuple[CouponDef, ...]
    ) -> list[str]:
        """Create what is missing; returns one line per object ("created plan …" / "exists …")."""
        ...

    def create_customer(self, *, email: str, user_id: int) -> str: ...

    def delete_customer(self, customer_id: str) -> None: ...

    def create_setup_intent(self, customer_id: str) -> tuple[str, str]:
        """(setup intent id, client secret) for card entry with Stripe.js."""
        ...

    def use_payment_method(self, *, customer_id: str, setup_intent_id: str) -> str:
        """Make the card confirmed through `setup_intent_id` the customer's default; returns its id.
        Raises PaymentsError with the provider's reason when the card was not confirmed."""
        ...

    def default_card(self, customer_id: str) -> CardInfo | None: ...

    def find_coupon(self, code: str) -> CouponInfo | None:
        """The active promotion code with this code, else the coupon with this id; None when neither."""
        ...

    def create_subscription(
        self,
        *,
        customer_id: str,
        plan_id: str,
        trial_days: int,
        coupon_id: str | None,
        promotion_code_id: str | None = None,
    ) -> SubscriptionSnapshot: ...

    def get_subscription(self, subscription_id: str) -> SubscriptionSnapshot | None:
        """None when the provider has no such subscription (deleted)."""
        ...

    def list_subscriptions(self, customer_id: str) -> list[SubscriptionSnapshot]: ...

    def set_cancel_at_period_end(self, subscription_id: str, cancel: bool) -> SubscriptionSnapshot: ...

    def change_plan(self, subscription_id: str, plan_id: str) -> SubscriptionSnapshot: ...

    def cancel_now(self, subscription_id: str) -> None: ...

    def preview_plan_change(
        self, *, customer_id: str, subscription_id: str, plan_id: str
    ) -> InvoicePreview: ...

    def upcoming_invoice(self, *, customer_id: str, subscription_id: str) -> InvoicePreview | None: ...

    def list_invoices(self, customer_id: str, limit: int = 24) -> list[InvoiceInfo]: ...

    def pending_payment(self, invoice_id: str) -> PaymentConfirmation | None:
        """The invoice's payment intent when it still needs the learner (requires_action), else None."""
        ...

    def verify_webhook(self, payload: bytes, signature: str | None) -> dict[str, Any]:
        """The event as a dict; WebhookSignatureError for a missing, wrong or stale (> 300 s) signature."""
        ...
