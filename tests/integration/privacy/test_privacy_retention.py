"""Retention jobs: more than one batch of takes in one run, abandoned calibration recordings,
unverified accounts, and every run recorded — a failing job is recorded and the others still run."""

from __future__ import annotations

import os
import time
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import select

from jobs import retention as retention_job
from sayzhong.accounts import users
from sayzhong.accounts.models import User
from sayzhong.db import session_scope, utcnow
from sayzhong.ops import jobs as ops_jobs
from sayzhong.practice import storage
from sayzhong.practice.models import Attempt
from sayzhong.privacy import retention
from sayzhong.settings import Settings
from tests.integration.privacy.conftest import WEBM


def test_expired_takes_are_purged_past_one_batch_in_one_run(app_db: Settings) -> None:
    with session_scope() as session:
        user = users.sign_up(
            session=session, email="takes@example.org", password="learning tones daily", display_name="T"
        )
        old = utcnow() - timedelta(days=200)
        for n in range(1203):  # more than two batches of 500
            stored = storage.save_take(user_id=user.id, data=WEBM)
            session.add(
                Attempt(
                    user_id=user.id,
                    item_id="greetings.hello",
                    mode="practice",
                    text="你好",
                    engine="offline",
                    audio_path=stored.relative_path,
                    audio_bytes=stored.size,
                    created_at=old if n < 1201 else utcnow(),
                )
            )
    result = ops_jobs.run_recorded(
        "retention.expired_audio",
        lambda: retention_job.purge_in_session(retention_job.PURGES["expired_audio"]),
    )
    assert result == 1201
    with session_scope() as session:
        kept = session.exec(select(Attempt).where(Attempt.audio_path.is_not(None))).all()  # type: ignore[union-attr]
    assert len(kept) == 2
    assert len(list(storage.iter_stored())) == 2


def test_abandoned_calibration_recordings_are_purged_after_a_day(app_db: Settings) -> None:
    root = retention.calibration_root()
    (root / "7").mkdir(parents=True)
    (root / "8").mkdir(parents=True)
    stale, fresh = root / "7" / "0.take", root / "8" / "0.take"
    stale.write_bytes(WEBM)
    fresh.write_bytes(WEBM)
    two_days_ago = time.time() - 2 * 86400
    os.utime(stale, (two_days_ago, two_days_ago))
    assert retention.purge_abandoned_calibration() == 1
    assert not stale.exists() and not (root / "7").exists()
    assert fresh.exists()


def test_unverified_accounts_are_erased_after_seven_days(app_db: Settings) -> None:
    with session_scope() as session:
        old = users.sign_up(
            session=session, email="old@example.org", password="learning tones daily", display_name="O"
        )
        new = users.sign_up(
            session=session, email="new@example.org", password="learning tones daily", display_name="N"
        )
        session.execute(update(User).where(User.id == old.id).values(created_at=utcnow() - timedelta(days=8)))  # type: ignore[arg-type]
    results = retention_job.run_retention()
    assert results["unverified_accounts"] == 1
    assert results["erasures"] == {"erased": 1}
    with session_scope() as session:
        assert session.get(User, old.id) is None
        assert session.get(User, new.id) is not None


def test_every_run_is_recorded_and_a_failing_job_does_not_stop_the_others(
    app_db: Settings, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    def broken(_session: object) -> int:
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(retention_job.PURGES, "outbox", broken)
    results = retention_job.run_retention()
    assert results["outbox"] == "failed"
    assert all(v != "failed" for k, v in results.items() if k != "outbox"), results
    with session_scope() as session:
        runs = ops_jobs.list_runs(session=session)
    by_job = {r.job: r for r in runs}
    assert by_job["retention.outbox"].status == "failed"
    assert "disk on fire" in (by_job["retention.outbox"].error or "")
    assert by_job["retention.analytics_events"].status == "ok"
    assert by_job["retention.analytics_events"].finished_at is not None
    assert len({r.job for r in runs}) == len(retention_job.PURGES) + 1  # + erasures
