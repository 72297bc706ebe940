"""Webhooks: signature, store-once, out-of-order safety, retries with backoff, and the reconciler.

Events are signed like Stripe signs them (t=…,v1=HMAC-SHA256) and posted to the real route; the
subscriptions they talk about live in localstripe, which the handlers re-read.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import uvicorn
from sqlmodel import select
from starlette.testclient import TestClient

from sayzhong import routes
from sayzhong.billing import catalog, service, webhooks
from sayzhong.billing.entitlements import FREE, PLUS, entitlement_for
from sayzhong.billing.models import (
    BillingCustomer,
    BillingReconcileFinding,
    BillingSubscription,
    BillingWebhookEvent,
)
from sayzhong.db import session_scope, utcnow
from sayzhong.http.app import create_http_app
from sayzhong.integrations import posthog_sink
from sayzhong.integrations.stripe_payments import StripePayments
from sayzhong.notifications.models import OutboxEmail
from sayzhong.settings import Settings, get_settings, reset_settings_cache
from tests.factories import learner_with_api_token
from tests.support.localstripe_server import (
    GOOD_CARD,
    WEBHOOK_SECRET,
    LocalStripe,
    confirm_card,
    free_port,
    signed_event,
)
from tests.support.posthog_capture import PostHogCapture


@pytest.fixture
def client(payments: StripePayments) -> Iterator[TestClient]:
    with TestClient(create_http_app(), raise_server_exceptions=False) as c:
        yield c


def _subscriber(
    payments: StripePayments, localstripe: LocalStripe, email: str = "mei@example.org"
) -> tuple[int, str]:
    user_id = learner_with_api_token(email)[0]
    with session_scope() as session:
        entry = service.start_card_entry(session=session, user_id=user_id, payments=payments)
    confirm_card(localstripe, entry.client_secret, GOOD_CARD)
    with session_scope() as session:
        service.subscribe(
            session=session,
            user_id=user_id,
            plan_id=catalog.PLUS_MONTHLY.id,
            setup_intent_id=entry.setup_intent_id,
            payments=payments,
        )
        sub_id = session.exec(
            select(BillingSubscription.stripe_subscription_id).where(BillingSubscription.user_id == user_id)
        ).one()
    return user_id, sub_id


def _event(event_id: str, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": event_id,
        "object": "event",
        "type": kind,
        "created": int(time.time()),
        "data": {"object": obj},
    }


def _post(client: TestClient, event: dict[str, Any], **kwargs: Any) -> Any:
    payload, header = signed_event(event, **kwargs)
    return client.post(routes.STRIPE_WEBHOOK, content=payload, headers={"stripe-signature": header})


def _events() -> list[BillingWebhookEvent]:
    with session_scope() as session:
        return list(session.exec(select(BillingWebhookEvent)).all())


def _local(sub_id: str) -> BillingSubscription:
    with session_scope() as session:
        row = session.exec(
            select(BillingSubscription).where(BillingSubscription.stripe_subscription_id == sub_id)
        ).one()
    return row


def test_a_bad_signature_is_400_and_stored_nowhere(client: TestClient) -> None:
    event = _event("evt_forged", "customer.subscription.updated", {"id": "sub_x"})
    assert _post(client, event, secret="whsec_wrong").status_code == 400
    assert (
        _post(client, event, timestamp=int(time.time()) - 301).status_code == 400
    )  # older than the tolerance
    payload, _ = signed_event(event)
    assert client.post(routes.STRIPE_WEBHOOK, content=payload).status_code == 400  # no signature
    assert (
        client.post(
            routes.STRIPE_WEBHOOK, content=b"not json", headers={"stripe-signature": "t=1,v1=00"}
        ).status_code
        == 400
    )
    assert _events() == []


def test_a_duplicate_delivery_is_stored_and_handled_once(
    client: TestClient, payments: StripePayments, localstripe: LocalStripe
) -> None:
    _user_id, sub_id = _subscriber(payments, localstripe)
    event = _event("evt_dup", "customer.subscription.updated", {"id": sub_id, "object": "subscription"})
    first, second = _post(client, event), _post(client, event)
    assert first.json() == {"received": True, "duplicate": False}
    assert second.json() == {"received": True, "duplicate": True}
    webhooks.process_due_events(payments=payments)
    (row,) = _events()
    assert (row.event_id, row.status, row.attempts) == ("evt_dup", "handled", 1)


def test_events_out_of_order_end_in_stripes_current_state(
    client: TestClient, payments: StripePayments, localstripe: LocalStripe
) -> None:
    user_id, sub_id = _subscriber(payments, localstripe)
    stale_snapshot = {
        "id": sub_id,
        "object": "subscription",
        "status": "trialing",
        "cancel_at_period_end": False,
    }
    payments.cancel_now(sub_id)  # at Stripe: canceled
    deleted = _event(
        "evt_2_deleted", "customer.subscription.deleted", {**stale_snapshot, "status": "canceled"}
    )
    created = _event("evt_1_created", "customer.subscription.created", stale_snapshot)
    _post(client, deleted)
    _post(client, created)  # the older event arrives last, claiming "trialing"
    webhooks.process_due_events(payments=payments)
    assert _local(sub_id).status == "canceled"
    with session_scope() as session:
        assert entitlement_for(session=session, user_id=user_id).plan == FREE


def test_unhandled_types_are_recorded_and_ignored(client: TestClient) -> None:
    assert _post(client, _event("evt_other", "balance.available", {})).status_code == 200
    assert [(e.event_id, e.status) for e in _events()] == [("evt_other", "ignored")]


def test_a_handler_crash_is_retried_with_backoff_then_marked_handled(
    client: TestClient, payments: StripePayments, localstripe: LocalStripe
) -> None:
    _user_id, sub_id = _subscriber(payments, localstripe)
    payments.set_cancel_at_period_end(sub_id, True)
    with session_scope() as session:  # stored as the route stores it, without the route's immediate attempt
        webhooks.record_event(
            session=session, event=_event("evt_crash", "customer.subscription.updated", {"id": sub_id})
        )
    calls = {"n": 0}

    def flaky(session: Any, event: dict[str, Any], gateway: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("Stripe timed out")
        webhooks.handle_event(session, event, gateway)

    now = utcnow()
    first = webhooks.process_due_events(payments=payments, now=now, handler=flaky)
    assert (first.handled, first.retried) == (0, 1)
    (row,) = _events()
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "ConnectionError: Stripe timed out")
    assert _local(sub_id).cancel_at_period_end is False  # not applied yet
    assert (
        webhooks.process_due_events(payments=payments, now=now + timedelta(seconds=5), handler=flaky).handled
        == 0
    )
    later = webhooks.process_due_events(payments=payments, now=now + webhooks.backoff(1), handler=flaky)
    assert later.handled == 1
    (row,) = _events()
    assert (row.status, row.attempts, row.last_error) == ("handled", 2, None)
    assert _local(sub_id).cancel_at_period_end is True


def test_a_failed_payment_sends_a_dunning_email_and_keeps_plus_in_grace(
    client: TestClient, payments: StripePayments, localstripe: LocalStripe, stripe_settings: Settings
) -> None:
    user_id, sub_id = _subscriber(payments, localstripe)
    with session_scope() as session:
        row = session.exec(select(BillingSubscription)).one()
        row.status = "past_due"  # what Stripe reports while it retries; localstripe cannot age a trial
        session.add(row)
    ent_plan = None
    with session_scope() as session:
        ent = entitlement_for(session=session, user_id=user_id)
        ent_plan = (ent.plan, ent.grace)
    assert ent_plan == (PLUS, True)
    invoice = {
        "id": "in_x",
        "object": "invoice",
        "subscription": sub_id,
        "amount_due": 999,
        "currency": "eur",
    }
    _post(client, _event("evt_failed", "invoice.payment_failed", invoice))
    webhooks.process_due_events(payments=payments)
    with session_scope() as session:
        mails = session.exec(select(OutboxEmail)).all()
        assert [m.subject for m in mails] == ["Your SayZhong payment did not go through"]
        assert "€9.99" in mails[0].text_body and "/billing" in mails[0].text_body


def test_the_reconciler_repairs_a_subscription_changed_while_webhooks_were_off(
    payments: StripePayments, localstripe: LocalStripe
) -> None:
    _user_id, sub_id = _subscriber(payments, localstripe)
    payments.set_cancel_at_period_end(sub_id, True)  # no webhook reached us
    other_id, other_sub = _subscriber(payments, localstripe, "other@example.org")
    payments.cancel_now(other_sub)
    assert _local(sub_id).cancel_at_period_end is False
    with session_scope() as session:
        findings = webhooks.reconcile(session=session, payments=payments)
    assert {(f.stripe_subscription_id, f.field, f.stripe_value) for f in findings} == {
        (sub_id, "cancel_at_period_end", "True"),
        (other_sub, "status", "canceled"),
    }
    assert _local(sub_id).cancel_at_period_end is True
    with session_scope() as session:
        assert len(session.exec(select(BillingReconcileFinding)).all()) == 2
        assert entitlement_for(session=session, user_id=other_id).plan == FREE
        assert webhooks.reconcile(session=session, payments=payments) == []  # nothing left to repair


@pytest.fixture
def live_webhook_url(payments: StripePayments) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_http_app(), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}{routes.STRIPE_WEBHOOK}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_localstripe_delivers_signed_events_that_land_and_are_handled(
    live_webhook_url: str, payments: StripePayments, localstripe: LocalStripe
) -> None:
    localstripe.register_webhook(live_webhook_url, WEBHOOK_SECRET)
    _user_id, sub_id = _subscriber(payments, localstripe)
    payments.cancel_now(sub_id)
    deadline = time.monotonic() + 15

    # (events of earlier tests may still arrive: look for this subscription's own deletion)
    def ours_handled() -> bool:
        return any(
            e.type == "customer.subscription.deleted"
            and e.status == "handled"
            and e.payload["data"]["object"]["id"] == sub_id
            for e in _events()
        )

    while time.monotonic() < deadline and not ours_handled():
        time.sleep(0.2)
    assert ours_handled()
    assert _local(sub_id).status == "canceled"


def test_a_paid_invoice_sends_a_receipt_through_the_mailer(
    client: TestClient, payments: StripePayments, localstripe: LocalStripe
) -> None:
    user_id, sub_id = _subscriber(payments, localstripe)
    from sayzhong.analytics import service as analytics
    from sayzhong.privacy import consent

    with session_scope() as session:
        consent.record_consent(
            session=session,
            visitor_id=None,
            user_id=user_id,
            analytics=True,
            marketing=False,
            source="banner",
        )
    invoice = {
        "id": "in_paid",
        "object": "invoice",
        "subscription": sub_id,
        "amount_paid": 7999,
        "currency": "eur",
    }
    _post(client, _event("evt_paid", "invoice.payment_succeeded", invoice))
    with session_scope() as session:
        (mail,) = session.exec(select(OutboxEmail)).all()
    assert (mail.to_address, mail.subject) == (
        "mei@example.org",
        "Your SayZhong receipt (€79.99)",
    )
    # Issue 14: the paid step of the funnel (once, whatever Stripe redelivers).
    _post(client, _event("evt_paid", "invoice.payment_succeeded", invoice))
    with session_scope() as session:
        paid = analytics.list_events(session=session, distinct_id=str(user_id), event="subscription_paid")
    assert [e.properties for e in paid] == [{"plan": "monthly", "amount_minor": 7999, "currency": "eur"}]


@pytest.fixture
def posthog(payments: StripePayments, monkeypatch: pytest.MonkeyPatch) -> Iterator[PostHogCapture]:
    """PostHog configured against the local capture server (after the Stripe settings)."""
    server = PostHogCapture().start()
    monkeypatch.setenv("POSTHOG_API_KEY", "phc_test_key")
    monkeypatch.setenv("POSTHOG_HOST", server.url)
    reset_settings_cache()
    try:
        yield server
    finally:
        posthog_sink.shutdown_clients()
        reset_settings_cache()
        server.stop()


def _consent_and_touch(user_id: int, *, marketing: bool) -> None:
    from sayzhong.analytics import attribution
    from sayzhong.privacy import consent

    cookie = attribution.encode_cookie(
        first=attribution.Touch(channel="organic_search", referrer_host="www.google.com"),
        last=attribution.Touch(channel="paid_search", source="google", medium="cpc", campaign="spring_tones"),
        secret=get_settings().secret_key,
    )
    with session_scope() as session:
        attribution.attach_to_account(
            session=session, user_id=user_id, cookie_header=f"{attribution.COOKIE_NAME}={cookie}"
        )
        consent.record_consent(
            session=session,
            visitor_id=None,
            user_id=user_id,
            analytics=True,
            marketing=marketing,
            source="banner",
        )


def test_the_first_paid_invoice_is_one_ad_conversion_under_marketing_consent_only(
    client: TestClient, payments: StripePayments, localstripe: LocalStripe, posthog: PostHogCapture
) -> None:
    from sayzhong.analytics import service as analytics

    buyer, buyer_sub = _subscriber(payments, localstripe, "buyer@example.org")
    shy, shy_sub = _subscriber(payments, localstripe, "shy@example.org")
    _consent_and_touch(buyer, marketing=True)
    _consent_and_touch(shy, marketing=False)

    def paid(invoice_id: str, sub_id: str) -> dict[str, Any]:
        return {
            "id": invoice_id,
            "object": "invoice",
            "subscription": sub_id,
            "amount_paid": 999,
            "currency": "eur",
        }

    # Stripe sends both event types for one invoice, may redeliver, and later renewals come too.
    _post(client, _event("evt_conv_1", "invoice.paid", paid("in_first", buyer_sub)))
    _post(client, _event("evt_conv_2", "invoice.payment_succeeded", paid("in_first", buyer_sub)))
    _post(client, _event("evt_conv_1", "invoice.paid", paid("in_first", buyer_sub)))
    _post(client, _event("evt_conv_3", "invoice.paid", paid("in_renewal", buyer_sub)))
    _post(client, _event("evt_conv_4", "invoice.paid", paid("in_shy", shy_sub)))

    with session_scope() as session:
        conversions = analytics.list_events(session=session, event="ad_conversion")
        shy_paid = analytics.list_events(session=session, distinct_id=str(shy), event="subscription_paid")
        converted = {
            c.user_id: c.converted_at is not None for c in session.exec(select(BillingCustomer)).all()
        }
    assert [(e.distinct_id, e.properties) for e in conversions] == [
        (str(buyer), {"channel": "paid_search", "campaign": "spring_tones"})
    ]
    # The learner without marketing consent converted too, but only the analytics event was recorded.
    assert len(shy_paid) == 1 and converted == {buyer: True, shy: True}

    settings = get_settings()
    posthog_sink.shared_client(
        settings.posthog_api_key, settings.posthog_host, settings.posthog_max_queue_size
    ).flush()
    sent = posthog.wait_for(lambda events: sum(e["event"] == "subscription_paid" for e in events) >= 4)
    sent_conversions = [e for e in sent if e["event"] == "ad_conversion"]
    assert [
        (e["distinct_id"], e["properties"]["channel"], e["properties"]["campaign"]) for e in sent_conversions
    ] == [(str(buyer), "paid_search", "spring_tones")]
    assert not any("email" in key for e in sent_conversions for key in e["properties"])
