"""Registers every job. One scheduler process per deployment (see docs/operations.md)."""

from __future__ import annotations

from collections.abc import Callable

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from jobs.backup import run_backup
from jobs.billing import run_billing_reconcile, run_billing_webhooks
from jobs.reminders import run_reminders
from jobs.retention import run_erasures, run_exports, run_retention
from jobs.support import run_sla_check
from sayzhong.ops.metrics import timed_job


def measured(name: str, job: Callable[[], object]) -> Callable[[], None]:
    """Counts, times and logs each run; a job reporting a failed step counts the run as failed."""

    def run() -> None:
        with timed_job(name):
            result = job()
            if isinstance(result, dict) and "failed" in result.values():
                raise RuntimeError(f"job {name} reported failures: {result}")

    return run


def build_scheduler() -> BlockingScheduler:
    scheduler = BlockingScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})
    scheduler.add_job(
        measured("backup", run_backup),
        CronTrigger(hour=2, minute=30),
        id="backup",
        misfire_grace_time=3600,
        replace_existing=True,
    )
    scheduler.add_job(
        measured("retention", run_retention),
        CronTrigger(hour=3, minute=17),
        id="retention",
        misfire_grace_time=3600,
        replace_existing=True,
    )
    # Learners wait for their export: build queued ones within a minute.
    scheduler.add_job(
        measured("exports", run_exports), IntervalTrigger(minutes=1), id="exports", replace_existing=True
    )
    # Erasures whose grace period ended (and interrupted ones) are retried every 15 minutes.
    scheduler.add_job(
        measured("erasures", run_erasures), IntervalTrigger(minutes=15), id="erasures", replace_existing=True
    )
    # Billing (issue 12): webhook retries with backoff, and the daily drift check against Stripe.
    scheduler.add_job(
        measured("billing_webhooks", run_billing_webhooks),
        IntervalTrigger(minutes=1),
        id="billing_webhooks",
        replace_existing=True,
    )
    scheduler.add_job(
        measured("billing_reconcile", run_billing_reconcile),
        CronTrigger(hour=4, minute=7),
        id="billing_reconcile",
        misfire_grace_time=3600,
        replace_existing=True,
    )
    # Support centre (issue 13): SLA warnings and breaches, e-mailed once each.
    scheduler.add_job(
        measured("support_sla", run_sla_check),
        IntervalTrigger(minutes=5),
        id="support_sla",
        misfire_grace_time=300,
        replace_existing=True,
    )
    # Reminders (issue 14): each learner's local reminder time, checked every 5 minutes.
    scheduler.add_job(
        measured("reminders", run_reminders),
        IntervalTrigger(minutes=5),
        id="reminders",
        misfire_grace_time=240,
        replace_existing=True,
    )
    return scheduler
