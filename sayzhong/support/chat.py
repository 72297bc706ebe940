"""Live chat: conversations between a signed-in learner and a support agent.

Messages are committed before any page shows them; pages poll `messages_after(last id)` and list
them by id, so a reconnect reloads what is stored and shows nothing twice. A send carries a client
key (unique per conversation), so a send repeated after a dropped connection is stored once.
Waiting conversations go to online agents oldest first, each agent taking at most
`CHAT_CAPACITY` at a time (and never more than their ticket capacity); an agent is online while their
console sends heartbeats and they are not away. When no agent is online, the learner's message
becomes a ticket instead. Transcripts are e-mailed on request; conversations belong to the
learner's data (erasure cascades from the account).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from sayzhong import wiring
from sayzhong.accounts.access import HasRole, Role, has_role
from sayzhong.accounts.models import User
from sayzhong.db import as_utc, utcnow
from sayzhong.errors import NotFoundError, RateLimitedError, ValidationError
from sayzhong.notifications.ports import EmailMessageData, Mailer
from sayzhong.settings import get_settings
from sayzhong.support import service as tickets
from sayzhong.support.models import ChatConversation, ChatMessage, SupportAgent

CHAT_CAPACITY = 3
ONLINE_WINDOW = timedelta(seconds=45)
TYPING_WINDOW = timedelta(seconds=4)
MAX_MESSAGE = 2000
CHATS_PER_HOUR = 5
MESSAGES_PER_MINUTE = 20
OPEN = ("waiting", "active")
_KEY = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


@dataclass(frozen=True, slots=True)
class ChatMessageInfo:
    id: int
    role: str
    author: str
    body: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ChatInfo:
    id: int
    status: str
    learner: str
    agent: str
    queue_position: int
    """1 for the next to be served; 0 when not waiting."""
    ticket_id: int | None
    other_typing: bool
    created_at: datetime


def _is_agent(user: HasRole | None) -> bool:
    return has_role(user, Role.SUPPORT, Role.ADMIN)


def _row(session: Session, chat_id: int, viewer_id: int, viewer: HasRole | None) -> ChatConversation:
    row = session.get(ChatConversation, chat_id) if 0 < chat_id < 2**31 else None
    if row is None or (row.user_id != viewer_id and not _is_agent(viewer)):
        raise NotFoundError("We could not find that conversation.", code="chat_not_found")
    return row


def _name(session: Session, user_id: int | None) -> str:
    user = session.get(User, user_id) if user_id else None
    return user.display_name if user else ""


def _position(session: Session, row: ChatConversation) -> int:
    if row.status != "waiting":
        return 0
    ahead = session.exec(
        select(func.count())
        .select_from(ChatConversation)
        .where(col(ChatConversation.status) == "waiting", col(ChatConversation.id) < row.id)
    ).one()
    return int(ahead) + 1


def _info(session: Session, row: ChatConversation, *, viewer_is_learner: bool, now: datetime) -> ChatInfo:
    typing_at = row.agent_typing_at if viewer_is_learner else row.learner_typing_at
    return ChatInfo(
        id=row.id or 0,
        status=row.status,
        learner=_name(session, row.user_id),
        agent=_name(session, row.agent_id),
        queue_position=_position(session, row),
        ticket_id=row.ticket_id,
        other_typing=typing_at is not None and now - as_utc(typing_at) <= TYPING_WINDOW,
        created_at=as_utc(row.created_at),
    )


def _online_agents(session: Session, now: datetime) -> list[SupportAgent]:
    rows = session.exec(
        select(SupportAgent).where(
            col(SupportAgent.away).is_(False), col(SupportAgent.console_seen_at) >= now - ONLINE_WINDOW
        )
    ).all()
    return [
        r for r in rows if (u := session.get(User, r.user_id)) is not None and u.role == Role.SUPPORT.value
    ]


def _load(session: Session, agent_id: int) -> int:
    return int(
        session.exec(
            select(func.count())
            .select_from(ChatConversation)
            .where(col(ChatConversation.agent_id) == agent_id, col(ChatConversation.status) == "active")
        ).one()
    )


def assign_waiting(*, session: Session, now: datetime | None = None) -> int:
    """Give waiting conversations, oldest first, to online agents with room; returns how many."""
    now = now or utcnow()
    agents = _online_agents(session, now)
    assigned = 0
    waiting = session.exec(
        select(ChatConversation)
        .where(col(ChatConversation.status) == "waiting")
        .order_by(col(ChatConversation.id))
    ).all()
    for chat in waiting:
        room = [(_load(session, a.user_id), a.user_id) for a in agents]
        room = [
            (load, agent_id)
            for load, agent_id in room
            if load < min(CHAT_CAPACITY, _capacity(agents, agent_id))
        ]
        if not room:
            break
        _load_now, agent_id = min(room)
        chat.status, chat.agent_id, chat.assigned_at = "active", agent_id, now
        session.add(chat)
        session.add(
            ChatMessage(
                chat_id=chat.id or 0,
                role="system",
                body=f"{_name(session, agent_id)} joined the conversation.",
                client_key=f"joined-{agent_id}-{int(now.timestamp())}",
                created_at=now,
            )
        )
        session.flush()
        assigned += 1
    return assigned


def _capacity(agents: list[SupportAgent], agent_id: int) -> int:
    return next(a.capacity for a in agents if a.user_id == agent_id)


def agent_available(*, session: Session, now: datetime | None = None) -> bool:
    return bool(_online_agents(session, now or utcnow()))


def start_chat(*, session: Session, user_id: int, now: datetime | None = None) -> ChatInfo:
    """The learner's open conversation, or a new one in the queue."""
    now = now or utcnow()
    row = session.exec(
        select(ChatConversation)
        .where(col(ChatConversation.user_id) == user_id, col(ChatConversation.status).in_(OPEN))
        .order_by(col(ChatConversation.id).desc())
    ).first()
    if row is None:
        recent = session.exec(
            select(func.count())
            .select_from(ChatConversation)
            .where(
                col(ChatConversation.user_id) == user_id,
                col(ChatConversation.created_at) >= now - timedelta(hours=1),
            )
        ).one()
        if int(recent) >= CHATS_PER_HOUR:
            raise RateLimitedError("You have started several chats in a short time. Please try again later.")
        row = ChatConversation(user_id=user_id, created_at=now)
        session.add(row)
        session.flush()
        assign_waiting(session=session, now=now)
    return _info(session, row, viewer_is_learner=True, now=now)


def get_chat(
    *, session: Session, chat_id: int, viewer_id: int, viewer: HasRole | None, now: datetime | None = None
) -> ChatInfo:
    row = _row(session, chat_id, viewer_id, viewer)
    return _info(session, row, viewer_is_learner=row.user_id == viewer_id, now=now or utcnow())


def latest_chat(*, session: Session, user_id: int, now: datetime | None = None) -> ChatInfo | None:
    row = session.exec(
        select(ChatConversation)
        .where(col(ChatConversation.user_id) == user_id)
        .order_by(col(ChatConversation.id).desc())
    ).first()
    return _info(session, row, viewer_is_learner=True, now=now or utcnow()) if row else None


def post_message(
    *,
    session: Session,
    chat_id: int,
    viewer_id: int,
    viewer: HasRole | None,
    body: str,
    client_key: str,
    mailer: Mailer | None = None,
    now: datetime | None = None,
) -> ChatInfo:
    """Store a message (once per client key). A learner's message while no agent is online turns the
    conversation into a ticket."""
    now = now or utcnow()
    row = _row(session, chat_id, viewer_id, viewer)
    body = str(body).strip()
    if not 1 <= len(body) <= MAX_MESSAGE:
        raise ValidationError(f"Messages can be 1 to {MAX_MESSAGE:,} characters.", code="chat_message")
    if not _KEY.match(client_key or ""):
        raise ValidationError("This message could not be sent. Please try again.", code="chat_key")
    if row.status not in OPEN:
        raise ValidationError(
            "This conversation has ended. Start a new chat to write again.", code="chat_closed"
        )
    is_learner = row.user_id == viewer_id
    existing = session.exec(
        select(ChatMessage.id).where(
            col(ChatMessage.chat_id) == row.id, col(ChatMessage.client_key) == client_key
        )
    ).first()
    if existing is None:
        recent = session.exec(
            select(func.count())
            .select_from(ChatMessage)
            .where(
                col(ChatMessage.chat_id) == row.id,
                col(ChatMessage.author_id) == viewer_id,
                col(ChatMessage.created_at) >= now - timedelta(minutes=1),
            )
        ).one()
        if int(recent) >= MESSAGES_PER_MINUTE:
            raise RateLimitedError(
                "You are sending messages very fast. Please wait a moment.", retry_after_s=60
            )
        try:
            with session.begin_nested():
                session.add(
                    ChatMessage(
                        chat_id=row.id or 0,
                        author_id=viewer_id,
                        role="learner" if is_learner else "agent",
                        body=body,
                        client_key=client_key,
                        created_at=now,
                    )
                )
        except IntegrityError:
            pass  # the same send raced itself: the first copy stands
    if is_learner:
        row.learner_typing_at = None
        if row.status == "waiting":
            assign_waiting(session=session, now=now)
            if row.status == "waiting" and not agent_available(session=session, now=now):
                _to_ticket(session, row, mailer=mailer, now=now)
    else:
        row.agent_typing_at = None
        if row.agent_id is None:
            row.agent_id, row.status, row.assigned_at = viewer_id, "active", now
    session.add(row)
    session.flush()
    return _info(session, row, viewer_is_learner=is_learner, now=now)


def _to_ticket(session: Session, row: ChatConversation, *, mailer: Mailer | None, now: datetime) -> None:
    messages = session.exec(
        select(ChatMessage)
        .where(col(ChatMessage.chat_id) == row.id, col(ChatMessage.role) == "learner")
        .order_by(col(ChatMessage.id))
    ).all()
    text = "\n".join(m.body for m in messages)
    first = " ".join(text.split())[:80] or "Chat message"
    detail = tickets.create_ticket(
        session=session,
        user_id=row.user_id,
        subject=f"Chat: {first}",
        body=f"(from live chat while no agent was available)\n\n{text}",
        category="other",
        context={"page": "live chat"},
        mailer=mailer,
        now=now,
    )
    row.status, row.ticket_id, row.closed_at = "ticket", detail.summary.id, now
    session.add(
        ChatMessage(
            chat_id=row.id or 0,
            role="system",
            body=f"No agent is free right now, so your message became ticket #{detail.summary.id}. "
            "We will answer it by e-mail and under Support.",
            client_key=f"ticket-{detail.summary.id}",
            created_at=now,
        )
    )


def messages_after(
    *, session: Session, chat_id: int, viewer_id: int, viewer: HasRole | None, after_id: int = 0
) -> list[ChatMessageInfo]:
    """Stored messages with an id above `after_id`, in order."""
    row = _row(session, chat_id, viewer_id, viewer)
    rows = session.exec(
        select(ChatMessage)
        .where(col(ChatMessage.chat_id) == row.id, col(ChatMessage.id) > max(0, after_id))
        .order_by(col(ChatMessage.id))
        .limit(500)
    ).all()
    names: dict[int, str] = {}
    out = []
    for m in rows:
        if m.author_id and m.author_id not in names:
            names[m.author_id] = _name(session, m.author_id)
        author = "SayZhong" if m.role == "system" else names.get(m.author_id or 0, "")
        out.append(
            ChatMessageInfo(
                id=m.id or 0, role=m.role, author=author, body=m.body, created_at=as_utc(m.created_at)
            )
        )
    return out


def set_typing(
    *, session: Session, chat_id: int, viewer_id: int, viewer: HasRole | None, now: datetime | None = None
) -> None:
    row = _row(session, chat_id, viewer_id, viewer)
    now = now or utcnow()
    if row.user_id == viewer_id:
        row.learner_typing_at = now
    else:
        row.agent_typing_at = now
    session.add(row)
    session.flush()


def close_chat(
    *, session: Session, chat_id: int, viewer_id: int, viewer: HasRole | None, now: datetime | None = None
) -> None:
    row = _row(session, chat_id, viewer_id, viewer)
    if row.status in OPEN:
        now = now or utcnow()
        who = "The learner" if row.user_id == viewer_id else _name(session, viewer_id)
        row.status, row.closed_at = "closed", now
        session.add(row)
        session.add(
            ChatMessage(
                chat_id=row.id or 0,
                role="system",
                body=f"{who} ended the chat.",
                client_key=f"closed-{row.id}",
                created_at=now,
            )
        )
        session.flush()


def email_transcript(*, session: Session, chat_id: int, user_id: int, mailer: Mailer | None = None) -> None:
    """Send the learner the whole conversation (their own chats only)."""
    row = _row(session, chat_id, user_id, None)
    learner = session.get(User, row.user_id)
    if learner is None:
        raise NotFoundError("We could not find that conversation.", code="chat_not_found")
    lines = [
        f"[{m.created_at:%Y-%m-%d %H:%M} UTC] {m.author or 'You'}: {m.body}"
        for m in messages_after(session=session, chat_id=chat_id, viewer_id=user_id, viewer=None)
    ]
    (mailer or wiring.get_mailer(get_settings(), session=session)).send(
        EmailMessageData(
            to=learner.email,
            subject=f"Your SayZhong support chat #{row.id}",
            text_body="Here is the transcript of your chat with SayZhong support.\n\n"
            + "\n".join(lines)
            + "\n",
        )
    )


def heartbeat(*, session: Session, agent_id: int, now: datetime | None = None) -> None:
    """The agent's console is open: mark them online and hand out waiting chats."""
    now = now or utcnow()
    agent = session.get(SupportAgent, agent_id) or SupportAgent(user_id=agent_id)
    agent.console_seen_at = now
    session.add(agent)
    session.flush()
    assign_waiting(session=session, now=now)


def console(*, session: Session, agent_id: int, now: datetime | None = None) -> list[ChatInfo]:
    """The agent's console: their active chats, then the queue (oldest first)."""
    now = now or utcnow()
    rows = session.exec(
        select(ChatConversation)
        .where(
            (col(ChatConversation.status) == "waiting")
            | ((col(ChatConversation.status) == "active") & (col(ChatConversation.agent_id) == agent_id))
        )
        .order_by(col(ChatConversation.id))
    ).all()
    infos = [_info(session, r, viewer_is_learner=False, now=now) for r in rows]
    return sorted(infos, key=lambda c: (c.status != "active", c.id))
