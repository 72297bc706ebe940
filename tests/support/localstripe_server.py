"""Run the real `localstripe` server (PyPI) on a free loopback port for the billing tests.

`python -m tests.support.localstripe_server PORT` starts it; `LocalStripe` starts/stops that process
and drives its `/_config` routes (webhook registration, data reset). One change from the stock
command: localstripe pickles its whole store to the fixed path /tmp/localstripe.pickle after every
write; on a machine where several test runs share /tmp that file is a race, so persistence is
switched off (the tests reset the store with `DELETE /_config/data` anyway).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import requests
import stripe

from tests.support.ports import free_port

SECRET_KEY = "sk_test_sayzhong_localstripe"
PUBLISHABLE_KEY = "pk_test_sayzhong_localstripe"
WEBHOOK_SECRET = "whsec_sayzhong_tests"
GOOD_CARD = "4242424242424242"
SCA_CARD = "4000002760003184"
DECLINED_CARD = "4000000000000002"


@dataclass
class LocalStripe:
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def js_url(self) -> str:
        return f"{self.url}/js.stripe.com/v3/"

    def start(self, log_path: str | None = None) -> LocalStripe:
        out = open(log_path, "wb") if log_path else subprocess.DEVNULL
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.localstripe_server", str(self.port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"localstripe exited with {self.process.returncode} (log: {log_path})")
            try:
                requests.get(self.js_url, timeout=1)
                return self
            except requests.ConnectionError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("localstripe did not start within 30 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def reset(self) -> None:
        requests.delete(f"{self.url}/_config/data", timeout=5).raise_for_status()

    def register_webhook(self, url: str, secret: str, hook_id: str = "sayzhong") -> None:
        requests.post(
            f"{self.url}/_config/webhooks/{hook_id}", data={"url": url, "secret": secret}, timeout=5
        ).raise_for_status()

    def unregister_webhook(self, hook_id: str = "sayzhong") -> None:
        # localstripe has no delete route: point the hook at a closed port (deliveries fail quietly).
        self.register_webhook(f"http://127.0.0.1:{free_port()}/gone", "off", hook_id)


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


def renew_after_trial(api_base: str, subscription_id: str) -> str:
    """What a renewal at the end of the trial does at Stripe, on localstripe (whose clock never moves):
    end the trial now, invoice the next period and charge the saved card off-session. With a
    3-D Secure card the payment then waits for the learner (`requires_action`). The invoice id."""
    client = stripe.StripeClient(SECRET_KEY, base_addresses={"api": api_base})  # type: ignore[arg-type]
    sub = client.v1.subscriptions.update(subscription_id, params={"trial_end": "now"})
    invoice = client.v1.invoices.create(
        params={"customer": str(sub.customer), "subscription": subscription_id}
    )
    client.v1.invoices.pay(str(invoice.id))
    return str(invoice.id)


def signed_event(
    event: dict[str, Any], secret: str = WEBHOOK_SECRET, timestamp: int | None = None
) -> tuple[bytes, str]:
    payload = json.dumps(event).encode()
    ts = int(time.time()) if timestamp is None else timestamp
    signature = stripe.WebhookSignature._compute_signature(f"{ts}.{payload.decode()}", secret)
    return payload, f"t={ts},v1={signature}"


def _serve(port: int) -> None:
    from localstripe import resources, server

    resources.Store.dump_to_disk = lambda self: None  # type: ignore[method-assign]
    resources.Store.try_load_from_disk = lambda self: None  # type: ignore[method-assign]
    sys.argv = ["localstripe", "--port", str(port), "--from-scratch"]
    server.start()


if __name__ == "__main__":
    _serve(int(sys.argv[1]))
