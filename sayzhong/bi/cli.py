"""Operator commands: `python -m sayzhong bi aggregate --from YYYY-MM-DD --to YYYY-MM-DD`.

(`bi generate`, the synthetic data set, is `sayzhong.bi.generate`; it adds itself to the `bi` commands here.)
"""

from __future__ import annotations

import argparse
from datetime import date

from sayzhong.errors import SayZhongError


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2026-11-30") from None


def _aggregate(args: argparse.Namespace) -> int:
    from sayzhong.bi import aggregate
    from sayzhong.db import session_scope

    start, end = aggregate.default_range()
    start = args.start or start
    end = args.end or (args.start if args.start and not args.end else end)
    try:
        aggregate.parse_range(start, end)
        with session_scope() as session:
            for done in aggregate.aggregate_days(
                session=session, start=start, end=end, timezone=args.timezone
            ):
                session.commit()  # each day (and each cohort week) is replaced in its own transaction
                if args.verbose:
                    print(f"aggregated {done.isoformat()}")
    except SayZhongError as exc:
        print(f"bi aggregate: {exc.user_message}")
        return 1
    print(f"bi aggregate: {start.isoformat()} … {end.isoformat()} done")
    return 0


def _report(args: argparse.Namespace) -> int:
    from sayzhong.bi import reports
    from sayzhong.db import session_scope

    with session_scope() as session:
        sent = reports.send_weekly_report(session=session, week=args.week)
    print(f"bi report: sent to {sent.recipients} staff" if sent else "bi report: that week was already sent")
    return 0


def _alerts(args: argparse.Namespace) -> int:
    from sayzhong.bi import reports
    from sayzhong.db import session_scope

    with session_scope() as session:
        fired = reports.evaluate_alerts(session=session, day=args.day)
    for event in fired:
        print(event.message)
    print(f"bi alerts: {len(fired)} fired")
    return 0


def _reconcile(args: argparse.Namespace) -> int:
    from sayzhong.bi import reconcile
    from sayzhong.db import session_scope

    with session_scope() as session:
        result = reconcile.reconcile_invoices(session=session, start=args.start, end=args.end)
    if not result.configured:
        print("bi reconcile: payments are not configured")
        return 1
    for d in result.differences:
        print(f"{d.day} {d.invoice_id} {d.kind}: counted {d.local_amount} stripe {d.stripe_amount}")
    print(f"bi reconcile: {result.matched} matched, {len(result.differences)} difference(s)")
    return 0 if not result.differences else 3


def register_cli(sub: argparse._SubParsersAction) -> None:
    bi = sub.add_parser("bi", help="business intelligence: daily aggregates (and the synthetic data set)")
    commands = bi.add_subparsers(dest="bi_command", required=True, metavar="ACTION")
    agg = commands.add_parser("aggregate", help="recompute the daily BI aggregates for a date range")
    agg.add_argument("--from", dest="start", type=_day, help="first reporting day (default: two days ago)")
    agg.add_argument("--to", dest="end", type=_day, help="last reporting day (default: yesterday)")
    agg.add_argument("--timezone", default=None, help="reporting time zone (default: BI_TIMEZONE, UTC)")
    agg.add_argument("-v", "--verbose", action="store_true", help="print each day as it is committed")
    agg.set_defaults(handler=_aggregate)
    report = commands.add_parser("report", help="build, store and e-mail the weekly report (once per week)")
    report.add_argument("--week", type=_day, required=True, help="any day of the week (Monday to Sunday)")
    report.set_defaults(handler=_report)
    alerts = commands.add_parser("alerts", help="evaluate the KPI alert rules for a day")
    alerts.add_argument("--day", type=_day, required=True, help="reporting day")
    alerts.set_defaults(handler=_alerts)
    rec = commands.add_parser("reconcile", help="compare the counted paid invoices with Stripe's list")
    rec.add_argument("--from", dest="start", type=_day, required=True)
    rec.add_argument("--to", dest="end", type=_day, required=True)
    rec.set_defaults(handler=_reconcile)
    from sayzhong.bi import generate  # `bi generate`: the synthetic data set (docs/synthetic-data.md)

    generate.register_cli(commands)
