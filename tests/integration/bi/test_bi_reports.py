"""Weekly report and KPI alerts, e-mailed through the real SMTP adapter to a local aiosmtpd server."""

from __future__ import annotations

import base64
import email
import email.policy
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import Session, SQLModel

from sayzhong.accounts.models import User
from sayzhong.audit import list_audit_events
from sayzhong.bi import aggregate, metrics, reports
from sayzhong.bi.models import BiCohortWeek, BiDailyActivity, BiDailyRevenue, BiReportSubscription
from sayzhong.db import get_engine, session_scope
from sayzhong.errors import AuthenticationError, NotFoundError, PermissionDeniedError, ValidationError
from sayzhong.integrations.smtp_mailer import SmtpMailer
from sayzhong.models import load_all_models
from sayzhong.ops import backup
from sayzhong.settings import Settings
from tests.integration.ops.test_backup_drill import _destroy
from tests.support.bi_scenario import add_user, build_billing, build_learners
from tests.support.ports import free_port


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
    port = free_port()
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
    def __init__(self, user_id: int, role: str, two_factor: bool = True) -> None:
        self.id, self.role, self.two_factor_enabled = user_id, role, two_factor


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


def test_stored_report_is_the_report_as_emailed(db_session: Session, smtp: tuple[Inbox, SmtpMailer]) -> None:
    inbox, mailer = smtp
    learners = build_learners(db_session)
    build_billing(db_session, learners)
    aggregate.aggregate(session=db_session, start=date(2026, 2, 23), end=date(2026, 3, 8), timezone="UTC")
    analyst = _Staff(_subscribe(db_session, "Ana", "analyst"), "analyst")
    admin = _Staff(add_user(db_session, "Root", "2026-01-01 08:00", role="admin"), "admin")
    assert reports.send_weekly_report(session=db_session, week=date(2026, 3, 2), mailer=mailer) is not None
    (_rcpt, message), *_ = inbox.messages
    parts = list(message.walk())
    mailed_html = next(p for p in parts if p.get_content_type() == "text/html").get_content()
    mailed_png = {p["Content-ID"].strip("<>"): p.get_payload(decode=True) for p in parts if p["Content-ID"]}
    mailed_csv = {
        p.get_filename(): p.get_payload(decode=True) for p in parts if p.get_content_type() == "text/csv"
    }

    stored = reports.stored_report(session=db_session, actor=analyst, week=date(2026, 3, 8))  # any day of it
    assert stored.report.week_start == date(2026, 3, 2) and stored.report.stored
    assert stored.html.strip() == mailed_html.strip()  # the mail transport may add a final newline
    # Charts: the stored PNGs are the e-mailed inline images, and the page shows exactly those bytes.
    assert {c.inline_id: c.data for c in stored.charts} == mailed_png
    assert set(mailed_png) == {"dau-chart", "mrr-chart"}
    page = stored.page_html()
    assert "cid:" not in page
    for chart in stored.charts:
        assert f"src='data:image/png;base64,{base64.b64encode(chart.data).decode()}'" in page
    # Tables: every CSV byte-identical to its attachment, in the e-mail's order, also one by one.
    assert [t.name for t in stored.tables] == list(mailed_csv)
    assert {t.name: t.data for t in stored.tables} == mailed_csv
    one = reports.report_file(
        session=db_session, actor=admin, week=date(2026, 3, 2), name="mrr_movements.csv"
    )
    assert one.data == mailed_csv["mrr_movements.csv"] and one.content_type == "text/csv"
    # Aggregates only: no learner's e-mail or name anywhere in what is kept.
    kept = stored.html.encode() + b"".join(f.data for f in stored.files)
    assert b"@example.com" not in kept and b"a@example" not in kept
    assert reports.list_reports(session=db_session)[0].stored

    learner = _Staff(learners["A"], "learner")
    for actor in (learner, _Staff(analyst.id, "marketing"), _Staff(analyst.id, "analyst", two_factor=False)):
        with pytest.raises(PermissionDeniedError):
            reports.stored_report(session=db_session, actor=actor, week=date(2026, 3, 2))
        with pytest.raises(PermissionDeniedError):
            reports.report_file(session=db_session, actor=actor, week=date(2026, 3, 2), name="cohorts.csv")
    with pytest.raises(NotFoundError):
        reports.stored_report(session=db_session, actor=analyst, week=date(2026, 2, 23))
    with pytest.raises(NotFoundError):
        reports.report_file(session=db_session, actor=analyst, week=date(2026, 3, 2), name="../../etc/passwd")


def test_report_sent_before_full_storage_still_opens_with_its_summary(db_session: Session) -> None:
    from sayzhong.bi.models import BiReport

    db_session.add(
        BiReport(week_start=date(2026, 2, 23), subject="Old", summary="- MRR: €10.00", recipients=2)
    )
    db_session.flush()
    analyst = _Staff(add_user(db_session, "Ana", "2026-01-01 08:00", role="analyst"), "analyst")
    stored = reports.stored_report(session=db_session, actor=analyst, week=date(2026, 2, 23))
    assert not stored.report.stored and stored.files == () and stored.report.summary == "- MRR: €10.00"


def _audit(session: Session, prefix: str) -> list[tuple[str, int | None, str | None, dict[str, Any]]]:
    items = list_audit_events(session=session, page_size=200).items
    return [
        (e.action, e.actor_id, e.target, e.detail) for e in reversed(items) if e.action.startswith(prefix)
    ]


def test_alert_rule_changes_are_audited_with_before_and_after(db_session: Session) -> None:
    admin = _Staff(add_user(db_session, "Root", "2026-01-01 08:00", role="admin"), "admin")
    rule = reports.add_rule(
        session=db_session, actor=admin, metric="dau", comparison="below", threshold=50, window_days=7
    )
    first = {"metric": "dau", "comparison": "below", "threshold": 50.0, "window_days": 7, "active": True}
    changed = reports.update_rule(
        session=db_session,
        actor=admin,
        rule_id=rule.id,
        metric="onboarding_completion",
        comparison="below",
        threshold=90,
        window_days=14,
    )
    assert changed.sentence.startswith("Onboarding completion below 90%") and "(14 days)" in changed.sentence
    second = {**first, "metric": "onboarding_completion", "threshold": 90.0, "window_days": 14}
    reports.update_rule(  # the same values again: nothing changed, nothing audited
        session=db_session,
        actor=admin,
        rule_id=rule.id,
        metric="onboarding_completion",
        comparison="below",
        threshold=90,
        window_days=14,
    )
    assert not reports.set_rule_active(session=db_session, actor=admin, rule_id=rule.id, active=False).active
    reports.set_rule_active(session=db_session, actor=admin, rule_id=rule.id, active=False)  # already off
    assert [r.active for r in reports.list_rules(session=db_session)] == [False]
    reports.set_rule_active(session=db_session, actor=admin, rule_id=rule.id, active=True)
    reports.delete_rule(session=db_session, actor=admin, rule_id=rule.id)
    target = f"bi_alert_rule:{rule.id}"
    off = {**second, "active": False}
    assert _audit(db_session, "bi.alert_rule") == [
        ("bi.alert_rule_created", admin.id, target, {"before": None, "after": first}),
        ("bi.alert_rule_updated", admin.id, target, {"before": first, "after": second}),
        ("bi.alert_rule_disabled", admin.id, target, {"before": second, "after": off}),
        ("bi.alert_rule_enabled", admin.id, target, {"before": off, "after": second}),
        ("bi.alert_rule_deleted", admin.id, target, {"before": second, "after": None}),
    ]

    # Refused changes write nothing: wrong role, bad values, a rule that is gone.
    analyst = _Staff(admin.id, "analyst")
    with pytest.raises(PermissionDeniedError):
        reports.set_rule_active(session=db_session, actor=analyst, rule_id=rule.id, active=True)
    with pytest.raises(PermissionDeniedError):
        reports.delete_rule(session=db_session, actor=_Staff(admin.id, "learner"), rule_id=rule.id)
    with pytest.raises(NotFoundError):
        reports.update_rule(
            session=db_session,
            actor=admin,
            rule_id=rule.id,
            metric="dau",
            comparison="below",
            threshold=1,
            window_days=7,
        )
    other = reports.add_rule(
        session=db_session, actor=admin, metric="mrr", comparison="above", threshold=1, window_days=1
    )
    with pytest.raises(ValidationError, match="1 to 90"):
        reports.update_rule(
            session=db_session,
            actor=admin,
            rule_id=other.id,
            metric="mrr",
            comparison="above",
            threshold=1,
            window_days=91,
        )
    assert [a for a, *_ in _audit(db_session, "bi.alert_rule")][5:] == ["bi.alert_rule_created"]


def test_campaign_spend_entries_are_audited_with_the_amount_before_and_after(db_session: Session) -> None:
    marketer = _Staff(add_user(db_session, "Mia", "2026-01-01 08:00", role="marketing"), "marketing")
    admin = _Staff(add_user(db_session, "Root", "2026-01-01 08:00", role="admin"), "admin")
    metrics.add_campaign_spend(
        session=db_session,
        actor=marketer,
        month=date(2026, 3, 15),
        channel="Ads",
        campaign="Spring",
        amount=3100,
    )
    metrics.add_campaign_spend(
        session=db_session, actor=admin, month=date(2026, 3, 1), channel="ads", campaign="spring", amount=6200
    )
    for actor in (_Staff(admin.id, "analyst"), _Staff(admin.id, "learner"), None):
        with pytest.raises((PermissionDeniedError, AuthenticationError)):  # nobody signed in: 401
            metrics.add_campaign_spend(
                session=db_session, actor=actor, month=date(2026, 3, 1), channel="ads", campaign="", amount=1
            )
    target = "bi_campaign_spend:2026-03/ads/spring"
    where = {"month": "2026-03", "channel": "ads", "campaign": "spring"}
    assert _audit(db_session, "bi.campaign_spend") == [
        (
            "bi.campaign_spend_saved",
            marketer.id,
            target,
            {**where, "before": None, "after": {"amount": 3100, "currency": "eur"}},
        ),
        (
            "bi.campaign_spend_saved",
            admin.id,
            target,
            {
                **where,
                "before": {"amount": 3100, "currency": "eur"},
                "after": {"amount": 6200, "currency": "eur"},
            },
        ),
    ]


def test_stored_reports_are_in_the_backup_and_come_back_byte_for_byte(
    settings: Settings, tmp_path: Path
) -> None:
    """Stored reports live in the database, so the ordinary backup carries them (no extra folder)."""
    load_all_models()
    SQLModel.metadata.create_all(get_engine())
    with session_scope() as session:
        analyst_id = add_user(session, "Ana", "2026-01-01 08:00", role="analyst")
        session.add(BiDailyActivity(day=date(2026, 3, 3), segment="all", dau=7, takes=9))
        session.flush()
        assert reports.send_weekly_report(session=session, week=date(2026, 3, 2)) is not None  # the outbox
    analyst = _Staff(analyst_id, "analyst")
    with session_scope() as session:
        before = reports.stored_report(session=session, actor=analyst, week=date(2026, 3, 2))
    assert len(before.charts) == 2 and len(before.tables) == 5

    for folder in backup.AUDIO_FOLDERS:  # no recordings here; the drill's destroy step expects the folders
        (settings.data_dir / folder).mkdir(parents=True, exist_ok=True)
    made = backup.create_backup(settings, dest=tmp_path / "backups")
    assert made.manifest["row_counts"]["bi_report_file"] == 7
    _destroy(settings)
    backup.restore_backup(settings, made.path)

    with session_scope() as session:
        after = reports.stored_report(session=session, actor=analyst, week=date(2026, 3, 2))
    assert after.html == before.html and after.files == before.files
