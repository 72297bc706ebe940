"""`python -m jobs` runs the scheduler; `python -m jobs --once retention` runs one job now and exits."""

from __future__ import annotations

import argparse
import functools
import logging
import sys
from collections.abc import Callable

from jobs.backup import run_backup
from jobs.billing import run_billing_reconcile, run_billing_webhooks
from jobs.growth import run_referral_rewards
from jobs.reminders import run_reminders
from jobs.retention import PURGES, run_erasures, run_exports, run_retention
from jobs.support import run_sla_check
from sayzhong.ops.metrics import timed_job


def run_one_purge(name: str) -> object:
    from jobs.retention import purge_in_session
    from sayzhong.ops.jobs import run_recorded

    return run_recorded(f"retention.{name}", lambda: purge_in_session(PURGES[name]))


ONE_SHOT: dict[str, Callable[[], object]] = {
    "retention": run_retention,
    "backup": run_backup,
    "exports": run_exports,
    "erasures": run_erasures,
    "billing_webhooks": run_billing_webhooks,
    "billing_reconcile": run_billing_reconcile,
    "support_sla": run_sla_check,
    "reminders": run_reminders,
    "referral_rewards": run_referral_rewards,
    # One purge alone, e.g. `--once retention.expired_audio`.
    **{f"retention.{name}": functools.partial(run_one_purge, name) for name in PURGES},
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs", description="SayZhong scheduled jobs")
    parser.add_argument("--once", choices=sorted(ONE_SHOT), help="run one job immediately and exit")
    args = parser.parse_args(argv)
    from sayzhong.ops.telemetry import start_telemetry
    from sayzhong.settings import get_settings

    start_telemetry(role="jobs")
    if args.once:
        with timed_job(args.once):
            result = ONE_SHOT[args.once]()
        print(result)
        values = list(result.values()) if isinstance(result, dict) else [result]
        return 1 if "failed" in values else 0
    from jobs.scheduler import build_scheduler

    port = get_settings().jobs_metrics_port
    if port:
        from jobs.metrics_server import serve_metrics

        serve_metrics(port)

    scheduler = build_scheduler()
    logging.getLogger("jobs").info("scheduler started with jobs: %s", [j.id for j in scheduler.get_jobs()])
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
