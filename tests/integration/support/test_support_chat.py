"""Live chat on a real database: queue positions, oldest-first assignment within capacity, stored
messages read back by id (nothing lost or doubled on a repeated send), typing, no agent → ticket,
transcripts and learners kept apart."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from sayzhong.db import utcnow
from sayzhong.errors import NotFoundError, RateLimitedError, ValidationError
from sayzhong.notifications.offline import OutboxMailer
from sayzhong.notifications.service import latest_outbox_email_to
from sayzhong.support import chat
from sayzhong.support import service as support
from sayzhong.support.models import ChatMessage, SupportTicket
from tests.factories import UserFactory


def _mailer(db_session: Session) -> OutboxMailer:
    return OutboxMailer(db_session, mail_from="support@example.org")


def test_waiting_chats_go_to_online_agents_oldest_first_within_capacity(
    db_session: Session, make_user: UserFactory
) -> None:
    now = utcnow()
    agent = make_user(role="support")
    learners = [make_user() for _ in range(chat.CHAT_CAPACITY + 1)]
    chats = [chat.start_chat(session=db_session, user_id=u.id, now=now) for u in learners]
    assert [c.queue_position for c in chats] == list(range(1, len(learners) + 1))
    chat.heartbeat(session=db_session, agent_id=agent.id, now=now)
    states = [
        chat.get_chat(session=db_session, chat_id=c.id, viewer_id=agent.id, viewer=agent, now=now)
        for c in chats
    ]
    assert [s.status for s in states] == ["active"] * chat.CHAT_CAPACITY + ["waiting"]
    assert states[-1].queue_position == 1 and states[0].agent == agent.display_name
    console = chat.console(session=db_session, agent_id=agent.id, now=now)
    assert [c.status for c in console] == ["active"] * chat.CHAT_CAPACITY + ["waiting"]


def test_messages_are_stored_once_and_read_back_in_order(db_session: Session, make_user: UserFactory) -> None:
    now = utcnow()
    agent, learner = make_user(role="support"), make_user()
    chat.heartbeat(session=db_session, agent_id=agent.id, now=now)
    room = chat.start_chat(session=db_session, user_id=learner.id, now=now)
    for _ in range(2):  # the same send arrives twice after a reconnect
        chat.post_message(
            session=db_session,
            chat_id=room.id,
            viewer_id=learner.id,
            viewer=learner,
            body="你好, my tones?",
            client_key="key-aaaaaaaa",
            mailer=_mailer(db_session),
            now=now,
        )
    chat.post_message(
        session=db_session,
        chat_id=room.id,
        viewer_id=agent.id,
        viewer=agent,
        body="Hi! Which phrase?",
        client_key="key-bbbbbbbb",
        now=now,
    )
    everything = chat.messages_after(
        session=db_session, chat_id=room.id, viewer_id=learner.id, viewer=learner
    )
    assert [(m.role, m.body) for m in everything if m.role != "system"] == [
        ("learner", "你好, my tones?"),
        ("agent", "Hi! Which phrase?"),
    ]
    last_seen = everything[-2].id
    newer = chat.messages_after(
        session=db_session, chat_id=room.id, viewer_id=learner.id, viewer=learner, after_id=last_seen
    )
    assert [m.body for m in newer] == ["Hi! Which phrase?"]


def test_typing_shows_to_the_other_side_for_a_few_seconds(
    db_session: Session, make_user: UserFactory
) -> None:
    now = utcnow()
    agent, learner = make_user(role="support"), make_user()
    chat.heartbeat(session=db_session, agent_id=agent.id, now=now)
    room = chat.start_chat(session=db_session, user_id=learner.id, now=now)
    chat.set_typing(session=db_session, chat_id=room.id, viewer_id=agent.id, viewer=agent, now=now)
    assert chat.get_chat(
        session=db_session, chat_id=room.id, viewer_id=learner.id, viewer=learner, now=now
    ).other_typing
    assert not chat.get_chat(
        session=db_session, chat_id=room.id, viewer_id=agent.id, viewer=agent, now=now
    ).other_typing
    later = now + timedelta(seconds=10)
    assert not chat.get_chat(
        session=db_session, chat_id=room.id, viewer_id=learner.id, viewer=learner, now=later
    ).other_typing


def test_with_no_agent_online_the_message_becomes_a_ticket(
    db_session: Session, make_user: UserFactory
) -> None:
    now = utcnow()
    away, learner = make_user(role="support"), make_user()
    chat.heartbeat(
        session=db_session, agent_id=away.id, now=now - timedelta(minutes=5)
    )  # console closed long ago
    room = chat.start_chat(session=db_session, user_id=learner.id, now=now)
    info = chat.post_message(
        session=db_session,
        chat_id=room.id,
        viewer_id=learner.id,
        viewer=learner,
        body="My microphone is blocked in Chrome, the record button does nothing.",
        client_key="key-cccccccc",
        mailer=_mailer(db_session),
        now=now,
    )
    assert info.status == "ticket" and info.ticket_id
    ticket = db_session.get(SupportTicket, info.ticket_id)
    assert ticket is not None and ticket.user_id == learner.id and ticket.queue == "audio"
    with pytest.raises(ValidationError, match="has ended"):
        chat.post_message(
            session=db_session,
            chat_id=room.id,
            viewer_id=learner.id,
            viewer=learner,
            body="hello?",
            client_key="key-dddddddd",
            now=now,
        )


def test_learners_cannot_read_or_write_each_others_chats(db_session: Session, make_user: UserFactory) -> None:
    ana, ben = make_user(), make_user()
    room = chat.start_chat(session=db_session, user_id=ana.id)
    for call in (
        lambda: chat.messages_after(session=db_session, chat_id=room.id, viewer_id=ben.id, viewer=ben),
        lambda: chat.post_message(
            session=db_session,
            chat_id=room.id,
            viewer_id=ben.id,
            viewer=ben,
            body="hi",
            client_key="key-eeeeeeee",
        ),
        lambda: chat.email_transcript(
            session=db_session, chat_id=room.id, user_id=ben.id, mailer=_mailer(db_session)
        ),
    ):
        with pytest.raises(NotFoundError):
            call()


def test_bad_messages_are_refused_and_the_transcript_is_emailed(
    db_session: Session, make_user: UserFactory
) -> None:
    now = utcnow()
    agent, learner = make_user(role="support"), make_user()
    chat.heartbeat(session=db_session, agent_id=agent.id, now=now)
    room = chat.start_chat(session=db_session, user_id=learner.id, now=now)
    for body, key in (("", "key-ffffffff"), ("x" * 2001, "key-gggggggg"), ("ok", "bad key!")):
        with pytest.raises(ValidationError):
            chat.post_message(
                session=db_session,
                chat_id=room.id,
                viewer_id=learner.id,
                viewer=learner,
                body=body,
                client_key=key,
            )
    chat.post_message(
        session=db_session,
        chat_id=room.id,
        viewer_id=learner.id,
        viewer=learner,
        body="<b>thanks</b>",
        client_key="key-hhhhhhhh",
        now=now,
    )
    chat.close_chat(session=db_session, chat_id=room.id, viewer_id=learner.id, viewer=learner)
    chat.email_transcript(session=db_session, chat_id=room.id, user_id=learner.id, mailer=_mailer(db_session))
    mail = latest_outbox_email_to(session=db_session, to=learner.email)
    assert mail is not None and "<b>thanks</b>" in mail.text_body and "ended the chat" in mail.text_body
    assert len(db_session.exec(select(ChatMessage)).all()) == 3  # joined, message, ended
    assert support.list_my_tickets(session=db_session, user_id=learner.id) == []


def test_chat_messages_are_rate_limited(db_session: Session, make_user: UserFactory) -> None:
    now = utcnow()
    agent, learner = make_user(role="support"), make_user()
    chat.heartbeat(session=db_session, agent_id=agent.id, now=now)
    room = chat.start_chat(session=db_session, user_id=learner.id, now=now)
    for n in range(chat.MESSAGES_PER_MINUTE):
        chat.post_message(
            session=db_session,
            chat_id=room.id,
            viewer_id=learner.id,
            viewer=learner,
            body=f"m{n}",
            client_key=f"key-{n:08d}",
            now=now,
        )
    with pytest.raises(RateLimitedError):
        chat.post_message(
            session=db_session,
            chat_id=room.id,
            viewer_id=learner.id,
            viewer=learner,
            body="one more",
            client_key="key-overflow",
            now=now,
        )
    chat.post_message(  # a minute later it is fine again
        session=db_session,
        chat_id=room.id,
        viewer_id=learner.id,
        viewer=learner,
        body="later",
        client_key="key-later000",
        now=now + timedelta(minutes=2),
    )


def test_a_learners_support_data_is_exported_and_erased_with_their_files(
    db_session: Session, make_user: UserFactory
) -> None:
    from sayzhong.support.privacy import erase_support_data, export_support_data

    now = utcnow()
    agent, learner, other = make_user(role="support"), make_user(), make_user()
    detail = support.create_ticket(
        session=db_session,
        user_id=learner.id,
        subject="Charged twice",
        body="Two charges this month, refund one.",
        category="billing",
        attachment=support.UploadedFile("note.txt", b"receipt 42"),
        mailer=_mailer(db_session),
    )
    support.create_ticket(
        session=db_session,
        user_id=other.id,
        subject="Other person",
        body="Not to be exported or erased.",
        category="other",
        mailer=_mailer(db_session),
    )
    chat.heartbeat(session=db_session, agent_id=agent.id, now=now)
    room = chat.start_chat(session=db_session, user_id=learner.id, now=now)
    chat.post_message(
        session=db_session,
        chat_id=room.id,
        viewer_id=learner.id,
        viewer=learner,
        body="hello from chat",
        client_key="key-export01",
        now=now,
    )
    data = export_support_data(session=db_session, user_id=learner.id)
    assert [t["subject"] for t in data["tickets"]] == ["Charged twice"]
    assert data["tickets"][0]["attachments"] == [{"kind": "file", "filename": "note.txt", "bytes": 10}]
    assert "hello from chat" in [m["body"] for m in data["chats"][0]["messages"]]
    path, _, _ = support.attachment_for(
        session=db_session, attachment_id=detail.attachments[0].id, user_id=learner.id, actor=learner
    )
    erase_support_data(session=db_session, user_id=learner.id)
    assert export_support_data(session=db_session, user_id=learner.id)["tickets"] == []
    assert export_support_data(session=db_session, user_id=learner.id)["chats"] == []
    assert not path.exists()
    assert [t["subject"] for t in export_support_data(session=db_session, user_id=other.id)["tickets"]] == [
        "Other person"
    ]
