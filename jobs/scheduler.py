"""Registers every job. One scheduler process per deployment (see docs/operations.md)."""

from __future__ import annotations

from collections.abc import Callable

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from jobs.backup import run_backup
from jobs.retention import run_retention
from sayzhong.ops.metrics import timed_job


def measured(name: str, job: Callable[[], dict[str, object]]) -> Callable[[], None]:
    """Counts, times and logs each run; a purge reported as failed counts the run as failed."""

    def run() -> None:
        with timed_job(name):
            result = job()
            if "failed" in result.values():
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
    return scheduler
