"""Stripe payments adapter (the official `stripe` library) behind `sayzhong.billing.ports.PaymentsGateway`.

Only the API surface live Stripe and localstripe both implement is used: Products, Plans and
Coupons (catalogue), Customers, SetupIntents and PaymentMethods, Subscriptions (trial by
`trial_end`, `cancel_at_period_end`, plan changes with Stripe's default proration), Invoices
(`create_preview`, list) and PaymentIntents. The API version is the one the pinned library sends.
A `StripeClient` is built per adapter (no module-level `stripe.api_key`).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

import stripe

from sayzhong.billing.catalog import CouponDef, PlanDef, ProductDef
from sayzhong.billing.ports import (
    CardInfo,
    CouponInfo,
    InvoiceInfo,
    InvoicePreview,
    PaymentConfirmation,
    PaymentsError,
    SubscriptionSnapshot,
    WebhookSignatureError,
)
from sayzhong.errors import ServiceUnavailableError
from sayzhong.settings import Settings

log = logging.getLogger(__name__)

WEBHOOK_TOLERANCE_S = 300
T = TypeVar("T")


def _dict(obj: Any) -> dict[str, Any]:
    if obj is None:
        return {}
    if isinstance(obj, dict):
        return obj
    return dict(obj.to_dict())


def _ts(value: Any) -> datetime | None:
    return datetime.fromtimestamp(int(value), tz=UTC) if value else None


def _id(value: Any) -> str | None:
    """An expandable field: the id whether Stripe sent a string or the expanded object."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return str(_dict(value).get("id") or "") or None


def snapshot(raw: Any) -> SubscriptionSnapshot:
    """A subscription in plain data. Newer API versions keep the period on the item, older ones on
    the subscription: read either."""
    sub = _dict(raw)
    items = (sub.get("items") or {}).get("data") or []
    item = items[0] if items else {}
    plan = item.get("plan") or sub.get("plan") or {}
    period_end = item.get("current_period_end") or sub.get("current_period_end")
    return SubscriptionSnapshot(
        id=str(sub["id"]),
        customer_id=str(_id(sub.get("customer")) or ""),
        plan_id=str(plan.get("id") if isinstance(plan, dict) else plan),
        status=str(sub.get("status") or "incomplete"),
        trial_end=_ts(sub.get("trial_end")),
        current_period_end=_ts(period_end),
        cancel_at_period_end=bool(sub.get("cancel_at_period_end")),
        latest_invoice_id=_id(sub.get("latest_invoice")),
    )


def _preview(raw: Any) -> InvoicePreview:
    inv = _dict(raw)
    lines = tuple(
        (str(line.get("description") or "Plus"), int(line.get("amount") or 0))
        for line in ((inv.get("lines") or {}).get("data") or [])
    )
    return InvoicePreview(
        amount_due=int(inv.get("amount_due") or inv.get("total") or 0),
        currency=str(inv.get("currency") or "eur"),
        next_payment_at=_ts(inv.get("next_payment_attempt") or inv.get("period_end") or inv.get("date")),
        lines=lines,
    )


class StripePayments:
    configured = True

    def __init__(
        self, *, secret_key: str, publishable_key: str, webhook_secret: str, api_base: str, js_url: str
    ):
        base = {"api": api_base.rstrip("/")} if api_base else None
        self._client = stripe.StripeClient(secret_key, base_addresses=base, max_network_retries=1)  # type: ignore[arg-type]
        self._webhook_secret = webhook_secret
        self.publishable_key = publishable_key
        self.js_url = js_url

    @classmethod
    def from_settings(cls, settings: Settings) -> StripePayments:
        return cls(
            secret_key=settings.stripe_secret_key,
            publishable_key=settings.stripe_publishable_key,
            webhook_secret=settings.stripe_webhook_secret,
            api_base=settings.stripe_api_base,
            js_url=settings.stripe_js_url,
        )

    @property
    def v1(self) -> Any:
        return self._client.v1

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Stripe's refusals become plain-words errors; outages a calm 503. Details are logged."""
        try:
            yield
        except stripe.CardError as exc:
            raise PaymentsError(
                exc.user_message or "Your card was declined.", code=exc.code or "card_declined"
            ) from None
        except stripe.APIConnectionError:
            log.exception("Stripe unreachable")
            raise ServiceUnavailableError(
                "We could not reach the payment provider. Nothing was charged; please try again shortly.",
                code="payments_unavailable",
            ) from None
        except stripe.StripeError as exc:
            log.warning("Stripe refused: %s", exc)
            raise PaymentsError(
                exc.user_message or "The payment provider refused this request. Nothing changed."
            ) from None

    def _call(self, fn: Callable[[], T]) -> T:
        with self._errors():
            return fn()

    # --- catalogue ---
    def sync_catalog(
        self, *, product: ProductDef, plans: tuple[PlanDef, ...], coupons: tuple[CouponDef, ...]
    ) -> list[str]:
        report: list[str] = []

        def ensure(kind: str, service: Any, object_id: str, params: dict[str, Any]) -> None:
            try:
                service.retrieve(object_id)
                report.append(f"{kind} {object_id}: exists")
            except stripe.InvalidRequestError as exc:
                if exc.http_status != 404:
                    raise
                service.create(params={"id": object_id, **params})
                report.append(f"{kind} {object_id}: created")

        with self._errors():
            ensure("product", self.v1.products, product.id, {"name": product.name})
            for p in plans:
                ensure(
                    "plan",
                    self.v1.plans,
                    p.id,
                    {
                        "product": product.id,
                        "amount": p.amount,
                        "currency": p.currency,
                        "interval": p.interval,
                        "nickname": p.nickname,
                    },
                )
            for c in coupons:
                ensure(
                    "coupon", self.v1.coupons, c.id, {"percent_off": c.percent_off, "duration": c.duration}
                )
        return report

    # --- customers and cards ---
    def create_customer(self, *, email: str, user_id: int) -> str:
        cus = self._call(
            lambda: self.v1.customers.create(params={"email": email, "metadata": {"user_id": str(user_id)}})
        )
        return str(cus.id)

    def delete_customer(self, customer_id: str) -> None:
        try:
            with self._errors():
                self.v1.customers.delete(customer_id)
        except PaymentsError:
            # Already gone (deleted in the dashboard or by an earlier erasure attempt) is success.
            if self._exists("customers", customer_id):
                raise

    def _exists(self, service: str, object_id: str) -> bool:
        try:
            getattr(self.v1, service).retrieve(object_id)
            return True
        except stripe.InvalidRequestError as exc:
            if exc.http_status == 404:
                return False
            raise

    def create_setup_intent(self, customer_id: str) -> tuple[str, str]:
        seti = self._call(
            lambda: self.v1.setup_intents.create(
                params={"customer": customer_id, "usage": "off_session", "payment_method_types": ["card"]}
            )
        )
        return str(seti.id), str(seti.client_secret)

    def use_payment_method(self, *, customer_id: str, setup_intent_id: str) -> str:
        seti = _dict(self._call(lambda: self.v1.setup_intents.retrieve(setup_intent_id)))
        if seti.get("customer") and _id(seti.get("customer")) != customer_id:
            raise PaymentsError("That card entry belongs to another account.", code="setup_intent_mismatch")
        if seti.get("status") != "succeeded" or not seti.get("payment_method"):
            raise PaymentsError(
                "The card was not confirmed, so nothing was charged. Please enter it again.",
                code="card_not_confirmed",
            )
        pm_id = str(_id(seti["payment_method"]))
        with self._errors():
            pm = _dict(self.v1.payment_methods.retrieve(pm_id))
            if _id(pm.get("customer")) != customer_id:
                # Stripe attaches through the SetupIntent already; localstripe does not (idempotent).
                self.v1.payment_methods.attach(pm_id, params={"customer": customer_id})
            self.v1.customers.update(
                customer_id, params={"invoice_settings": {"default_payment_method": pm_id}}
            )
        return pm_id

    def default_card(self, customer_id: str) -> CardInfo | None:
        with self._errors():
            cus = _dict(self.v1.customers.retrieve(customer_id))
            pm_id = _id((cus.get("invoice_settings") or {}).get("default_payment_method"))
            if not pm_id:
                return None
            card = _dict(self.v1.payment_methods.retrieve(pm_id)).get("card") or {}
        return CardInfo(
            brand=str(card.get("brand") or "card"),
            last4=str(card.get("last4") or "????"),
            exp_month=int(card.get("exp_month") or 0),
            exp_year=int(card.get("exp_year") or 0),
        )

    def _promotion_code(self, code: str) -> dict[str, Any] | None:
        """The active promotion code typed (live Stripe). localstripe has no promotion codes and
        answers the route with a 404 page, which counts as "none" here."""
        try:
            found = self.v1.promotion_codes.list(params={"code": code, "active": True, "limit": 1})
        except stripe.APIConnectionError:
            raise
        except stripe.StripeError as exc:
            log.info("promotion code lookup unavailable (%s): trying the code as a coupon id", exc)
            return None
        rows = [_dict(row) for row in getattr(found, "data", [])]
        return rows[0] if rows else None

    def find_coupon(self, code: str) -> CouponInfo | None:
        with self._errors():
            promo = self._promotion_code(code)
            if promo is not None:
                raw = _dict(promo.get("coupon"))
            else:
                try:
                    raw = _dict(self.v1.coupons.retrieve(code))
                except stripe.InvalidRequestError as exc:
                    if exc.http_status == 404:
                        return None
                    raise
        return CouponInfo(
            promotion_code=str(promo["id"]) if promo else None,
            id=str(raw["id"]),
            percent_off=float(raw["percent_off"]) if raw.get("percent_off") is not None else None,
            amount_off=int(raw["amount_off"]) if raw.get("amount_off") is not None else None,
            currency=raw.get("currency"),
            duration=str(raw.get("duration") or "once"),
            duration_in_months=raw.get("duration_in_months"),
            valid=bool(raw.get("valid", True)) and bool(promo.get("active", True) if promo else True),
        )

    # --- subscriptions ---
    def create_subscription(
        self,
        *,
        customer_id: str,
        plan_id: str,
        trial_days: int,
        coupon_id: str | None,
        promotion_code_id: str | None = None,
    ) -> SubscriptionSnapshot:
        params: dict[str, Any] = {
            "customer": customer_id,
            "items": [{"plan": plan_id}],
            "payment_behavior": "allow_incomplete",
        }
        if trial_days > 0:
            # trial_end rather than trial_period_days: localstripe records only the former.
            params["trial_end"] = int(time.time()) + trial_days * 86400
        if promotion_code_id or coupon_id:
            # Live Stripe applies it to the subscription's invoices. localstripe 1.15 has no discounts
            # at all and answers 400 "Unexpected discounts" (docs/billing.md).
            discount = {"promotion_code": promotion_code_id} if promotion_code_id else {"coupon": coupon_id}
            params["discounts"] = [discount]
        with self._errors():
            try:
                created = self.v1.subscriptions.create(params=params)
            except stripe.InvalidRequestError as exc:
                if "discounts" in params and "discounts" in str(exc.user_message or ""):
                    raise PaymentsError(
                        "This payment server cannot apply discount codes, so Plus did not start and "
                        "nothing was charged. Start without the code, or try again later.",
                        code="coupon_unsupported",
                    ) from None
                raise
        return snapshot(created)

    def get_subscription(self, subscription_id: str) -> SubscriptionSnapshot | None:
        try:
            with self._errors():
                return snapshot(self.v1.subscriptions.retrieve(subscription_id))
        except PaymentsError:
            if self._exists("subscriptions", subscription_id):
                raise
            return None

    def list_subscriptions(self, customer_id: str) -> list[SubscriptionSnapshot]:
        page = self._call(
            lambda: self.v1.subscriptions.list(params={"customer": customer_id, "status": "all"})
        )
        return [snapshot(s) for s in _dict(page).get("data", [])]

    def set_cancel_at_period_end(self, subscription_id: str, cancel: bool) -> SubscriptionSnapshot:
        return snapshot(
            self._call(
                lambda: self.v1.subscriptions.update(subscription_id, params={"cancel_at_period_end": cancel})
            )
        )

    def _item_id(self, subscription_id: str) -> str:
        sub = _dict(self._call(lambda: self.v1.subscriptions.retrieve(subscription_id)))
        return str(sub["items"]["data"][0]["id"])

    def change_plan(self, subscription_id: str, plan_id: str) -> SubscriptionSnapshot:
        item_id = self._item_id(subscription_id)
        return snapshot(
            self._call(
                lambda: self.v1.subscriptions.update(
                    subscription_id, params={"items": [{"id": item_id, "plan": plan_id}]}
                )
            )
        )

    def cancel_now(self, subscription_id: str) -> None:
        self._call(lambda: self.v1.subscriptions.cancel(subscription_id))

    # --- invoices ---
    def preview_plan_change(self, *, customer_id: str, subscription_id: str, plan_id: str) -> InvoicePreview:
        item_id = self._item_id(subscription_id)
        raw = self._call(
            lambda: self.v1.invoices.create_preview(
                params={
                    "customer": customer_id,
                    "subscription": subscription_id,
                    "subscription_details": {
                        "items": [{"id": item_id, "plan": plan_id}],
                        "proration_date": int(time.time()),
                    },
                }
            )
        )
        return _preview(raw)

    def upcoming_invoice(self, *, customer_id: str, subscription_id: str) -> InvoicePreview | None:
        try:
            with self._errors():
                raw = self.v1.invoices.create_preview(
                    params={"customer": customer_id, "subscription": subscription_id}
                )
        except PaymentsError:
            return None
        return _preview(raw)

    def list_invoices(self, customer_id: str, limit: int = 24) -> list[InvoiceInfo]:
        page = _dict(
            self._call(lambda: self.v1.invoices.list(params={"customer": customer_id, "limit": limit}))
        )
        out = []
        for inv in page.get("data", []):
            out.append(
                InvoiceInfo(
                    id=str(inv.get("id")),
                    created=_ts(inv.get("created")) or datetime.now(UTC),
                    amount_due=int(inv.get("amount_due") or 0),
                    amount_paid=int(inv.get("amount_paid") or 0),
                    currency=str(inv.get("currency") or "eur"),
                    status=str(inv.get("status") or "open"),
                    hosted_invoice_url=inv.get("hosted_invoice_url"),
                    invoice_pdf=inv.get("invoice_pdf"),
                )
            )
        return out

    def pending_payment(self, invoice_id: str) -> PaymentConfirmation | None:
        with self._errors():
            inv = _dict(self.v1.invoices.retrieve(invoice_id))
            pi_id = _id(inv.get("payment_intent"))
            if not pi_id:
                return None
            pi = _dict(self.v1.payment_intents.retrieve(pi_id))
        if pi.get("status") not in ("requires_action", "requires_confirmation", "requires_payment_method"):
            return None
        return PaymentConfirmation(
            payment_intent_id=pi_id, client_secret=str(pi.get("client_secret")), status=str(pi.get("status"))
        )

    # --- webhooks ---
    def verify_webhook(self, payload: bytes, signature: str | None) -> dict[str, Any]:
        if not self._webhook_secret:
            raise WebhookSignatureError("Webhooks are not configured (STRIPE_WEBHOOK_SECRET is empty).")
        try:
            stripe.WebhookSignature.verify_header(
                payload.decode("utf-8"), signature or "", self._webhook_secret, WEBHOOK_TOLERANCE_S
            )
            event = json.loads(payload)
        except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError):
            raise WebhookSignatureError() from None
        if (
            not isinstance(event, dict)
            or not isinstance(event.get("id"), str)
            or not isinstance(event.get("type"), str)
        ):
            raise WebhookSignatureError("The webhook body is not a Stripe event.", code="bad_event")
        return event
