"""Tickets on a real database: filing with context, attachment and the last take, routing,
round-robin assignment, replies by e-mail, notes, SLA pauses and warnings, corrections, merges,
CSAT, the staff figures — and learners never seeing each other's tickets."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from sayzhong.accounts.schemas import UserInfo
from sayzhong.audit import list_audit_events
from sayzhong.db import utcnow
from sayzhong.errors import NotFoundError, PermissionDeniedError, RateLimitedError, ValidationError
from sayzhong.notifications.offline import OutboxMailer
from sayzhong.notifications.service import latest_outbox_email_to
from sayzhong.support import service as support
from sayzhong.support.models import RoutingCorrection, SupportTicket
from tests.factories import UserFactory

MONDAY_10 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _file(db_session: Session, user: UserInfo, **kw) -> support.TicketDetail:  # type: ignore[no-untyped-def]
    args = {
        "subject": "Charged twice",
        "body": "My card was charged twice for the monthly plan this month. Please refund one charge.",
        "category": "billing",
        "context": {"page": "account", "browser": "Chromium 131", "app_version": "0.1.0", "plan": "monthly"},
        "mailer": OutboxMailer(db_session, mail_from="support@example.org"),
    }
    return support.create_ticket(session=db_session, user_id=user.id, **(args | kw))


def test_a_ticket_is_routed_assigned_acknowledged_and_carries_its_context(
    db_session: Session, make_user: UserFactory, make_take: Callable[[int], int]
) -> None:
    agent = make_user(role="support")
    learner = make_user()
    attempt_id = make_take(learner.id)
    detail = _file(db_session, learner, context={"page": "practice", "evil": "x", "browser": "b" * 900})
    s = detail.summary
    assert (s.queue, s.priority, s.status) == ("billing", "urgent", "new")
    assert s.assignee == agent.display_name
    assert detail.context == {"page": "practice", "browser": "b" * 300, "last_attempt_id": str(attempt_id)}
    assert detail.attachments == []  # the take is attached only with the tick
    mail = latest_outbox_email_to(session=db_session, to=learner.email)
    assert mail is not None and f"#{s.id}" in mail.subject and f"/support?ticket={s.id}" in mail.text_body
    assert list_audit_events(session=db_session, target=f"ticket:{s.id}").items[0].action == "ticket.created"


def test_the_last_take_and_a_file_are_attached_only_when_asked(
    db_session: Session, make_user: UserFactory, make_take: Callable[[int], int]
) -> None:
    learner = make_user()
    with pytest.raises(ValidationError, match="no recorded take"):
        _file(db_session, learner, attach_last_take=True)
    make_take(learner.id)
    detail = _file(
        db_session, learner, attach_last_take=True, attachment=support.UploadedFile("../../etc/s c.png", PNG)
    )
    kinds = {a.kind: a for a in detail.attachments}
    assert kinds["take"].content_type == "audio/webm" and kinds["take"].filename.endswith(".webm")
    assert kinds["file"].content_type == "image/png" and kinds["file"].filename == "s c.png"
    path, content_type, _name = support.attachment_for(
        session=db_session, attachment_id=kinds["take"].id, user_id=learner.id, actor=learner
    )
    assert path.read_bytes().startswith(b"\x1a\x45\xdf\xa3") and content_type == "audio/webm"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"MZ\x90\x00" + b"\x00" * 100, "PNG or JPEG"),
        (b"<svg onload=alert(1)>" + b"\xff\xfe" * 10, "PNG or JPEG"),
        (PNG + b"\x00" * support.MAX_ATTACHMENT_BYTES, "at most 5 MB"),
    ],
)
def test_attachments_are_limited_by_type_and_size(
    db_session: Session, make_user: UserFactory, data: bytes, message: str
) -> None:
    learner = make_user()
    with pytest.raises(ValidationError, match=message):
        _file(db_session, learner, attachment=support.UploadedFile("x.png", data))
    assert db_session.exec(select(SupportTicket)).all() == []


@pytest.mark.parametrize(
    ("kw", "code"),
    [
        ({"subject": "x"}, "ticket_subject"),
        ({"body": "short"}, "ticket_body"),
        ({"body": "y" * 5001}, "ticket_body"),
        ({"category": "<script>"}, "ticket_category"),
    ],
)
def test_bad_ticket_input_is_refused_in_plain_words(
    db_session: Session, make_user: UserFactory, kw: dict[str, str], code: str
) -> None:
    with pytest.raises(ValidationError) as err:
        _file(db_session, make_user(), **kw)
    assert err.value.code == code and err.value.user_message


def test_ticket_creation_is_rate_limited(db_session: Session, make_user: UserFactory) -> None:
    learner = make_user()
    for _ in range(support.TICKETS_PER_HOUR):
        _file(db_session, learner)
    with pytest.raises(RateLimitedError):
        _file(db_session, learner)
    _file(db_session, make_user())  # another learner is not affected


def test_learners_only_ever_see_their_own_tickets(db_session: Session, make_user: UserFactory) -> None:
    ana, ben = make_user(), make_user()
    ticket = _file(db_session, ana).summary.id
    assert [t.id for t in support.list_my_tickets(session=db_session, user_id=ben.id)] == []
    for call in (
        lambda: support.get_ticket_for_learner(session=db_session, user_id=ben.id, ticket_id=ticket),
        lambda: support.learner_reply(session=db_session, user_id=ben.id, ticket_id=ticket, body="mine now"),
        lambda: support.rate_ticket(session=db_session, user_id=ben.id, ticket_id=ticket, score=1),
        lambda: support.get_ticket_for_learner(session=db_session, user_id=ben.id, ticket_id=2**40),
    ):
        with pytest.raises(NotFoundError):
            call()
    with pytest.raises(PermissionDeniedError):
        support.list_tickets(session=db_session, actor=ben)
    with pytest.raises(PermissionDeniedError):
        support.get_ticket_for_staff(session=db_session, actor=ben, ticket_id=ticket)


def test_reply_note_sla_pause_resolution_and_csat(db_session: Session, make_user: UserFactory) -> None:
    agent, learner = make_user(role="support"), make_user()
    mailer = OutboxMailer(db_session, mail_from="support@example.org")
    ticket = _file(db_session, learner, now=MONDAY_10).summary.id
    support.add_note(
        session=db_session, actor=agent, actor_id=agent.id, ticket_id=ticket, body="Check Stripe first"
    )
    support.staff_reply(
        session=db_session,
        actor=agent,
        actor_id=agent.id,
        ticket_id=ticket,
        body="Which card was it?",
        mailer=mailer,
        now=MONDAY_10 + timedelta(minutes=20),
    )
    row = db_session.get(SupportTicket, ticket)
    assert row is not None and row.status == "waiting" and row.sla_paused_since is not None
    # The learner sees the reply but never the internal note.
    seen = support.get_ticket_for_learner(session=db_session, user_id=learner.id, ticket_id=ticket)
    assert [m.body for m in seen.messages] == ["Which card was it?"]
    assert (
        "Which card was it?"
        in (latest_outbox_email_to(session=db_session, to=learner.email) or pytest.fail()).text_body
    )
    # Two business hours later the learner answers: the pause is booked, the ticket reopens.
    support.learner_reply(
        session=db_session,
        user_id=learner.id,
        ticket_id=ticket,
        body="The Visa ending 4242",
        now=MONDAY_10 + timedelta(hours=2, minutes=20),
    )
    assert row.status == "open" and row.sla_paused_seconds == 2 * 3600 and row.sla_paused_since is None
    with pytest.raises(ValidationError, match="once it is resolved"):
        support.rate_ticket(session=db_session, user_id=learner.id, ticket_id=ticket, score=5)
    support.staff_reply(
        session=db_session,
        actor=agent,
        actor_id=agent.id,
        ticket_id=ticket,
        body="Refunded.",
        status="resolved",
        mailer=mailer,
        now=MONDAY_10 + timedelta(hours=2, minutes=50),
    )
    mail = latest_outbox_email_to(session=db_session, to=learner.email)
    assert mail is not None and support.csat_url(ticket, 5) in mail.text_body
    staff_view = support.get_ticket_for_staff(
        session=db_session, actor=agent, ticket_id=ticket, now=MONDAY_10 + timedelta(hours=3)
    )
    # 2 h 50 min elapsed, 2 h of it waiting on the learner: well inside the 2 h urgent target.
    assert staff_view.summary.resolution_sla == "ok" and staff_view.summary.first_response_sla == "ok"
    assert [m.kind for m in staff_view.messages] == ["note", "staff", "learner", "staff"]
    assert any("ticket.replied" in line for line in staff_view.history)
    # One click from the e-mail rates it; a forged link does not.
    support.rate_ticket(
        session=db_session, user_id=None, ticket_id=0, score=4, token=support.csat_token(ticket)
    )
    with pytest.raises(ValidationError):
        support.rate_ticket(
            session=db_session, user_id=None, ticket_id=0, score=1, token=support.csat_token(ticket) + "x"
        )
    with pytest.raises(ValidationError):
        support.rate_ticket(session=db_session, user_id=learner.id, ticket_id=ticket, score=9)
    assert row.csat_score == 4


def test_sla_warnings_and_breaches_are_emailed_once_on_a_frozen_clock(
    db_session: Session, make_user: UserFactory
) -> None:
    agent, learner = make_user(role="support"), make_user()
    mailer = OutboxMailer(db_session, mail_from="support@example.org")
    ticket = _file(db_session, learner, now=MONDAY_10).summary.id  # urgent: first response within 30 min
    assert support.check_sla(session=db_session, mailer=mailer, now=MONDAY_10 + timedelta(minutes=10)) == []
    sent = support.check_sla(session=db_session, mailer=mailer, now=MONDAY_10 + timedelta(minutes=25))
    assert sent == [f"ticket:{ticket} first_response warning"]
    mail = latest_outbox_email_to(session=db_session, to=agent.email)
    assert mail is not None and mail.subject.startswith(f"[SLA warning] #{ticket}")
    assert support.check_sla(session=db_session, mailer=mailer, now=MONDAY_10 + timedelta(minutes=26)) == []
    later = support.check_sla(session=db_session, mailer=mailer, now=MONDAY_10 + timedelta(minutes=45))
    assert later == [f"ticket:{ticket} first_response breached"]
    inbox = support.list_tickets(session=db_session, actor=agent, now=MONDAY_10 + timedelta(minutes=45))
    assert inbox[0].first_response_sla == "breached"


def test_round_robin_respects_capacity_and_skips_agents_who_are_away(
    db_session: Session, make_user: UserFactory
) -> None:
    admin = make_user(role="admin")
    a, b, c = make_user(role="support"), make_user(role="support"), make_user(role="support")
    support.set_agent(session=db_session, actor=admin, user_id=c.id, away=True)
    support.set_agent(session=db_session, actor=admin, user_id=b.id, capacity=1)
    assignees = [_file(db_session, make_user()).summary.assignee for _ in range(4)]
    assert assignees == [a.display_name, b.display_name, a.display_name, a.display_name]
    support.set_agent(session=db_session, actor=admin, user_id=a.id, capacity=2)
    assert _file(db_session, make_user()).summary.assignee == ""  # everybody busy or away: unassigned
    with pytest.raises(ValidationError):
        support.set_agent(session=db_session, actor=admin, user_id=admin.id, away=True)


def test_corrections_are_stored_and_teach_the_router(db_session: Session, make_user: UserFactory) -> None:
    agent, learner = make_user(role="support"), make_user()
    odd = {"subject": "Flibbertigibbet", "body": "flibbertigibbet wobblecopter zingo", "category": "other"}
    tickets = [_file(db_session, learner, **odd).summary for _ in range(3)]
    for t in tickets:
        support.reroute(
            session=db_session,
            actor=agent,
            actor_id=agent.id,
            ticket_id=t.id,
            queue="content",
            priority="low",
        )
    corrections = db_session.exec(select(RoutingCorrection)).all()
    assert len(corrections) == 3 and corrections[0].queue == "content"
    router = support.get_router(session=db_session)
    assert router.route(odd["subject"], odd["body"]).queue == "content"
    with pytest.raises(ValidationError):
        support.reroute(
            session=db_session,
            actor=agent,
            actor_id=agent.id,
            ticket_id=tickets[0].id,
            queue="x",
            priority="low",
        )


def test_merging_a_duplicate_moves_its_text_and_closes_it(
    db_session: Session, make_user: UserFactory
) -> None:
    agent, learner, other = make_user(role="support"), make_user(), make_user()
    first, dup = (
        _file(db_session, learner).summary.id,
        _file(db_session, learner, subject="Again charged").summary.id,
    )
    foreign = _file(db_session, other).summary.id
    with pytest.raises(ValidationError):
        support.merge(session=db_session, actor=agent, actor_id=agent.id, ticket_id=dup, into_id=foreign)
    support.merge(session=db_session, actor=agent, actor_id=agent.id, ticket_id=dup, into_id=first)
    target = support.get_ticket_for_staff(session=db_session, actor=agent, ticket_id=first)
    assert "merged from" in target.messages[-1].body
    assert (
        support.get_ticket_for_staff(session=db_session, actor=agent, ticket_id=dup).summary.status
        == "closed"
    )


def test_staff_see_attachments_and_it_is_audited_other_learners_do_not(
    db_session: Session, make_user: UserFactory
) -> None:
    agent, learner, other = make_user(role="support"), make_user(), make_user()
    detail = _file(db_session, learner, attachment=support.UploadedFile("notes.txt", "hello 你好".encode()))
    attachment = detail.attachments[0].id
    with pytest.raises(NotFoundError):
        support.attachment_for(session=db_session, attachment_id=attachment, user_id=other.id, actor=other)
    path, content_type, _ = support.attachment_for(
        session=db_session, attachment_id=attachment, user_id=agent.id, actor=agent
    )
    assert content_type == "text/plain" and path.read_text() == "hello 你好"
    assert list_audit_events(session=db_session, action="ticket.attachment_viewed").total == 1


def test_macros_and_the_support_figures(db_session: Session, make_user: UserFactory) -> None:
    agent, learner = make_user(role="support"), make_user()
    macro = support.save_macro(
        session=db_session, actor=agent, title="Refund done", body="We refunded the charge."
    )
    assert [m.title for m in support.list_macros(session=db_session, actor=agent)] == [macro.title]
    ticket = _file(db_session, learner, now=MONDAY_10).summary.id
    support.staff_reply(
        session=db_session,
        actor=agent,
        actor_id=agent.id,
        ticket_id=ticket,
        body=macro.body,
        status="resolved",
        mailer=OutboxMailer(db_session, mail_from="support@example.org"),
        now=MONDAY_10 + timedelta(minutes=20),
    )
    support.rate_ticket(session=db_session, user_id=learner.id, ticket_id=ticket, score=5)
    figures = support.support_figures(
        session=db_session, actor=agent, since=MONDAY_10 - timedelta(days=1), now=utcnow()
    )
    assert figures.tickets == 1 and figures.csat_average == 5 and figures.csat_distribution[5] == 1
    assert figures.first_response_median_s == 20 * 60 and figures.sla_met_share == 1.0
    assert figures.tickets_per_queue_day == [("2026-11-30", "billing", 1)] and figures.routing_accuracy == 1.0
