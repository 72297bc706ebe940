"""`python -m jobs` runs the scheduler; `python -m jobs --once retention` runs one job now and exits."""

from __future__ import annotations

import argparse
import logging
import sys

from jobs.billing import run_billing_reconcile, run_billing_webhooks
from jobs.retention import run_retention

ONE_SHOT = {
    "retention": run_retention,
    "billing_webhooks": run_billing_webhooks,
    "billing_reconcile": run_billing_reconcile,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs", description="SayZhong scheduled jobs")
    parser.add_argument("--once", choices=sorted(ONE_SHOT), help="run one job immediately and exit")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.once:
        result = ONE_SHOT[args.once]()
        print(result)
        return 1 if "failed" in dict(result).values() else 0
    from jobs.scheduler import build_scheduler

    scheduler = build_scheduler()
    logging.getLogger("jobs").info("scheduler started with jobs: %s", [j.id for j in scheduler.get_jobs()])
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
