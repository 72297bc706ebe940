"""Job runs: record every scheduled job's start, end, counts and error; staff read the history.

`run_recorded` is what every job in `jobs/` goes through: a failing job is recorded (and logged)
and returns "failed" instead of raising, so the scheduler and the other jobs carry on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from sayzhong.db import as_utc, session_scope, utcnow
from sayzhong.ops.models import JobRun

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class JobRunView:
    id: int
    job: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    counts: dict[str, Any]
    error: str | None


def _counts(result: object) -> dict[str, Any]:
    if isinstance(result, dict):
        return {str(k): v for k, v in result.items()}
    if isinstance(result, int):
        return {"purged": result}
    return {"result": str(result)[:200]}


def run_recorded(name: str, job: Callable[[], object]) -> object:
    """Run `job`, recording the run; returns its result, or "failed" after recording the error."""
    with session_scope() as session:
        row = JobRun(job=name)
        session.add(row)
        session.flush()
        run_id = row.id
    status, error, result = "ok", None, None
    try:
        result = job()
    except Exception as exc:
        log.exception("job %s failed", name)
        status, error = "failed", f"{type(exc).__name__}: {exc}"[:1000]
    with session_scope() as session:
        finished = session.get(JobRun, run_id)
        if finished is not None:
            finished.status, finished.error, finished.finished_at = status, error, utcnow()
            finished.counts = _counts(result) if status == "ok" else {}
            session.add(finished)
    return result if status == "ok" else "failed"


def list_runs(*, session: Session, limit: int = 100, failed_only: bool = False) -> list[JobRunView]:
    query = select(JobRun)
    if failed_only:
        query = query.where(col(JobRun.status) == "failed")
    rows = session.exec(query.order_by(col(JobRun.id).desc()).limit(max(1, min(limit, 500)))).all()
    return [
        JobRunView(
            id=r.id or 0,
            job=r.job,
            status=r.status,
            started_at=as_utc(r.started_at),
            finished_at=as_utc(r.finished_at) if r.finished_at else None,
            counts=dict(r.counts or {}),
            error=r.error,
        )
        for r in rows
    ]


JOB_RUN_RETENTION = timedelta(days=90)


def purge_job_runs(*, session: Session, older_than: timedelta = JOB_RUN_RETENTION) -> int:
    from sqlalchemy import delete

    result = session.execute(
        delete(JobRun).where(col(JobRun.started_at) < utcnow() - older_than),
        execution_options={"synchronize_session": "fetch"},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
