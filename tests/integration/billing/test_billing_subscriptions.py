"""Subscribing, changing, cancelling and erasing — the real `stripe` library against localstripe."""

from __future__ import annotations

import json

import pytest
import requests
from sqlmodel import select

from sayzhong.billing import catalog, service
from sayzhong.billing.entitlements import FREE, PLUS, entitlement_for
from sayzhong.billing.models import BillingSubscription
from sayzhong.billing.ports import PaymentsError
from sayzhong.db import session_scope
from sayzhong.integrations.stripe_payments import StripePayments
from sayzhong.settings import Settings
from tests.factories import learner_with_api_token
from tests.support.localstripe_server import (
    DECLINED_CARD,
    GOOD_CARD,
    PUBLISHABLE_KEY,
    SCA_CARD,
    SECRET_KEY,
    LocalStripe,
    complete_3ds,
    confirm_card,
    renew_after_trial,
)


def _learner(email: str = "mei@example.org") -> int:
    return learner_with_api_token(email)[0]


def _card(user_id: int, payments: StripePayments, localstripe: LocalStripe, number: str = GOOD_CARD) -> str:
    with session_scope() as session:
        entry = service.start_card_entry(session=session, user_id=user_id, payments=payments)
    assert entry.publishable_key.startswith("pk_") and entry.js_url.endswith("/js.stripe.com/v3/")
    confirm_card(localstripe, entry.client_secret, number)
    return entry.setup_intent_id


def _subscribe(
    user_id: int, payments: StripePayments, seti: str, plan: str = catalog.PLUS_MONTHLY.id
) -> service.SubscribeResult:
    with session_scope() as session:
        return service.subscribe(
            session=session, user_id=user_id, plan_id=plan, setup_intent_id=seti, payments=payments
        )


def _plan(user_id: int) -> str:
    with session_scope() as session:
        return entitlement_for(session=session, user_id=user_id).plan


def test_first_subscription_is_a_seven_day_trial_and_unlocks_plus(
    payments: StripePayments, localstripe: LocalStripe
) -> None:
    user_id = _learner()
    assert _plan(user_id) == FREE
    result = _subscribe(user_id, payments, _card(user_id, payments, localstripe))
    assert (result.status, result.trial_days, result.payment_client_secret) == ("trialing", 7, None)
    assert _plan(user_id) == PLUS
    with session_scope() as session:
        view = service.portal(session=session, user_id=user_id, payments=payments)
    assert view.status == "trialing" and view.trial_end is not None
    assert view.card is not None and view.card.last4 == "4242"
    assert view.next_invoice is not None and view.next_invoice.amount_due == catalog.PLUS_MONTHLY.amount
    assert view.trial_available is False


def test_the_trial_is_once_per_person_even_after_erasure_and_signing_up_again(
    payments: StripePayments, localstripe: LocalStripe
) -> None:
    user_id = _learner("twice@example.org")
    _subscribe(user_id, payments, _card(user_id, payments, localstripe))
    with session_scope() as session:
        service.erase_billing_data(session=session, user_id=user_id, payments=payments)
        from sayzhong.accounts.models import User

        row = session.get(User, user_id)
        assert row is not None
        session.delete(row)
    again = _learner("Twice@Example.org")
    result = _subscribe(again, payments, _card(again, payments, localstripe))
    assert result.trial_days == 0
    assert result.status == "active"  # charged at once: the invoice is paid
    with session_scope() as session:
        invoices = service.portal(session=session, user_id=again, payments=payments).invoices
    assert [(i.amount_paid, i.status) for i in invoices] == [(catalog.PLUS_MONTHLY.amount, "paid")]


def test_a_declined_card_gives_stripes_reason_and_grants_nothing(
    payments: StripePayments, localstripe: LocalStripe
) -> None:
    user_id = _learner()
    with session_scope() as session:
        entry = service.start_card_entry(session=session, user_id=user_id, payments=payments)
    answer = confirm_card(localstripe, entry.client_secret, DECLINED_CARD)
    assert answer["error"]["message"] == "Your card was declined."
    with pytest.raises(PaymentsError) as caught:
        _subscribe(user_id, payments, entry.setup_intent_id)
    assert "not confirmed" in caught.value.user_message and "nothing was charged" in caught.value.user_message
    assert _plan(user_id) == FREE
    with session_scope() as session:
        assert session.exec(select(BillingSubscription)).all() == []


def test_an_sca_card_needs_the_learners_confirmation_before_it_can_be_used(
    payments: StripePayments, localstripe: LocalStripe
) -> None:
    user_id = _learner()
    with session_scope() as session:
        entry = service.start_card_entry(session=session, user_id=user_id, payments=payments)
    assert confirm_card(localstripe, entry.client_secret, SCA_CARD)["status"] == "requires_action"
    with pytest.raises(PaymentsError):
        _subscribe(user_id, payments, entry.setup_intent_id)
    assert _plan(user_id) == FREE
    complete_3ds(localstripe, entry.client_secret)
    assert _subscribe(user_id, payments, entry.setup_intent_id).status == "trialing"
    assert _plan(user_id) == PLUS


def test_switching_to_annual_shows_the_proration_then_changes_the_plan(
    payments: StripePayments, localstripe: LocalStripe
) -> None:
    # a paying (non-trial) subscriber, so there is an invoice to prorate against
    user_id = _learner("paid2@example.org")
    with session_scope() as session:
        from sayzhong.billing.models import BillingTrialClaim

        session.add(BillingTrialClaim(email_hash=service.email_hash("paid2@example.org")))
    _subscribe(user_id, payments, _card(user_id, payments, localstripe))
    with session_scope() as session:
        preview = service.preview_plan_change(
            session=session, user_id=user_id, plan_id=catalog.PLUS_ANNUAL.id, payments=payments
        )
    assert preview.amount_due == catalog.PLUS_ANNUAL.amount - catalog.PLUS_MONTHLY.amount
    assert ("Unused time", -catalog.PLUS_MONTHLY.amount) in preview.lines
    with session_scope() as session:
        row = service.change_plan(
            session=session, user_id=user_id, plan_id=catalog.PLUS_ANNUAL.id, payments=payments
        )
        assert (row.plan_id, row.pending) == (catalog.PLUS_ANNUAL.id, None)
    with session_scope() as session:
        with pytest.raises(Exception, match="already on that plan"):
            service.preview_plan_change(
                session=session, user_id=user_id, plan_id=catalog.PLUS_ANNUAL.id, payments=payments
            )


def test_cancel_at_period_end_keeps_plus_until_then_and_resume_undoes_it(
    payments: StripePayments, localstripe: LocalStripe
) -> None:
    user_id = _learner()
    _subscribe(user_id, payments, _card(user_id, payments, localstripe))
    with session_scope() as session:
        row = service.cancel(session=session, user_id=user_id, reason="too busy", payments=payments)
        assert row.cancel_at_period_end and row.cancel_reason == "too busy"
    assert _plan(user_id) == PLUS
    assert payments.list_subscriptions(service_customer(user_id))[0].cancel_at_period_end is True
    with session_scope() as session:
        assert (
            service.resume(session=session, user_id=user_id, payments=payments).cancel_at_period_end is False
        )
    assert payments.list_subscriptions(service_customer(user_id))[0].cancel_at_period_end is False


def service_customer(user_id: int) -> str:
    with session_scope() as session:
        customer = service.customer_id_for(session=session, user_id=user_id)
    assert customer is not None
    return customer


def test_erasure_cancels_the_subscription_and_deletes_the_stripe_customer(
    payments: StripePayments, localstripe: LocalStripe, stripe_settings: Settings
) -> None:
    user_id = _learner()
    _subscribe(user_id, payments, _card(user_id, payments, localstripe))
    customer = service_customer(user_id)
    sub_id = payments.list_subscriptions(customer)[0].id
    with session_scope() as session:
        counts = service.erase_billing_data(session=session, user_id=user_id, payments=payments)
    assert counts == {"subscriptions_canceled": 1, "customers_deleted": 1, "held_takes_deleted": 0}
    answer = requests.get(f"{localstripe.url}/v1/customers/{customer}", auth=(SECRET_KEY, ""), timeout=5)
    assert answer.status_code == 404
    snap = payments.get_subscription(sub_id)
    assert snap is not None and snap.status == "canceled"
    with session_scope() as session:
        assert service.customer_id_for(session=session, user_id=user_id) is None
        # erasing twice (a retried erasure job) is fine
        service.erase_billing_data(session=session, user_id=user_id, payments=payments)


def test_a_discount_code_is_checked_at_stripe_in_plain_words(payments: StripePayments) -> None:
    from sayzhong.errors import ValidationError

    coupon = service.check_coupon(" launch20 ", payments=payments)  # synced from the catalogue
    assert (coupon.id, coupon.percent_off, coupon.duration, coupon.valid) == ("LAUNCH20", 20.0, "once", True)
    assert service.describe_coupon(coupon) == "20 % off the first invoice"
    for code, error in (
        ("NOPE", "coupon_unknown"),
        ("../v1/customers", "coupon_invalid"),
        ("x" * 65, "coupon_invalid"),
    ):
        with pytest.raises(ValidationError) as caught:
            service.check_coupon(code, payments=payments)
        assert caught.value.code == error
    with pytest.raises(ValidationError, match="There is no discount code NOPE"):
        service.check_coupon("nope", payments=payments)


def test_an_unknown_code_at_checkout_changes_nothing(
    payments: StripePayments, localstripe: LocalStripe
) -> None:
    from sayzhong.errors import ValidationError

    user_id = _learner("code@example.org")
    seti = _card(user_id, payments, localstripe)
    with session_scope() as session, pytest.raises(ValidationError, match="no discount code"):
        service.subscribe(
            session=session,
            user_id=user_id,
            plan_id=catalog.PLUS_MONTHLY.id,
            setup_intent_id=seti,
            coupon_code="FREEMONEY",
            payments=payments,
        )
    assert _plan(user_id) == FREE
    with session_scope() as session:
        assert session.exec(select(BillingSubscription)).all() == []
        assert service.portal(session=session, user_id=user_id, payments=payments).trial_available is True


def test_a_valid_code_is_sent_to_stripe_as_a_discount_which_localstripe_refuses_so_nothing_is_granted(
    payments: StripePayments, localstripe: LocalStripe
) -> None:
    """Live Stripe applies `discounts=[{coupon}]` to the subscription; localstripe 1.15 implements no
    discounts and answers 400 "Unexpected discounts" — the learner is told, nothing is granted or
    charged, and the trial stays available (docs/billing.md)."""
    user_id = _learner("launch@example.org")
    seti = _card(user_id, payments, localstripe)
    with session_scope() as session, pytest.raises(PaymentsError, match="cannot apply discount codes"):
        service.subscribe(
            session=session,
            user_id=user_id,
            plan_id=catalog.PLUS_MONTHLY.id,
            setup_intent_id=seti,
            coupon_code="launch20",
            payments=payments,
        )
    assert _plan(user_id) == FREE
    with session_scope() as session:
        assert session.exec(select(BillingSubscription)).all() == []
        assert service.portal(session=session, user_id=user_id, payments=payments).trial_available is True
    refused = requests.post(
        f"{localstripe.url}/v1/subscriptions",
        auth=(SECRET_KEY, ""),
        data={
            "customer": "cus_x",
            "items[0][plan]": catalog.PLUS_MONTHLY.id,
            "discounts[0][coupon]": "LAUNCH20",
        },
        timeout=10,
    )
    assert refused.status_code == 400 and "discounts" in refused.text


def test_a_renewal_the_bank_wants_confirmed_asks_the_learner_then_continues(
    payments: StripePayments, localstripe: LocalStripe
) -> None:
    user_id = _learner("renew@example.org")
    with session_scope() as session:
        entry = service.start_card_entry(session=session, user_id=user_id, payments=payments)
    confirm_card(localstripe, entry.client_secret, SCA_CARD)
    complete_3ds(localstripe, entry.client_secret)
    _subscribe(user_id, payments, entry.setup_intent_id)
    with session_scope() as session:
        sub_id = service.latest_subscription_id(session=session, user_id=user_id)
        assert sub_id is not None
        assert (
            service.portal(session=session, user_id=user_id, payments=payments).needs_payment_confirmation
            is False
        )
    invoice_id = renew_after_trial(localstripe.url, sub_id)
    with session_scope() as session:  # what the webhook handler / reconciler do: re-read from Stripe
        service.refresh_subscription(session=session, subscription_id=sub_id, payments=payments)
    with session_scope() as session:
        view = service.portal(session=session, user_id=user_id, payments=payments)
        assert (view.needs_payment_confirmation, view.confirmation_is_renewal) == (True, True)
        secret = service.pending_payment_secret(session=session, user_id=user_id, payments=payments)
    assert secret is not None and secret.startswith("pi_")
    # live Stripe reports such a renewal as past_due: the same prompt (not the "update your card" one)
    with session_scope() as session:
        row = session.exec(select(BillingSubscription).where(BillingSubscription.user_id == user_id)).one()
        assert row.latest_invoice_id == invoice_id
        row.status = "past_due"
        session.add(row)
    with session_scope() as session:
        view = service.portal(session=session, user_id=user_id, payments=payments)
        assert (view.needs_payment_confirmation, view.confirmation_is_renewal) == (True, True)
    # the learner confirms (Stripe.js confirmCardPayment → localstripe's "Complete authentication")
    pi = secret.split("_secret_")[0]
    answer = requests.post(
        f"{localstripe.url}/v1/payment_intents/{pi}/_authenticate?success=true",
        data=json.dumps({"key": PUBLISHABLE_KEY, "client_secret": secret}),
        timeout=5,
    )
    assert answer.status_code == 200, answer.text
    with session_scope() as session:
        service.refresh_subscription(session=session, subscription_id=sub_id, payments=payments)
    with session_scope() as session:
        view = service.portal(session=session, user_id=user_id, payments=payments)
        assert view.needs_payment_confirmation is False and view.status == "active"
        assert _plan(user_id) == PLUS
