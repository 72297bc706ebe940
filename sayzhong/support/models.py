"""Support tables: help articles and their revisions, help usage, tickets, messages, attachments,
agents, macros and routing corrections.

Services in this package return frozen dataclasses, never these ORM objects.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from sayzhong.db import utcnow


def _utc_column(*, nullable: bool = False, index: bool = False) -> Column:
    return Column(DateTime(timezone=True), nullable=nullable, index=index)


class HelpArticle(SQLModel, table=True):
    """The current text of one help article (seeded from the repo's Markdown, editable by staff)."""

    __tablename__ = "help_article"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=80, unique=True, index=True)
    category: str = Field(max_length=40, index=True)
    title: str = Field(max_length=200)
    summary: str = Field(default="", max_length=400)
    pages: str = Field(default="", max_length=200)
    """Comma-separated page keys (practice, account, …) whose help drawer lists the article."""
    keywords: str = Field(default="", max_length=400)
    body: str = Field(sa_column=Column(Text, nullable=False))
    search_text: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    """Normalised words for full-text search (English, toneless pinyin, segmented hanzi)."""
    revision: int = Field(default=1)
    source: str = Field(default="repo", max_length=10)
    """"repo" while the text is the repository's seed; "staff" once edited from the admin pages."""
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column())


class HelpArticleRevision(SQLModel, table=True):
    __tablename__ = "help_article_revision"
    __table_args__ = (UniqueConstraint("article_id", "revision", name="uq_help_revision_article_rev"),)

    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(foreign_key="help_article.id", index=True, ondelete="CASCADE")
    revision: int
    title: str = Field(max_length=200)
    body: str = Field(sa_column=Column(Text, nullable=False))
    author_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    note: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column())


class HelpFeedback(SQLModel, table=True):
    """One "Was this helpful?" answer."""

    __tablename__ = "help_feedback"

    id: int | None = Field(default=None, primary_key=True)
    article_slug: str = Field(max_length=80, index=True)
    user_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="CASCADE")
    helpful: bool
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column())


class HelpSession(SQLModel, table=True):
    """A signed-in learner's visit to the help centre or drawer (for the self-service rate)."""

    __tablename__ = "help_session"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    started_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column(index=True))
    last_activity_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column())
    searches: int = Field(default=0)
    articles_viewed: int = Field(default=0)


class HelpSearch(SQLModel, table=True):
    """A help search and how many articles it found (top searches with no result)."""

    __tablename__ = "help_search"

    id: int | None = Field(default=None, primary_key=True)
    query: str = Field(max_length=200)
    results: int = Field(default=0)
    user_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column(index=True))


class SupportTicket(SQLModel, table=True):
    __tablename__ = "support_ticket"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    subject: str = Field(max_length=200)
    body: str = Field(sa_column=Column(Text, nullable=False))
    category: str = Field(max_length=20)
    """What the learner chose in the form (a hint for routing, not the queue)."""
    queue: str = Field(max_length=20, index=True)
    priority: str = Field(max_length=10, index=True)
    routing_confidence: float = Field(default=0.0)
    routed_by: str = Field(default="classifier", max_length=20)
    status: str = Field(default="new", max_length=20, index=True)
    assignee_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    context: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    attempt_id: int | None = Field(default=None)
    """The learner's last take, attached only with their explicit tick (no FK: the take may go)."""
    merged_into_id: int | None = Field(default=None, foreign_key="support_ticket.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column(index=True))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column())
    first_response_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    resolved_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    sla_paused_since: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    sla_paused_seconds: int = Field(default=0)
    """Business seconds spent waiting on the learner (not counted against the SLA)."""
    sla_warned: str = Field(default="", max_length=60)
    """Warnings already e-mailed ("first_response:warning,resolution:breached"), sent once each."""
    csat_score: int | None = Field(default=None)
    csat_comment: str = Field(default="", max_length=1000)
    csat_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))


class SupportMessage(SQLModel, table=True):
    __tablename__ = "support_message"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="support_ticket.id", index=True, ondelete="CASCADE")
    author_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    kind: str = Field(max_length=10)
    """"learner", "staff" (reply, e-mailed) or "note" (internal, never shown to the learner)."""
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column())


class SupportAttachment(SQLModel, table=True):
    __tablename__ = "support_attachment"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="support_ticket.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=10)
    """"file" (uploaded by the learner) or "take" (a copy of their last take, ticked explicitly)."""
    filename: str = Field(max_length=120)
    content_type: str = Field(max_length=64)
    size_bytes: int
    path: str = Field(max_length=255)
    """Relative to DATA_DIR; the name on disk is random."""
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column())


class SupportAgent(SQLModel, table=True):
    """Assignment settings of a support-role user."""

    __tablename__ = "support_agent"

    user_id: int = Field(foreign_key="user_account.id", primary_key=True, ondelete="CASCADE")
    capacity: int = Field(default=10)
    away: bool = Field(default=False)
    last_assigned_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    console_seen_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    """Last heartbeat of the agent's chat console: online for live chat while recent."""


class SupportMacro(SQLModel, table=True):
    """A saved reply staff can insert."""

    __tablename__ = "support_macro"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=100, unique=True)
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column())


class RoutingCorrection(SQLModel, table=True):
    """A staff correction of an automatic routing: future training data for the classifier."""

    __tablename__ = "support_routing_correction"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="support_ticket.id", index=True, ondelete="CASCADE")
    """Erasing the learner erases their tickets and, with them, this copy of the ticket's text."""
    subject: str = Field(max_length=200)
    body: str = Field(sa_column=Column(Text, nullable=False))
    predicted_queue: str = Field(max_length=20)
    predicted_priority: str = Field(max_length=10)
    queue: str = Field(max_length=20)
    priority: str = Field(max_length=10)
    staff_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column())


class ChatConversation(SQLModel, table=True):
    """A live chat between a signed-in learner and a support agent."""

    __tablename__ = "support_chat"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    status: str = Field(default="waiting", max_length=10, index=True)
    """"waiting" (in the queue), "active" (an agent has it), "closed", or "ticket" (no agent: became one)."""
    agent_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    ticket_id: int | None = Field(default=None, foreign_key="support_ticket.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column(index=True))
    assigned_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    closed_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    learner_typing_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    agent_typing_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))


class ChatMessage(SQLModel, table=True):
    __tablename__ = "support_chat_message"
    __table_args__ = (UniqueConstraint("chat_id", "client_key", name="uq_support_chat_message_key"),)

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(foreign_key="support_chat.id", index=True, ondelete="CASCADE")
    author_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    role: str = Field(max_length=10)
    """"learner", "agent" or "system"."""
    body: str = Field(sa_column=Column(Text, nullable=False))
    client_key: str = Field(max_length=64)
    """Idempotency key of the send: a message sent twice (reconnect, retry) is stored once."""
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column())


class VerdictFeedback(SQLModel, table=True):
    """A learner's "Was this right?" on one syllable verdict, with what the engine decided."""

    __tablename__ = "support_verdict_feedback"
    __table_args__ = (
        UniqueConstraint("attempt_id", "position", name="uq_support_verdict_feedback_syllable"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    attempt_id: int = Field(foreign_key="practice_attempt.id", index=True, ondelete="CASCADE")
    position: int
    item_id: str = Field(max_length=200)
    text: str = Field(max_length=500)
    engine: str = Field(max_length=40)
    grapheme: str = Field(max_length=16)
    expected_tone: int
    detected_tone: int | None = Field(default=None)
    prev_expected_tone: int | None = Field(default=None)
    verdict: str = Field(max_length=12)
    answer: str = Field(max_length=12)
    """"yes", "no_correct" (I said it correctly) or "no_other"."""
    consent: bool = Field(default=False)
    """The learner let us use this take to evaluate the engine."""
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column())


class NpsResponse(SQLModel, table=True):
    """An answer to (or dismissal of) the occasional "How likely are you to recommend SayZhong?"."""

    __tablename__ = "support_nps_response"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    score: int | None = Field(default=None)
    """0–10, or None when the learner dismissed the question."""
    comment: str = Field(default="", max_length=1000)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column())
