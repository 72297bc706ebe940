"""Offline payments adapter: no payment provider configured.

A real mode, not a stub: SayZhong runs with Free limits, staff-granted Plus and the billing pages
saying that payments are not set up here. Every call that would move money raises
`PaymentsNotConfiguredError`; reads answer "nothing" (no customer, no invoices).
"""

from __future__ import annotations

from typing import Any, NoReturn

from sayzhong.billing.catalog import CouponDef, PlanDef, ProductDef
from sayzhong.billing.ports import (
    CardInfo,
    CouponInfo,
    InvoiceInfo,
    InvoicePreview,
    PaymentConfirmation,
    PaymentsNotConfiguredError,
    SubscriptionSnapshot,
)


def _refuse() -> NoReturn:
    raise PaymentsNotConfiguredError()


class PaymentsNotConfigured:
    configured = False
    publishable_key = ""
    js_url = ""

    def sync_catalog(
        self, *, product: ProductDef, plans: tuple[PlanDef, ...], coupons: tuple[CouponDef, ...]
    ) -> list[str]:
        _refuse()

    def create_customer(self, *, email: str, user_id: int) -> str:
        _refuse()

    def delete_customer(self, customer_id: str) -> None:
        _refuse()

    def create_setup_intent(self, customer_id: str) -> tuple[str, str]:
        _refuse()

    def use_payment_method(self, *, customer_id: str, setup_intent_id: str) -> str:
        _refuse()

    def default_card(self, customer_id: str) -> CardInfo | None:
        return None

    def find_coupon(self, code: str) -> CouponInfo | None:
        _refuse()

    def create_subscription(
        self,
        *,
        customer_id: str,
        plan_id: str,
        trial_days: int,
        coupon_id: str | None,
        promotion_code_id: str | None = None,
    ) -> SubscriptionSnapshot:
        _refuse()

    def get_subscription(self, subscription_id: str) -> SubscriptionSnapshot | None:
        _refuse()

    def list_subscriptions(self, customer_id: str) -> list[SubscriptionSnapshot]:
        return []

    def set_cancel_at_period_end(self, subscription_id: str, cancel: bool) -> SubscriptionSnapshot:
        _refuse()

    def change_plan(self, subscription_id: str, plan_id: str) -> SubscriptionSnapshot:
        _refuse()

    def cancel_now(self, subscription_id: str) -> None:
        _refuse()

    def preview_plan_change(self, *, customer_id: str, subscription_id: str, plan_id: str) -> InvoicePreview:
        _refuse()

    def upcoming_invoice(self, *, customer_id: str, subscription_id: str) -> InvoicePreview | None:
        return None

    def list_invoices(self, customer_id: str, limit: int = 24) -> list[InvoiceInfo]:
        return []

    def pending_payment(self, invoice_id: str) -> PaymentConfirmation | None:
        return None

    def verify_webhook(self, payload: bytes, signature: str | None) -> dict[str, Any]:
        _refuse()
