"""Registers every job. One scheduler process per deployment (see docs/operations.md)."""

from __future__ import annotations

from collections.abc import Callable

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from jobs.backup import run_backup
from jobs.bi import run_bi_aggregate, run_bi_alerts, run_bi_weekly_report
from jobs.billing import run_billing_reconcile, run_billing_webhooks
from jobs.growth import run_referral_rewards
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


# (id, job, trigger, misfire grace in seconds or None for APScheduler's default) — one row per job.
JOBS: tuple[tuple[str, Callable[[], object], CronTrigger | IntervalTrigger, int | None], ...] = (
    ("backup", run_backup, CronTrigger(hour=2, minute=30), 3600),
    ("retention", run_retention, CronTrigger(hour=3, minute=17), 3600),
    # Learners wait for their export: build queued ones within a minute.
    ("exports", run_exports, IntervalTrigger(minutes=1), None),
    # Erasures whose grace period ended (and interrupted ones) are retried every 15 minutes.
    ("erasures", run_erasures, IntervalTrigger(minutes=15), None),
    # Billing (issue 12): webhook retries with backoff, and the daily drift check against Stripe.
    ("billing_webhooks", run_billing_webhooks, IntervalTrigger(minutes=1), None),
    ("billing_reconcile", run_billing_reconcile, CronTrigger(hour=4, minute=7), 3600),
    # Support centre (issue 13): SLA warnings and breaches, e-mailed once each.
    ("support_sla", run_sla_check, IntervalTrigger(minutes=5), 300),
    # Reminders (issue 14): each learner's local reminder time, checked every 5 minutes.
    ("reminders", run_reminders, IntervalTrigger(minutes=5), 240),
    # Referral rewards whose grant failed at the first scored take (left pending), retried.
    ("referral_rewards", run_referral_rewards, IntervalTrigger(minutes=15), None),
    # Business intelligence (issue 15): yesterday's aggregates after the billing reconciler, then the
    # KPI alerts on them; the weekly report on Monday mornings.
    ("bi_aggregate", run_bi_aggregate, CronTrigger(hour=4, minute=37), 3600),
    ("bi_alerts", run_bi_alerts, CronTrigger(hour=5, minute=7), 3600),
    ("bi_weekly_report", run_bi_weekly_report, CronTrigger(day_of_week="mon", hour=6, minute=3), 6 * 3600),
)


def build_scheduler() -> BlockingScheduler:
    scheduler = BlockingScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})
    for job_id, job, trigger, grace in JOBS:
        options = {} if grace is None else {"misfire_grace_time": grace}
        scheduler.add_job(measured(job_id, job), trigger, id=job_id, replace_existing=True, **options)
    return scheduler
