"""Privacy retention: abandoned microphone-check recordings and the voice-take loop.

The calibration takes of a learner who stops half way through the microphone check are never
turned into a profile; they are deleted after 24 hours.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

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
