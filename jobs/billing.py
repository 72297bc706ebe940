"""Billing jobs: handle due Stripe webhook events (every minute) and reconcile with Stripe (daily)."""

from __future__ import annotations

import logging

from sayzhong.billing import webhooks
from sayzhong.db import session_scope

log = logging.getLogger(__name__)


def run_billing_webhooks() -> dict[str, object]:
    result = webhooks.process_due_events()
    return {"handled": result.handled, "retried": result.retried, "failed": result.failed}


def run_billing_reconcile() -> dict[str, object]:
    with session_scope() as session:
        findings = webhooks.reconcile(session=session)
    log.info("billing reconcile: %d difference(s) repaired", len(findings))
    return {"repaired": len(findings)}
