"""Nightly retention: delete what the data inventory says we no longer keep.

Each purge runs in its own unit of work so one failing table never blocks the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlmodel import Session

from sayzhong import audit
from sayzhong.accounts import retention as account_retention
from sayzhong.analytics import service as analytics
from sayzhong.api import tokens
from sayzhong.billing import webhooks as billing_webhooks
from sayzhong.db import session_scope
from sayzhong.notifications import service as notifications
from sayzhong.practice import service as practice

log = logging.getLogger(__name__)

PURGES: dict[str, Callable[[Session], object]] = {
    "account_records": lambda s: account_retention.purge_expired_account_records(session=s),
    "outbox": lambda s: notifications.purge_outbox(session=s),
    "audit_events": lambda s: audit.purge_audit_events(session=s),
    "api_tokens": lambda s: tokens.purge_ended_tokens(session=s),
    "analytics_events": lambda s: analytics.purge_events(session=s),
    "orphan_audio": lambda s: practice.purge_orphan_audio(session=s),
    "expired_audio": lambda s: practice.purge_expired_audio(session=s),
    "billing_records": lambda s: billing_webhooks.purge_billing_records(session=s),
}


def run_retention() -> dict[str, object]:
    results: dict[str, object] = {}
    for name, purge in PURGES.items():
        try:
            with session_scope() as session:
                results[name] = purge(session)
        except Exception:
            log.exception("retention purge %s failed", name)
            results[name] = "failed"
    log.info("retention: %s", results)
    return results
