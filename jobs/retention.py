"""Nightly retention: delete what the data inventory says we no longer keep.

Each purge runs in its own unit of work and is recorded as its own job run
(`retention.<name>`), so one failing table never blocks the others and staff see which failed.
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
from sayzhong.notifications import reminders
from sayzhong.notifications import service as notifications
from sayzhong.ops import jobs as ops_jobs
from sayzhong.ops.jobs import run_recorded
from sayzhong.practice import service as practice
from sayzhong.privacy import erasure, export
from sayzhong.privacy import retention as privacy_retention

log = logging.getLogger(__name__)

PURGES: dict[str, Callable[[Session], object]] = {
    "account_records": lambda s: account_retention.purge_expired_account_records(session=s),
    "outbox": lambda s: notifications.purge_outbox(session=s),
    "audit_events": lambda s: audit.purge_audit_events(session=s),
    "api_tokens": lambda s: tokens.purge_ended_tokens(session=s),
    "analytics_events": lambda s: analytics.purge_events(session=s),
    "orphan_audio": lambda s: practice.purge_orphan_audio(session=s),
    "expired_audio": lambda s: privacy_retention.purge_all_expired_audio(session=s),
    "abandoned_calibration": lambda _s: privacy_retention.purge_abandoned_calibration(),
    "finished_exports": lambda s: export.purge_finished_exports(session=s),
    "unverified_accounts": lambda s: erasure.schedule_unverified_accounts(session=s),
    "inactive_accounts": lambda s: erasure.warn_inactive_accounts(session=s),
    "privacy_records": lambda s: privacy_retention.purge_privacy_records(session=s),
    "job_runs": lambda s: ops_jobs.purge_job_runs(session=s),
    "billing_records": lambda s: billing_webhooks.purge_billing_records(session=s),
    "email_deliveries": lambda s: reminders.purge_deliveries(session=s),
}


def purge_in_session(purge: Callable[[Session], object]) -> object:
    with session_scope() as session:
        return purge(session)


def run_retention() -> dict[str, object]:
    results: dict[str, object] = {}
    for name, purge in PURGES.items():
        results[name] = run_recorded(f"retention.{name}", lambda purge=purge: purge_in_session(purge))  # type: ignore[misc]
    # Accounts scheduled above (unverified) are erased in the same night.
    results["erasures"] = run_erasures()
    log.info("retention: %s", results)
    return results


def run_erasures() -> object:
    return run_recorded("erasures", lambda: erasure.run_due_erasures(session_factory=session_scope))


def run_exports() -> object:
    return run_recorded("exports", lambda: export.build_queued_exports(session_factory=session_scope))
