"""The retention job purges old rows through every feature's purge function."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import SQLModel, select

from jobs.retention import PURGES, run_retention
from jobs.scheduler import build_scheduler
from sayzhong.db import get_engine, session_scope, utcnow
from sayzhong.models import load_all_models
from sayzhong.notifications.models import OutboxEmail
from sayzhong.settings import Settings


def test_retention_deletes_old_outbox_mail_and_keeps_recent(settings: Settings) -> None:
    load_all_models()
    SQLModel.metadata.create_all(get_engine())
    with session_scope() as session:
        session.add(
            OutboxEmail(
                to_address="old@example.org",
                from_address="a@b.org",
                subject="old",
                text_body="x",
                sent_via="outbox",
                created_at=utcnow() - timedelta(days=400),
            )
        )
        session.add(
            OutboxEmail(
                to_address="new@example.org",
                from_address="a@b.org",
                subject="new",
                text_body="x",
                sent_via="outbox",
            )
        )
    results = run_retention()
    assert set(results) == set(PURGES) | {"erasures"}
    assert "failed" not in results.values(), results
    assert results["outbox"] == 1
    with session_scope() as session:
        remaining = [row.to_address for row in session.exec(select(OutboxEmail)).all()]
    assert remaining == ["new@example.org"]


def test_scheduler_registers_the_nightly_retention_job() -> None:
    scheduler = build_scheduler()
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert "retention" in jobs
    assert "hour='3'" in str(jobs["retention"].trigger)
    # Issue 11: exports are built within a minute, due erasures run every 15 minutes.
    assert {"exports", "erasures"} <= set(jobs)
