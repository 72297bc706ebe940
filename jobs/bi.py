"""BI jobs: the nightly aggregation of yesterday and the day before (docs/bi.md)."""

from __future__ import annotations

from sayzhong.bi import aggregate
from sayzhong.db import session_scope


def run_bi_aggregate() -> dict[str, object]:
    start, end = aggregate.default_range()
    done = 0
    with session_scope() as session:
        for _day in aggregate.aggregate_days(session=session, start=start, end=end):
            session.commit()
            done += 1
    return {"from": start.isoformat(), "to": end.isoformat(), "steps": done}
