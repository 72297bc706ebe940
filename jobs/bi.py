"""BI jobs (docs/bi.md): nightly aggregation, daily KPI alerts, the weekly report e-mail."""

from __future__ import annotations

from datetime import timedelta

from sayzhong.bi import aggregate, reports
from sayzhong.db import session_scope


def run_bi_aggregate() -> dict[str, object]:
    start, end = aggregate.default_range()
    done = 0
    with session_scope() as session:
        for _day in aggregate.aggregate_days(session=session, start=start, end=end):
            session.commit()
            done += 1
    return {"from": start.isoformat(), "to": end.isoformat(), "steps": done}


def run_bi_alerts() -> dict[str, object]:
    """Evaluate the KPI alert rules on yesterday's aggregates (after `run_bi_aggregate`)."""
    _start, yesterday = aggregate.default_range()
    with session_scope() as session:
        fired = reports.evaluate_alerts(session=session, day=yesterday)
    return {"day": yesterday.isoformat(), "fired": len(fired)}


def run_bi_weekly_report() -> dict[str, object]:
    """Mondays: the report for the week that ended yesterday (sent once per week)."""
    _start, yesterday = aggregate.default_range()
    week = aggregate.week_start(yesterday - timedelta(days=6))
    with session_scope() as session:
        sent = reports.send_weekly_report(session=session, week=week)
    return {"week": week.isoformat(), "recipients": sent.recipients if sent else 0}
