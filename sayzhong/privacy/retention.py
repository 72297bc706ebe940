"""Privacy retention: abandoned microphone-check recordings and the voice-take loop.

The calibration takes of a learner who stops half way through the microphone check are never
turned into a profile; they are deleted after 24 hours.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session

from sayzhong.db import utcnow
from sayzhong.settings import get_settings

CALIBRATION_RETENTION = timedelta(hours=24)


def calibration_root() -> Path:
    return get_settings().data_dir / "calibration"


def purge_abandoned_calibration(*, older_than: timedelta = CALIBRATION_RETENTION) -> int:
    """Delete calibration recordings older than `older_than` (and the folders left empty)."""
    root = calibration_root()
    if not root.is_dir():
        return 0
    cutoff = utcnow().timestamp() - older_than.total_seconds()
    removed = 0
    for folder in root.iterdir():
        if not folder.is_dir() or not folder.name.isdigit():
            continue
        for path in folder.iterdir():
            if path.is_file() and path.stat().st_mtime <= cutoff:
                path.unlink(missing_ok=True)
                removed += 1
        if not any(folder.iterdir()):
            folder.rmdir()
    return removed


def purge_all_expired_audio(*, session: Session, batch: int = 500) -> int:
    """Voice takes past retention, batch after batch until none is left (not one batch of 500)."""
    from sayzhong.practice import service as practice

    total = 0
    while True:
        removed = practice.purge_expired_audio(session=session, batch=batch)
        total += removed
        if removed < batch:
            return total


TOMBSTONE_RETENTION = timedelta(days=730)
ERASURE_RECORD_RETENTION = timedelta(days=365)
DSR_RETENTION = timedelta(days=3 * 365)


def purge_privacy_records(*, session: Session) -> dict[str, int]:
    """Tombstones after 24 months, finished erasure records after a year, closed DSRs after 3 years."""
    from sqlalchemy import delete
    from sqlmodel import col

    from sayzhong.privacy.models import DsrRequest, EmailTombstone, ErasureRequest

    now = utcnow()

    def run(statement: Any) -> int:
        result = session.execute(statement, execution_options={"synchronize_session": "fetch"})
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    return {
        "email_tombstone": run(
            delete(EmailTombstone).where(col(EmailTombstone.created_at) < now - TOMBSTONE_RETENTION)
        ),
        "erasure_request": run(
            delete(ErasureRequest).where(
                col(ErasureRequest.status).in_(("done", "cancelled")),
                col(ErasureRequest.finished_at) < now - ERASURE_RECORD_RETENTION,
            )
        ),
        "dsr_request": run(delete(DsrRequest).where(col(DsrRequest.closed_at) < now - DSR_RETENTION)),
    }
