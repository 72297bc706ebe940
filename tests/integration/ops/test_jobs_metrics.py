"""The jobs process counts and times its runs and serves them, with the backup age, on its own port."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from prometheus_client import REGISTRY
from sqlmodel import SQLModel

from jobs.backup import run_backup
from jobs.metrics_server import serve_metrics
from jobs.scheduler import build_scheduler, measured
from sayzhong.db import get_engine
from sayzhong.models import load_all_models
from sayzhong.settings import Settings
from tests.support.ports import free_port


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_run_reporting_failures_counts_as_failed_and_a_clean_one_as_ok() -> None:
    before_failed = _sample("sayzhong_job_runs_total", job="probe", outcome="failed")
    before_ok = _sample("sayzhong_job_runs_total", job="probe", outcome="ok")
    with pytest.raises(RuntimeError, match="reported failures"):
        measured("probe", lambda: {"outbox": "failed"})()
    measured("probe", lambda: {"outbox": 3})()
    assert _sample("sayzhong_job_runs_total", job="probe", outcome="failed") == before_failed + 1
    assert _sample("sayzhong_job_runs_total", job="probe", outcome="ok") == before_ok + 1
    assert _sample("sayzhong_job_last_success_timestamp_seconds", job="probe") > 0


def test_the_scheduler_runs_the_nightly_backup_before_retention() -> None:
    jobs = {job.id: str(job.trigger) for job in build_scheduler().get_jobs()}
    assert jobs == {
        "backup": "cron[hour='2', minute='30']",
        "retention": "cron[hour='3', minute='17']",
        "exports": "interval[0:01:00]",
        "erasures": "interval[0:15:00]",
        "billing_webhooks": "interval[0:01:00]",
        "billing_reconcile": "cron[hour='4', minute='7']",
        "support_sla": "interval[0:05:00]",
        "reminders": "interval[0:05:00]",
        "referral_rewards": "interval[0:15:00]",  # rewards left pending by a failed grant
        # business intelligence (issue 15): after the reconciler, alerts on the fresh aggregates
        "bi_aggregate": "cron[hour='4', minute='37']",
        "bi_alerts": "cron[hour='5', minute='7']",
        "bi_weekly_report": "cron[day_of_week='mon', hour='6', minute='3']",
    }


def test_the_jobs_metrics_port_serves_job_runs_and_the_backup_age(settings: Settings) -> None:
    load_all_models()
    SQLModel.metadata.create_all(get_engine())
    measured("backup", run_backup)()
    port = free_port()
    server = serve_metrics(port, host="127.0.0.1")
    try:
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/other", timeout=5)
    finally:
        server.shutdown()
    assert 'sayzhong_job_runs_total{job="backup",outcome="ok"}' in body
    assert "sayzhong_backup_last_success_timestamp_seconds " in body
