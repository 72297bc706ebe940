"""Billing tests run against a real `localstripe` server (one per test session, on a free loopback
port) through the real `stripe` library. Each test starts from an empty localstripe store with the
repo's catalogue synced, and with STRIPE_* settings pointing at it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import stripe
from sqlmodel import SQLModel

from sayzhong.billing import service
from sayzhong.db import get_engine
from sayzhong.integrations.stripe_payments import StripePayments
from sayzhong.models import load_all_models
from sayzhong.settings import Settings, get_settings, reset_settings_cache
from tests.support.localstripe_server import PUBLISHABLE_KEY, SECRET_KEY, LocalStripe

WEBHOOK_SECRET = "whsec_sayzhong_tests"
GOOD_CARD = "4242424242424242"
SCA_CARD = "4000002760003184"
DECLINED_CARD = "4000000000000002"


@pytest.fixture(scope="session")
def localstripe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStripe]:
    server = LocalStripe().start(str(tmp_path_factory.mktemp("localstripe") / "localstripe.log"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def stripe_settings(
    settings: Settings, localstripe: LocalStripe, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    monkeypatch.setenv("STRIPE_SECRET_KEY", SECRET_KEY)
    monkeypatch.setenv("STRIPE_PUBLISHABLE_KEY", PUBLISHABLE_KEY)
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
    monkeypatch.setenv("STRIPE_API_BASE", localstripe.url)
    monkeypatch.setenv("STRIPE_JS_URL", localstripe.js_url)
    reset_settings_cache()
    localstripe.reset()
    localstripe.unregister_webhook()
    load_all_models()
    SQLModel.metadata.create_all(get_engine())
    return get_settings()


@pytest.fixture
def payments(stripe_settings: Settings) -> StripePayments:
    adapter = StripePayments.from_settings(stripe_settings)
    service.sync_catalog(payments=adapter)
    return adapter


def confirm_card(localstripe: LocalStripe, client_secret: str, number: str) -> dict[str, Any]:
    """What Stripe.js `confirmCardSetup` sends (localstripe's own stripe.js sends exactly this)."""
    seti = client_secret.split("_secret_")[0]
    body = {
        "key": PUBLISHABLE_KEY,
        "use_stripe_sdk": True,
        "client_secret": client_secret,
        "payment_method_data": {
            "type": "card",
            "card": {"number": number, "exp_month": "12", "exp_year": "2031", "cvc": "123"},
        },
    }
    import requests

    response = requests.post(
        f"{localstripe.url}/v1/setup_intents/{seti}/confirm", data=json.dumps(body), timeout=5
    )
    return dict(response.json())


def complete_3ds(localstripe: LocalStripe, client_secret: str) -> None:
    """The learner presses "Complete authentication" in the 3-D Secure dialog."""
    import requests

    seti = client_secret.split("_secret_")[0]
    body = {"key": PUBLISHABLE_KEY, "use_stripe_sdk": True, "client_secret": client_secret}
    requests.post(f"{localstripe.url}/v1/setup_intents/{seti}/confirm", data=json.dumps(body), timeout=5)


def signed_event(
    event: dict[str, Any], secret: str = WEBHOOK_SECRET, timestamp: int | None = None
) -> tuple[bytes, str]:
    payload = json.dumps(event).encode()
    ts = int(time.time()) if timestamp is None else timestamp
    signature = stripe.WebhookSignature._compute_signature(f"{ts}.{payload.decode()}", secret)
    return payload, f"t={ts},v1={signature}"
