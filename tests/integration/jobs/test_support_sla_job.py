"""The SLA job e-mails a breached ticket's warning once, through the configured mailer (the outbox)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import SQLModel

from jobs.scheduler import build_scheduler
from jobs.support import run_sla_check
from sayzhong.db import get_engine, session_scope, utcnow
from sayzhong.models import load_all_models
from sayzhong.notifications.service import latest_outbox_email_to
from sayzhong.settings import Settings
from sayzhong.support.models import SupportTicket
from tests.factories import UserFactory


def test_the_sla_job_warns_once_and_is_scheduled_every_five_minutes(settings: Settings) -> None:
    load_all_models()
    SQLModel.metadata.create_all(get_engine())
    with session_scope() as session:
        agent = UserFactory(session, email_prefix="agent")(role="support")
        learner = UserFactory(session)()
        created = utcnow() - timedelta(days=14)  # weeks ago: breached whatever today's business hours
        session.add(
            SupportTicket(
                user_id=learner.id,
                subject="Locked out",
                body="Cannot sign in",
                category="account",
                queue="account",
                priority="urgent",
                assignee_id=agent.id,
                created_at=created,
                updated_at=created,
            )
        )
    sent = run_sla_check()
    assert sorted(s.split(" ", 1)[1] for s in sent) == ["first_response breached", "resolution breached"]
    assert run_sla_check() == []
    with session_scope() as session:
        mail = latest_outbox_email_to(session=session, to=agent.email)
    assert mail is not None and "[SLA breached]" in mail.subject
    jobs = {job.id: job for job in build_scheduler().get_jobs()}
    assert "interval[0:05:00]" in str(jobs["support_sla"].trigger)
