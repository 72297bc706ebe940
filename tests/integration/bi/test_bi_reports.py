"""Weekly report and KPI alerts, e-mailed through the real SMTP adapter to a local aiosmtpd server."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import Session

from sayzhong.accounts.models import User
from sayzhong.bi import aggregate, reports
from sayzhong.bi.models import BiCohortWeek, BiDailyActivity, BiDailyRevenue, BiReportSubscription
from sayzhong.errors import PermissionDeniedError, ValidationError
from sayzhong.integrations.smtp_mailer import SmtpMailer
from tests.support.bi_scenario import add_user, build_billing, build_learners


@dataclass
class Inbox:
    messages: list[tuple[list[str], Message]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(
            (
                list(envelope.rcpt_tos),
                email.message_from_bytes(envelope.original_content, policy=email.policy.default),
            )
        )
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, SmtpMailer]]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield (
            inbox,
            SmtpMailer(host="127.0.0.1", port=port, mail_from="SayZhong <bi@example.org>", starttls=False),
        )
    finally:
        controller.stop()


class _Staff:
    def __init__(self, user_id: int, role: str) -> None:
        self.id, self.role = user_id, role


def _subscribe(session: Session, name: str, role: str) -> int:
    user_id = add_user(session, name, "2026-01-01 08:00", role=role)
    session.add(BiReportSubscription(user_id=user_id))
    session.flush()
    return user_id


def test_weekly_report_goes_to_subscribed_readers_with_charts_and_csvs(
    db_session: Session, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    inbox, mailer = smtp
    build_billing(db_session, build_learners(db_session))
    aggregate.aggregate(session=db_session, start=date(2026, 2, 23), end=date(2026, 3, 8), timezone="UTC")
    analyst = _subscribe(db_session, "Ana", "analyst")
    _subscribe(db_session, "Former", "learner")  # no longer staff: no report
    reports.set_subscription(
        session=db_session, actor=_Staff(analyst, "analyst"), subscribed=True
    )  # already on
    with pytest.raises(PermissionDeniedError):
        reports.set_subscription(session=db_session, actor=_Staff(analyst, "marketing"), subscribed=True)

    sent = reports.send_weekly_report(session=db_session, week=date(2026, 3, 4), mailer=mailer)
    assert sent is not None and sent.week_start == date(2026, 3, 2) and sent.recipients == 1
    assert (
        reports.send_weekly_report(session=db_session, week=date(2026, 3, 2), mailer=mailer) is None
    )  # once
    assert len(inbox.messages) == 1
    rcpt, message = inbox.messages[0]
    assert rcpt == ["ana@example.com"]
    assert message["Subject"] == "SayZhong weekly report 2026-03-02 – 2026-03-08"
    parts = list(message.walk())
    images = [p for p in parts if p.get_content_type() == "image/png"]
    assert sorted(p["Content-ID"] for p in images) == ["<dau-chart>", "<mrr-chart>"]
    assert all(p.get_payload(decode=True)[:8] == b"\x89PNG\r\n\x1a\n" for p in images)  # type: ignore[index]
    html = next(p for p in parts if p.get_content_type() == "text/html").get_content()
    assert "cid:dau-chart" in html and "MRR" in html
    csvs = {p.get_filename(): p.get_payload(decode=True) for p in parts if p.get_content_type() == "text/csv"}
    assert set(csvs) == {
        "overview_daily.csv",
        "acquisition.csv",
        "cohorts.csv",
        "revenue_daily.csv",
        "mrr_movements.csv",
    }
    # The week's MRR movements: cus_a (999) and cus_d (667) started paying on 03-08.
    assert b"new,1666" in csvs["mrr_movements.csv"]  # type: ignore[operator]
    assert b"@example.com" not in b"".join(v for v in csvs.values() if isinstance(v, bytes))
    assert [r.week_start for r in reports.list_reports(session=db_session)] == [date(2026, 3, 2)]


def test_alert_rules_fire_once_a_day_and_mail_subscribers(
    db_session: Session, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    inbox, mailer = smtp
    admin = _Staff(_subscribe(db_session, "Root", "admin"), "admin")
    day = date(2026, 3, 22)
    for n in range(7):  # 03-16 … 03-22: 10 started onboarding each day, 8 finished (80 %)
        db_session.add(
            BiDailyActivity(
                day=date(2026, 3, 16 + n), segment="all", onboarding_started=10, onboarding_finished=8
            )
        )
    db_session.add(BiDailyRevenue(day=date(2026, 3, 20), invoices_paid=9, payment_failures=1))  # 10 % failed
    # Week-1 retention: cohort of 03-02 60 % (previous window), cohort of 03-09 8/20 = 40 % → a 33 % drop.
    db_session.add(
        BiCohortWeek(
            cohort_week=date(2026, 3, 2),
            activity_week=date(2026, 3, 9),
            segment="all",
            cohort_size=10,
            active_learners=6,
        )
    )
    db_session.add(
        BiCohortWeek(
            cohort_week=date(2026, 3, 9),
            activity_week=date(2026, 3, 16),
            segment="all",
            cohort_size=20,
            active_learners=8,
        )
    )
    db_session.flush()
    onboarding = reports.add_rule(
        session=db_session,
        actor=admin,
        metric="onboarding_completion",
        comparison="below",
        threshold=90,
        window_days=7,
    )
    reports.add_rule(
        session=db_session,
        actor=admin,
        metric="d7_retention",
        comparison="drop_pct",
        threshold=20,
        window_days=7,
    )
    reports.add_rule(
        session=db_session,
        actor=admin,
        metric="payment_failure_rate",
        comparison="above",
        threshold=5,
        window_days=7,
    )
    reports.add_rule(
        session=db_session,
        actor=admin,
        metric="payment_failure_rate",
        comparison="above",
        threshold=15,
        window_days=7,
    )
    assert "Onboarding completion below 90%" in onboarding.sentence

    fired = reports.evaluate_alerts(session=db_session, day=day, mailer=mailer)
    assert sorted(round(f.value or 0, 3) for f in fired) == [0.1, 0.4, 0.8]  # the 15 % rule stays quiet
    assert reports.evaluate_alerts(session=db_session, day=day, mailer=mailer) == []  # once per day
    subjects = sorted(m["Subject"] for _rcpt, m in inbox.messages)
    assert len(subjects) == 3 and all(s.startswith("SayZhong KPI alert:") for s in subjects)
    assert all(rcpt == ["root@example.com"] for rcpt, _m in inbox.messages)
    assert len(reports.alert_history(session=db_session)) == 3

    with pytest.raises(PermissionDeniedError):
        reports.add_rule(
            session=db_session,
            actor=_Staff(admin.id, "analyst"),
            metric="dau",
            comparison="below",
            threshold=1,
            window_days=7,
        )
    with pytest.raises(ValidationError, match="metrics"):
        reports.add_rule(
            session=db_session,
            actor=admin,
            metric="drop table",
            comparison="below",
            threshold=1,
            window_days=7,
        )
    with pytest.raises(ValidationError, match="1 to 90"):
        reports.add_rule(
            session=db_session, actor=admin, metric="dau", comparison="below", threshold=1, window_days=0
        )
    assert db_session.get(User, admin.id) is not None
