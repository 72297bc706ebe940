"""Billing tests run against a real `localstripe` server (one per test session, on a free loopback
port) through the real `stripe` library. Each test starts from an empty localstripe store with the
repo's catalogue synced, and with STRIPE_* settings pointing at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import SQLModel

from sayzhong.billing import service
from sayzhong.db import get_engine
from sayzhong.integrations.stripe_payments import StripePayments
from sayzhong.models import load_all_models
from sayzhong.settings import Settings, get_settings, reset_settings_cache
from tests.support.localstripe_server import PUBLISHABLE_KEY, SECRET_KEY, WEBHOOK_SECRET, LocalStripe


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
