"""A learner's support data for data-access and erasure requests (the privacy feature calls these).

`export_support_data` gathers everything the support centre keeps about one learner: tickets with
their messages (internal notes included: they are about the learner) and attachment names, live
chats with transcripts, "Was this right?" answers, NPS answers, help feedback and searches.
`erase_support_data` deletes the same rows and the stored attachment files; it is the support
centre's account-erasure participant (`sayzhong.privacy.participants.erase_support`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from sayzhong.db import as_utc
from sayzhong.support.models import (
    ChatConversation,
    ChatMessage,
    HelpArticleRevision,
    HelpFeedback,
    HelpSearch,
    HelpSession,
    NpsResponse,
    RoutingCorrection,
    SupportAgent,
    SupportAttachment,
    SupportMessage,
    SupportTicket,
    VerdictFeedback,
)
from sayzhong.support.service import erase_support_files


def _iso(value: Any) -> str | None:
    return as_utc(value).isoformat() if value is not None else None


def export_support_data(*, session: Session, user_id: int) -> dict[str, Any]:
    tickets = session.exec(select(SupportTicket).where(col(SupportTicket.user_id) == user_id)).all()
    out_tickets = []
    for t in tickets:
        messages = session.exec(
            select(SupportMessage)
            .where(col(SupportMessage.ticket_id) == t.id)
            .order_by(col(SupportMessage.id))
        ).all()
        files = session.exec(select(SupportAttachment).where(col(SupportAttachment.ticket_id) == t.id)).all()
        out_tickets.append(
            {
                "id": t.id,
                "created_at": _iso(t.created_at),
                "subject": t.subject,
                "body": t.body,
                "category": t.category,
                "queue": t.queue,
                "priority": t.priority,
                "status": t.status,
                "context": t.context,
                "csat_score": t.csat_score,
                "csat_comment": t.csat_comment,
                "messages": [
                    {"kind": m.kind, "body": m.body, "created_at": _iso(m.created_at)} for m in messages
                ],
                "attachments": [
                    {"kind": f.kind, "filename": f.filename, "bytes": f.size_bytes} for f in files
                ],
            }
        )
    chats = session.exec(select(ChatConversation).where(col(ChatConversation.user_id) == user_id)).all()
    out_chats = []
    for c in chats:
        lines = session.exec(
            select(ChatMessage).where(col(ChatMessage.chat_id) == c.id).order_by(col(ChatMessage.id))
        ).all()
        out_chats.append(
            {
                "id": c.id,
                "created_at": _iso(c.created_at),
                "status": c.status,
                "messages": [
                    {"role": m.role, "body": m.body, "created_at": _iso(m.created_at)} for m in lines
                ],
            }
        )
    verdicts = session.exec(select(VerdictFeedback).where(col(VerdictFeedback.user_id) == user_id)).all()
    nps = session.exec(select(NpsResponse).where(col(NpsResponse.user_id) == user_id)).all()
    helpful = session.exec(select(HelpFeedback).where(col(HelpFeedback.user_id) == user_id)).all()
    searches = session.exec(select(HelpSearch).where(col(HelpSearch.user_id) == user_id)).all()
    return {
        "tickets": out_tickets,
        "chats": out_chats,
        "verdict_feedback": [
            {"attempt_id": v.attempt_id, "position": v.position, "answer": v.answer, "consent": v.consent}
            for v in verdicts
        ],
        "nps": [{"score": n.score, "comment": n.comment, "created_at": _iso(n.created_at)} for n in nps],
        "help_feedback": [{"article": h.article_slug, "helpful": h.helpful} for h in helpful],
        "help_searches": [{"query": s.query, "created_at": _iso(s.created_at)} for s in searches],
    }


def erase_support_data(*, session: Session, user_id: int) -> int:
    """Delete the learner's support rows (children first) and their stored attachment files; where
    the person was staff, take their id off replies, chat lines, edits, routing corrections and
    assignments (those rows belong to other learners' tickets) and drop their agent settings.
    Idempotent; returns how many rows and files it removed or changed."""
    ticket_ids = list(
        session.exec(select(SupportTicket.id).where(col(SupportTicket.user_id) == user_id)).all()
    )
    chat_ids = list(
        session.exec(select(ChatConversation.id).where(col(ChatConversation.user_id) == user_id)).all()
    )
    statements: list[Any] = [
        delete(SupportMessage).where(col(SupportMessage.ticket_id).in_(ticket_ids)),
        delete(SupportAttachment).where(col(SupportAttachment.ticket_id).in_(ticket_ids)),
        delete(RoutingCorrection).where(col(RoutingCorrection.ticket_id).in_(ticket_ids)),
        delete(ChatMessage).where(col(ChatMessage.chat_id).in_(chat_ids)),
        delete(ChatConversation).where(col(ChatConversation.id).in_(chat_ids)),
        # Tickets merged into one of these keep their own rows, without the link.
        update(SupportTicket)
        .where(col(SupportTicket.merged_into_id).in_(ticket_ids))
        .values(merged_into_id=None),
        delete(SupportTicket).where(col(SupportTicket.id).in_(ticket_ids)),
        delete(VerdictFeedback).where(col(VerdictFeedback.user_id) == user_id),
        delete(NpsResponse).where(col(NpsResponse.user_id) == user_id),
        delete(HelpFeedback).where(col(HelpFeedback.user_id) == user_id),
        delete(HelpSearch).where(col(HelpSearch.user_id) == user_id),
        delete(HelpSession).where(col(HelpSession.user_id) == user_id),
        # As staff: the work stays, the name goes.
        update(SupportMessage).where(col(SupportMessage.author_id) == user_id).values(author_id=None),
        update(ChatMessage).where(col(ChatMessage.author_id) == user_id).values(author_id=None),
        update(ChatConversation).where(col(ChatConversation.agent_id) == user_id).values(agent_id=None),
        update(SupportTicket).where(col(SupportTicket.assignee_id) == user_id).values(assignee_id=None),
        update(RoutingCorrection).where(col(RoutingCorrection.staff_id) == user_id).values(staff_id=None),
        update(HelpArticleRevision)
        .where(col(HelpArticleRevision.author_id) == user_id)
        .values(author_id=None),
        delete(SupportAgent).where(col(SupportAgent.user_id) == user_id),
    ]
    changed = 0
    for statement in statements:
        result = session.execute(statement, execution_options={"synchronize_session": "fetch"})
        changed += int(result.rowcount or 0)  # type: ignore[attr-defined]
    session.flush()
    return changed + erase_support_files(user_id=user_id)
