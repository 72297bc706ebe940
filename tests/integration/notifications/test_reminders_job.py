"""The reminders job end to end on the database (SQLite, and PostgreSQL in the `db` pass), with an
injected clock: who gets what, exactly once, and only with consent to a verified, unsuppressed address.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, SQLModel, col, select

from jobs.scheduler import build_scheduler
from sayzhong.accounts.models import User
from sayzhong.db import get_engine, session_scope
from sayzhong.errors import ServiceUnavailableError, ValidationError
from sayzhong.models import load_all_models
from sayzhong.notifications import preferences as prefs
from sayzhong.notifications.models import EmailDelivery, OutboxEmail
from sayzhong.notifications.ports import EmailMessageData
from sayzhong.notifications.reminders import run_reminders
from sayzhong.practice.models import LearnerProfile
from sayzhong.settings import Settings
from tests.factories import UserFactory

# Saturday 7 March 2026, 13:00 UTC = 08:00 in New York (EST), the day before the change to EDT.
BEFORE_CHANGE = datetime(2026, 3, 7, 13, 0, tzinfo=UTC)
# Monday 9 March 2026, 12:00 UTC = 08:00 in New York (EDT).
AFTER_CHANGE = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)


@pytest.fixture
def db(settings: Settings) -> Settings:
    load_all_models()
    SQLModel.metadata.create_all(get_engine())
    return settings


def learner(
    *,
    email: str,
    timezone: str = "America/New_York",
    verified: bool = True,
    categories: tuple[str, ...] = ("daily",),
    at: str = "08:00",
) -> int:
    with session_scope() as session:
        user = UserFactory(session)(email, timezone=timezone)
        row = session.get(User, user.id)
        assert row is not None
        row.email_verified = verified
        session.add(row)
        prefs.update_preferences(
            session=session, user_id=user.id, enabled=dict.fromkeys(categories, True), reminder_time=at
        )
        return user.id


def outbox(to: str | None = None) -> list[OutboxEmail]:
    with session_scope() as session:
        query = select(OutboxEmail).order_by(col(OutboxEmail.id))
        if to:
            query = query.where(col(OutboxEmail.to_address) == to)
        return list(session.exec(query).all())


def set_practice(user_id: int, *, last: date, streak: int) -> None:
    with session_scope() as session:
        session.add(LearnerProfile(user_id=user_id, last_practice_date=last, streak_days=streak))


def test_eight_oclock_in_new_york_on_both_sides_of_the_dst_change(db: Settings) -> None:
    learner(email="ny@example.com")
    assert run_reminders(now=BEFORE_CHANGE - timedelta(minutes=5))["daily"] == 0  # 07:55 EST
    assert run_reminders(now=BEFORE_CHANGE)["daily"] == 1
    assert run_reminders(now=AFTER_CHANGE - timedelta(minutes=5))["daily"] == 0  # 07:55 EDT
    assert run_reminders(now=AFTER_CHANGE)["daily"] == 1
    mails = outbox("ny@example.com")
    assert len(mails) == 2
    assert all(m.subject == "Time for today's Mandarin practice" for m in mails)


def test_eight_oclock_in_london_across_the_autumn_change(db: Settings) -> None:
    learner(email="ldn@example.com", timezone="Europe/London")
    bst = datetime(2026, 10, 24, 7, 0, tzinfo=UTC)  # 08:00 BST
    gmt = datetime(2026, 10, 26, 8, 0, tzinfo=UTC)  # 08:00 GMT
    assert run_reminders(now=bst)["daily"] == 1
    assert run_reminders(now=gmt - timedelta(hours=1))["daily"] == 0  # 07:00 GMT: the old offset
    assert run_reminders(now=gmt)["daily"] == 1


def test_a_restarted_job_sends_nothing_twice(db: Settings) -> None:
    learner(email="once@example.com")
    assert run_reminders(now=BEFORE_CHANGE)["daily"] == 1
    again = run_reminders(now=BEFORE_CHANGE + timedelta(minutes=5))
    assert again["daily"] == 0
    assert len(outbox("once@example.com")) == 1


def test_moving_the_reminder_later_the_same_day_does_not_send_a_second_one(db: Settings) -> None:
    uid = learner(email="mover@example.com")
    assert run_reminders(now=BEFORE_CHANGE)["daily"] == 1
    with session_scope() as session:
        prefs.update_preferences(session=session, user_id=uid, reminder_time="10:00")
    assert run_reminders(now=BEFORE_CHANGE + timedelta(hours=2)) == {
        "daily": 0,
        "streak": 0,
        "weekly": 0,
        "taken": 1,
        "failed": 0,
    }
    assert len(outbox("mover@example.com")) == 1


def test_product_news_alone_gets_no_reminder(db: Settings) -> None:
    learner(email="news@example.com", categories=("news",))
    assert run_reminders(now=BEFORE_CHANGE)["daily"] == 0
    assert outbox() == []


def test_a_run_that_died_after_claiming_is_not_repeated(db: Settings) -> None:
    uid = learner(email="crash@example.com")
    with session_scope() as session:
        session.add(EmailDelivery(user_id=uid, category="daily", local_day=date(2026, 3, 7)))
    assert run_reminders(now=BEFORE_CHANGE) == {"daily": 0, "streak": 0, "weekly": 0, "taken": 1, "failed": 0}
    assert outbox("crash@example.com") == []


def test_two_concurrent_runs_send_one_message(db: Settings) -> None:
    learner(email="race@example.com")
    barrier = threading.Barrier(2)
    results: list[dict[str, int]] = []

    def run() -> None:
        barrier.wait()
        results.append(run_reminders(now=BEFORE_CHANGE))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r["daily"] for r in results) == [0, 1]
    assert len(outbox("race@example.com")) == 1


def test_a_failed_send_is_released_and_retried_by_the_next_run(db: Settings) -> None:
    learner(email="retry@example.com")

    class DeadMailer:
        def send(self, message: EmailMessageData) -> None:
            raise ServiceUnavailableError("relay down")

    assert run_reminders(now=BEFORE_CHANGE, mailer_factory=lambda _s: DeadMailer())["failed"] == 1
    assert run_reminders(now=BEFORE_CHANGE + timedelta(minutes=5))["daily"] == 1
    assert len(outbox("retry@example.com")) == 1


def test_a_failure_after_the_relay_took_the_message_never_leads_to_a_second_one(
    db: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sayzhong.notifications import reminders

    learner(email="relay@example.com")
    sent: list[EmailMessageData] = []

    class RecordingRelay:
        def send(self, message: EmailMessageData) -> None:
            sent.append(message)

    def broken_clock() -> datetime:
        raise RuntimeError("database went away while recording the send")

    with monkeypatch.context() as patch:
        patch.setattr(reminders, "utcnow", broken_clock)  # only the "sent" bookkeeping reads it
        assert run_reminders(now=BEFORE_CHANGE, mailer_factory=lambda _s: RecordingRelay())["daily"] == 1
    again = run_reminders(
        now=BEFORE_CHANGE + timedelta(minutes=5), mailer_factory=lambda _s: RecordingRelay()
    )
    assert again["taken"] == 1 and len(sent) == 1


def test_no_mail_to_unverified_opted_out_suppressed_deactivated_or_deleting_learners(db: Settings) -> None:
    learner(email="ok@example.com")
    learner(email="unverified@example.com", verified=False)
    learner(email="optedout@example.com", categories=())
    learner(email="bounced@example.com")
    deactivated = learner(email="deactivated@example.com")
    deleting = learner(email="deleting@example.com")
    practised = learner(email="practised@example.com")
    set_practice(practised, last=date(2026, 3, 7), streak=4)
    with session_scope() as session:
        prefs.suppress(session=session, email="Bounced@Example.com", reason="bounce", source="webhook")
        row = session.get(User, deactivated)
        assert row is not None
        row.deactivated_at = BEFORE_CHANGE
        session.add(row)
        from sayzhong.privacy.models import ErasureRequest

        session.add(
            ErasureRequest(user_id=deleting, subject="x", status="pending", scheduled_for=BEFORE_CHANGE)
        )
    assert run_reminders(now=BEFORE_CHANGE)["daily"] == 1
    assert [m.to_address for m in outbox()] == ["ok@example.com"]


def test_streak_at_risk_in_the_evening_only_when_it_would_break(db: Settings) -> None:
    at_risk = learner(email="streak@example.com", categories=("streak",))
    safe = learner(email="safe@example.com", categories=("streak",))
    short = learner(email="short@example.com", categories=("streak",))
    set_practice(at_risk, last=date(2026, 3, 6), streak=5)
    set_practice(safe, last=date(2026, 3, 7), streak=6)  # already practised today
    set_practice(short, last=date(2026, 3, 6), streak=2)
    evening = datetime(2026, 3, 8, 2, 30, tzinfo=UTC)  # 21:30 EST on Saturday 7 March
    assert run_reminders(now=evening - timedelta(hours=1))["streak"] == 0  # 20:30
    assert run_reminders(now=evening)["streak"] == 1
    assert run_reminders(now=evening + timedelta(minutes=30))["streak"] == 0
    (mail,) = outbox()
    assert mail.to_address == "streak@example.com" and mail.subject == "Your 5-day streak ends at midnight"


def test_the_mail_carries_working_links_and_the_learners_name_escaped(db: Settings) -> None:
    uid = learner(email="links@example.com")
    with session_scope() as session:
        row = session.get(User, uid)
        assert row is not None
        row.display_name = "<b>Ana</b>"
        session.add(row)
    run_reminders(now=BEFORE_CHANGE)
    (mail,) = outbox()
    assert "&lt;b&gt;Ana&lt;/b&gt;" in (mail.html_body or "") and "<b>Ana</b>" not in (mail.html_body or "")
    assert "/email/preferences?token=" in mail.text_body and "/email/unsubscribe/" in mail.text_body


def test_preferences_validate_time_zone_and_time(db: Settings) -> None:
    uid = learner(email="tz@example.com")
    with session_scope() as session:
        with pytest.raises(ValidationError, match="time zone"):
            prefs.update_preferences(session=session, user_id=uid, timezone="Mars/Olympus_Mons")
        with pytest.raises(ValidationError, match="hours and minutes"):
            prefs.update_preferences(session=session, user_id=uid, reminder_time="25:00")
        with pytest.raises(ValidationError, match="category"):
            prefs.update_preferences(session=session, user_id=uid, enabled={"spam": True})
        updated = prefs.update_preferences(
            session=session,
            user_id=uid,
            timezone="Europe/London",
            reminder_time="07:15",
            enabled={"weekly": True},
        )
    assert (updated.timezone, updated.reminder_time, updated.daily, updated.weekly) == (
        "Europe/London",
        "07:15",
        True,
        True,
    )


def test_links_are_signed_and_a_category_link_changes_only_its_category(db: Settings) -> None:
    uid = learner(email="scope@example.com", categories=("daily", "weekly"))
    daily_token = prefs.make_token(user_id=uid, category="daily")
    with session_scope() as session:
        with pytest.raises(ValidationError, match="not valid"):
            prefs.preferences_for_link(session=session, token=daily_token[:-2] + "xx")
        with pytest.raises(ValidationError, match="not valid"):
            prefs.preferences_for_link(session=session, token="a" * 1000)
        after = prefs.update_by_link(
            session=session,
            token=daily_token,
            enabled={"daily": False, "weekly": False, "news": True},
            reminder_time="06:00",
        )
    assert (after.daily, after.weekly, after.news, after.reminder_time) == (False, True, False, "08:00")


def test_complaints_and_hard_bounces_suppress_soft_bounces_do_not(db: Settings) -> None:
    uid = learner(email="complainer@example.com", categories=("daily", "weekly"))
    payload = {
        "events": [
            {"type": "bounce", "email": "hard@example.org", "bounce_type": "permanent", "detail": "5.1.1"},
            {"type": "bounce", "email": "soft@example.org", "bounce_type": "transient"},
            {"type": "complaint", "email": "Complainer@example.com"},
            {"type": "bounce", "email": "hard@example.org"},  # a duplicate webhook
        ]
    }
    with session_scope() as session:
        counts = prefs.record_email_events(session=session, payload=payload)
        assert counts == {"suppressed": 2, "already": 1, "ignored": 1, "invalid": 0}
        assert prefs.is_suppressed(session=session, email="HARD@example.org")
        assert not prefs.is_suppressed(session=session, email="soft@example.org")
        after = prefs.get_preferences(session=session, user_id=uid)
        mixed = {"events": [{"type": "bounce"}, "junk", {"type": "complaint", "email": "x@example.org"}]}
        assert prefs.record_email_events(session=session, payload=mixed)["invalid"] == 2
        assert prefs.is_suppressed(session=session, email="x@example.org")  # the good one is kept
        with pytest.raises(ValidationError):
            prefs.record_email_events(session=session, payload=["not", "an", "object"])
    assert not (after.daily or after.weekly)  # a complaint also opts the account out of everything


def test_bounces_from_an_mbox_of_delivery_reports(db: Settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.unit.notifications.test_reminder_schedule import DSN

    box = tmp_path / "bounces.mbox"
    box.write_bytes(b"From MAILER-DAEMON Sat Mar  7 13:00:00 2026\n" + DSN + b"\n")
    learner(email="gone.user@example.org")
    with session_scope() as session:
        assert prefs.import_bounce_mbox(session=session, path=str(box)) == {
            "messages": 1,
            "suppressed": 1,
            "already": 0,
        }
    assert run_reminders(now=BEFORE_CHANGE)["daily"] == 0


def test_the_scheduler_ticks_every_five_minutes() -> None:
    jobs = {job.id: job for job in build_scheduler().get_jobs()}
    assert "interval[0:05:00]" in str(jobs["reminders"].trigger)


def test_erasure_removes_preferences_deliveries_and_the_suppression(db: Settings) -> None:
    from sayzhong.privacy.participants import erase_email_preferences
    from sayzhong.privacy.ports import ErasureSubject

    uid = learner(email="erase@example.com")
    run_reminders(now=BEFORE_CHANGE)
    with session_scope() as session:
        prefs.suppress(session=session, email="erase@example.com", reason="bounce", source="cli")
        removed = erase_email_preferences(
            session=session, subject=ErasureSubject(user_id=uid, email="erase@example.com", pseudonym="p")
        )
    assert removed == 3
    with session_scope() as session:
        assert not prefs.is_suppressed(session=session, email="erase@example.com")
        assert _count(session, EmailDelivery) == 0


def _count(session: Session, model: type[SQLModel]) -> int:
    return len(session.exec(select(model)).all())
