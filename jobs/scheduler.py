"""Registers every job. One scheduler process per deployment (see docs/operations.md)."""

from __future__ import annotations

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from jobs.retention import run_retention
from jobs.support import run_sla_check


def build_scheduler() -> BlockingScheduler:
    scheduler = BlockingScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})
    scheduler.add_job(
        run_retention,
        CronTrigger(hour=3, minute=17),
        id="retention",
        misfire_grace_time=3600,
        replace_existing=True,
    )
    # Support centre (issue 13): SLA warnings and breaches, e-mailed once each.
    scheduler.add_job(
        run_sla_check,
        IntervalTrigger(minutes=5),
        id="support_sla",
        misfire_grace_time=300,
        replace_existing=True,
    )
    return scheduler
