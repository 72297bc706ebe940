"""Support tickets: filing (with attachment, optional last take and automatic context), routing,
assignment, replies and notes, status and SLA, merging, macros, CSAT and the staff figures.

Keyword-only functions taking a `Session`, never committing, returning frozen dataclasses. Learner
functions take the learner's id and only ever see that learner's tickets (another learner's ticket
is indistinguishable from a missing one); staff functions take the acting user and check the
support role. Every staff action appends to the audit log with target "ticket:<id>", which is also
the ticket's history.
"""

from __future__ import annotations

import re
import secrets
import shutil
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func
from sqlmodel import Session, col, select

from sayzhong import routes, wiring
from sayzhong.accounts.access import HasRole, Role, require_role
from sayzhong.accounts.models import User
from sayzhong.audit import list_audit_events, record_audit
from sayzhong.db import as_utc, utcnow
from sayzhong.errors import NotFoundError, RateLimitedError, ValidationError
from sayzhong.notifications.ports import EmailMessageData, Mailer
from sayzhong.settings import get_settings
from sayzhong.support import sla
from sayzhong.support.models import (
    RoutingCorrection,
    SupportAgent,
    SupportAttachment,
    SupportMacro,
    SupportMessage,
    SupportTicket,
)
from sayzhong.support.routing import PRIORITIES, QUEUES, Example, Router, router_with_corrections

CATEGORY_CHOICES: dict[str, str] = {
    "audio": "Microphone, recording or audio",
    "scoring": "A score or tone verdict",
    "content": "Lessons and content",
    "billing": "Plans and billing",
    "account": "Account and sign-in",
    "privacy": "Privacy and my data",
    "bug": "Something is broken",
    "other": "Something else",
}
STATUSES: dict[str, str] = {
    "new": "New",
    "open": "Open",
    "waiting": "Waiting on learner",
    "resolved": "Resolved",
    "closed": "Closed",
}
ACTIVE_STATUSES = ("new", "open", "waiting")
AGENT_ROLES = (Role.SUPPORT, Role.ADMIN)
MAX_SUBJECT = 200
MAX_BODY = 5000
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
TICKETS_PER_HOUR = 5
TICKETS_PER_DAY = 20
CONTEXT_KEYS = ("page", "browser", "app_version", "last_attempt_id", "plan")
_ATTACHMENT_NAME = re.compile(r"[^A-Za-z0-9._ -]+")


# --- views -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MessageInfo:
    id: int
    kind: str
    author: str
    body: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AttachmentInfo:
    id: int
    kind: str
    filename: str
    content_type: str
    size_bytes: int


@dataclass(frozen=True, slots=True)
class TicketSummary:
    id: int
    subject: str
    category: str
    queue: str
    priority: str
    status: str
    created_at: datetime
    updated_at: datetime
    learner: str
    assignee: str
    first_response_sla: str
    resolution_sla: str
    csat_score: int | None


@dataclass(frozen=True, slots=True)
class TicketDetail:
    summary: TicketSummary
    body: str
    context: dict[str, str]
    routing_confidence: float
    routed_by: str
    merged_into_id: int | None
    messages: list[MessageInfo]
    attachments: list[AttachmentInfo]
    csat_comment: str
    history: list[str] = field(default_factory=list)
    """Staff only: audit lines, oldest first."""


@dataclass(frozen=True, slots=True)
class UploadedFile:
    filename: str
    data: bytes


@dataclass(frozen=True, slots=True)
class MacroInfo:
    id: int
    title: str
    body: str


@dataclass(frozen=True, slots=True)
class AgentInfo:
    user_id: int
    name: str
    email: str
    capacity: int
    away: bool
    open_tickets: int


@dataclass(frozen=True, slots=True)
class SupportFigures:
    tickets_per_queue_day: list[tuple[str, str, int]]
    """(day, queue, count), newest day first."""
    first_response_median_s: float | None
    first_response_p90_s: float | None
    resolution_median_s: float | None
    resolution_p90_s: float | None
    sla_met_share: float | None
    csat_average: float | None
    csat_distribution: dict[int, int]
    routing_accuracy: float | None
    """Share of routed tickets in the period that staff did not correct."""
    corrections: int
    tickets: int


# --- helpers ---------------------------------------------------------------------------------------


def calendar() -> sla.Calendar:
    return sla.Calendar(timezone=get_settings().support_timezone)


def _clock(row: SupportTicket) -> sla.TicketClock:
    return sla.TicketClock(
        priority=row.priority,
        created_at=as_utc(row.created_at),
        first_response_at=as_utc(row.first_response_at) if row.first_response_at else None,
        resolved_at=as_utc(row.resolved_at) if row.resolved_at else None,
        paused_since=as_utc(row.sla_paused_since) if row.sla_paused_since else None,
        paused_seconds=row.sla_paused_seconds,
    )


def _names(session: Session, ids: set[int]) -> dict[int, tuple[str, str]]:
    if not ids:
        return {}
    rows = session.exec(select(User).where(col(User.id).in_(ids))).all()
    return {r.id or 0: (r.display_name, r.email) for r in rows}


def _summary(row: SupportTicket, names: dict[int, tuple[str, str]], now: datetime) -> TicketSummary:
    clock = _clock(row)
    cal = calendar()
    learner = names.get(row.user_id, ("", ""))
    return TicketSummary(
        id=row.id or 0,
        subject=row.subject,
        category=row.category,
        queue=row.queue,
        priority=row.priority,
        status=row.status,
        created_at=as_utc(row.created_at),
        updated_at=as_utc(row.updated_at),
        learner=f"{learner[0]} <{learner[1]}>" if learner[1] else "",
        assignee=names.get(row.assignee_id or 0, ("", ""))[0],
        first_response_sla=sla.first_response_clock(clock, now, cal).state,
        resolution_sla=sla.resolution_clock(clock, now, cal).state,
        csat_score=row.csat_score,
    )


def _mailer(session: Session, mailer: Mailer | None) -> Mailer:
    return mailer or wiring.get_mailer(get_settings(), session=session)


def ticket_url(ticket_id: int) -> str:
    return f"{get_settings().app_url.rstrip('/')}{routes.SUPPORT}?ticket={ticket_id}"


def _csat_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(get_settings().secret_key, salt="sayzhong.support.csat")


def csat_token(ticket_id: int) -> str:
    return _csat_serializer().dumps(ticket_id)


def csat_url(ticket_id: int, score: int) -> str:
    return f"{get_settings().app_url.rstrip('/')}{routes.SUPPORT_RATE}?t={csat_token(ticket_id)}&s={score}"


def _ticket_row(session: Session, ticket_id: int) -> SupportTicket:
    row = session.get(SupportTicket, ticket_id) if 0 < ticket_id < 2**31 else None
    if row is None:
        raise NotFoundError("We could not find that ticket.", code="ticket_not_found")
    return row


def _own_ticket(session: Session, user_id: int, ticket_id: int) -> SupportTicket:
    row = _ticket_row(session, ticket_id)
    if row.user_id != user_id:
        raise NotFoundError("We could not find that ticket.", code="ticket_not_found")
    return row


def _check_text(subject: str, body: str) -> tuple[str, str]:
    subject = " ".join(str(subject).split())
    body = str(body).strip()
    if not 3 <= len(subject) <= MAX_SUBJECT:
        raise ValidationError(
            f"Please give a subject of 3 to {MAX_SUBJECT} characters.", code="ticket_subject"
        )
    if not 10 <= len(body) <= MAX_BODY:
        raise ValidationError(
            f"Please describe the problem in 10 to {MAX_BODY:,} characters.", code="ticket_body"
        )
    return subject, body


def _clean_context(context: dict[str, Any] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for key in CONTEXT_KEYS:
        value = (context or {}).get(key)
        if value is not None and str(value).strip():
            out[key] = str(value).strip()[:300]
    return out


def sniff_attachment(data: bytes) -> tuple[str, str]:
    """(extension, content type) of an allowed attachment, from its bytes; ValidationError otherwise."""
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png", "image/png"
    if data[:3] == b"\xff\xd8\xff":
        return "jpg", "image/jpeg"
    if data[:5] == b"%PDF-":
        return "pdf", "application/pdf"
    if b"\x00" not in data[:4096]:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            return "txt", "text/plain"
    raise ValidationError(
        "Attachments can be a PNG or JPEG image, a PDF or a text file.", code="attachment_type"
    )


def support_files_root() -> Path:
    return get_settings().data_dir / "support"


def _store_file(user_id: int, data: bytes, extension: str) -> str:
    relative = Path("support") / str(user_id) / f"{secrets.token_hex(16)}.{extension}"
    target = get_settings().data_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".part")
    tmp.write_bytes(data)
    tmp.replace(target)
    return relative.as_posix()


def attachment_path(relative: str) -> Path:
    root = support_files_root().resolve()
    path = (get_settings().data_dir / relative).resolve()
    if root not in path.parents:
        raise NotFoundError("That attachment is no longer available.", code="attachment_not_found")
    return path


def erase_support_files(*, user_id: int) -> int:
    """For account erasure: remove the learner's stored attachment files; returns how many."""
    folder = support_files_root() / str(user_id)
    if not folder.is_dir():
        return 0
    removed = sum(1 for p in folder.rglob("*") if p.is_file())
    shutil.rmtree(folder)
    return removed


def _corrections(session: Session) -> list[Example]:
    rows = session.exec(select(RoutingCorrection).order_by(col(RoutingCorrection.id))).all()
    return [Example(subject=r.subject, body=r.body, queue=r.queue, priority=r.priority) for r in rows]


def get_router(*, session: Session) -> Router:
    """The classifier trained on the committed examples plus every staff correction so far."""
    return router_with_corrections(_corrections(session))


def _open_load(session: Session, agent_id: int) -> int:
    return int(
        session.exec(
            select(func.count())
            .select_from(SupportTicket)
            .where(
                col(SupportTicket.assignee_id) == agent_id,
                col(SupportTicket.status).in_(ACTIVE_STATUSES),
            )
        ).one()
    )


def _agent_row(session: Session, user_id: int) -> SupportAgent:
    row = session.get(SupportAgent, user_id)
    if row is None:
        row = SupportAgent(user_id=user_id)
        session.add(row)
        session.flush()
    return row


def pick_agent(*, session: Session, now: datetime | None = None) -> int | None:
    """Round-robin over support agents who are not away and below their capacity; None if nobody is."""
    now = now or utcnow()
    agents = session.exec(
        select(User).where(col(User.role) == Role.SUPPORT.value).order_by(col(User.id))
    ).all()
    candidates: list[tuple[datetime, int]] = []
    for user in agents:
        agent = _agent_row(session, user.id or 0)
        if agent.away or _open_load(session, agent.user_id) >= agent.capacity:
            continue
        last = (
            as_utc(agent.last_assigned_at)
            if agent.last_assigned_at
            else datetime.min.replace(tzinfo=now.tzinfo)
        )
        candidates.append((last, agent.user_id))
    if not candidates:
        return None
    _last, chosen = min(candidates)
    agent = _agent_row(session, chosen)
    agent.last_assigned_at = now
    session.add(agent)
    session.flush()
    return chosen


# --- learner side ----------------------------------------------------------------------------------


def create_ticket(
    *,
    session: Session,
    user_id: int,
    subject: str,
    body: str,
    category: str,
    context: dict[str, Any] | None = None,
    attachment: UploadedFile | None = None,
    attach_last_take: bool = False,
    router: Router | None = None,
    mailer: Mailer | None = None,
    now: datetime | None = None,
) -> TicketDetail:
    """File a ticket for `user_id`; it is routed, assigned round-robin and acknowledged by e-mail.

    The last take's audio is copied to the ticket only when `attach_last_take` is True (the learner's
    explicit tick); its attempt id is context in any case.
    """
    now = now or utcnow()
    subject, body = _check_text(subject, body)
    if category not in CATEGORY_CHOICES:
        raise ValidationError("Please choose what your message is about.", code="ticket_category")
    recent = session.exec(
        select(SupportTicket.created_at).where(
            col(SupportTicket.user_id) == user_id, col(SupportTicket.created_at) >= now - timedelta(days=1)
        )
    ).all()
    if (
        len(recent) >= TICKETS_PER_DAY
        or sum(as_utc(t) >= now - timedelta(hours=1) for t in recent) >= TICKETS_PER_HOUR
    ):
        raise RateLimitedError(
            "You have opened several tickets in a short time. "
            "Please add to an existing ticket, or try again later.",
            retry_after_s=3600,
        )
    stored: tuple[str, str, str, int] | None = None
    if attachment is not None and attachment.data:
        if len(attachment.data) > MAX_ATTACHMENT_BYTES:
            raise ValidationError("Attachments can be at most 5 MB.", code="attachment_too_large")
        extension, content_type = sniff_attachment(attachment.data)
        name = _ATTACHMENT_NAME.sub("_", Path(attachment.filename or "attachment").name)[:100] or "attachment"
        stored = (name, content_type, extension, len(attachment.data))
    from sayzhong.practice import service as practice

    latest = practice.list_attempts(session=session, user_id=user_id, limit=1)
    ctx = _clean_context(context)
    if latest:
        ctx["last_attempt_id"] = str(latest[0].id)
    take_copy: tuple[bytes, str] | None = None
    if attach_last_take:
        if not latest:
            raise ValidationError("You have no recorded take to attach yet.", code="no_last_take")
        try:
            path = practice.attempt_audio_path(session=session, user_id=user_id, attempt_id=latest[0].id)
            take_copy = (path.read_bytes(), path.suffix.lstrip(".") or "bin")
        except (NotFoundError, FileNotFoundError):
            raise ValidationError(
                "Your last take's recording is no longer stored, so it cannot be attached.",
                code="no_last_take",
            ) from None
    routing = (router or get_router(session=session)).route(subject, body, category=category)
    row = SupportTicket(
        user_id=user_id,
        subject=subject,
        body=body,
        category=category,
        queue=routing.queue,
        priority=routing.priority,
        routing_confidence=round(routing.confidence, 4),
        routed_by=routing.routed_by,
        context=ctx,
        attempt_id=latest[0].id if take_copy else None,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    ticket_id = row.id or 0
    if stored is not None and attachment is not None:
        name, content_type, extension, size = stored
        session.add(
            SupportAttachment(
                ticket_id=ticket_id,
                kind="file",
                filename=name,
                content_type=content_type,
                size_bytes=size,
                path=_store_file(user_id, attachment.data, extension),
                created_at=now,
            )
        )
    if take_copy is not None:
        data, extension = take_copy
        session.add(
            SupportAttachment(
                ticket_id=ticket_id,
                kind="take",
                filename=f"take-{latest[0].id}.{extension}",
                content_type=f"audio/{'mp4' if extension == 'm4a' else extension}",
                size_bytes=len(data),
                path=_store_file(user_id, data, extension),
                created_at=now,
            )
        )
    row.assignee_id = pick_agent(session=session, now=now)
    session.add(row)
    record_audit(
        session=session,
        action="ticket.created",
        actor_id=user_id,
        target=f"ticket:{ticket_id}",
        detail={"queue": row.queue, "priority": row.priority, "assignee": row.assignee_id},
    )
    learner = session.get(User, user_id)
    if learner is not None:
        _mailer(session, mailer).send(
            EmailMessageData(
                to=learner.email,
                subject=f"[SayZhong #{ticket_id}] We received your message: {subject}",
                text_body=(
                    f"Hello {learner.display_name},\n\nThank you for writing to SayZhong support. "
                    f"We answer during business hours (Monday–Friday, 09:00–17:00).\n\n"
                    f"See your request and our replies at {ticket_url(ticket_id)}\n\n— SayZhong support"
                ),
            )
        )
    session.flush()
    return get_ticket_for_learner(session=session, user_id=user_id, ticket_id=ticket_id, now=now)


def list_my_tickets(*, session: Session, user_id: int, now: datetime | None = None) -> list[TicketSummary]:
    rows = session.exec(
        select(SupportTicket)
        .where(col(SupportTicket.user_id) == user_id)
        .order_by(col(SupportTicket.id).desc())
    ).all()
    names = _names(session, {r.assignee_id for r in rows if r.assignee_id} | {user_id})
    return [_summary(r, names, now or utcnow()) for r in rows]


def _detail(session: Session, row: SupportTicket, *, staff: bool, now: datetime) -> TicketDetail:
    query = select(SupportMessage).where(col(SupportMessage.ticket_id) == row.id)
    if not staff:
        query = query.where(col(SupportMessage.kind) != "note")
    messages = session.exec(query.order_by(col(SupportMessage.id))).all()
    attachments = session.exec(
        select(SupportAttachment)
        .where(col(SupportAttachment.ticket_id) == row.id)
        .order_by(col(SupportAttachment.id))
    ).all()
    ids = {row.user_id, *(m.author_id for m in messages if m.author_id)}
    if row.assignee_id:
        ids.add(row.assignee_id)
    names = _names(session, ids)
    history: list[str] = []
    if staff:
        events = list_audit_events(session=session, target=f"ticket:{row.id}", page_size=200).items
        for event in reversed(events):
            who = names.get(event.actor_id or 0, ("system", ""))[0] if event.actor_id else "system"
            detail = ", ".join(f"{k}={v}" for k, v in event.detail.items())
            history.append(
                f"{event.created_at:%Y-%m-%d %H:%M} {event.action} by {who}"
                + (f" ({detail})" if detail else "")
            )
    return TicketDetail(
        summary=_summary(row, names, now),
        body=row.body,
        context=dict(row.context or {}),
        routing_confidence=row.routing_confidence,
        routed_by=row.routed_by,
        merged_into_id=row.merged_into_id,
        messages=[
            MessageInfo(
                id=m.id or 0,
                kind=m.kind,
                author=(
                    "SayZhong support"
                    if m.kind != "learner" and not staff
                    else names.get(m.author_id or 0, ("", ""))[0]
                ),
                body=m.body,
                created_at=as_utc(m.created_at),
            )
            for m in messages
        ],
        attachments=[
            AttachmentInfo(
                id=a.id or 0,
                kind=a.kind,
                filename=a.filename,
                content_type=a.content_type,
                size_bytes=a.size_bytes,
            )
            for a in attachments
        ],
        csat_comment=row.csat_comment,
        history=history,
    )


def get_ticket_for_learner(
    *, session: Session, user_id: int, ticket_id: int, now: datetime | None = None
) -> TicketDetail:
    return _detail(session, _own_ticket(session, user_id, ticket_id), staff=False, now=now or utcnow())


def learner_reply(
    *, session: Session, user_id: int, ticket_id: int, body: str, now: datetime | None = None
) -> TicketDetail:
    """The learner answers: the ticket reopens and the SLA clock resumes."""
    now = now or utcnow()
    row = _own_ticket(session, user_id, ticket_id)
    body = str(body).strip()
    if not 1 <= len(body) <= MAX_BODY:
        raise ValidationError(f"Please write 1 to {MAX_BODY:,} characters.", code="message_body")
    if row.status == "closed":
        raise ValidationError("This ticket is closed. Please open a new one.", code="ticket_closed")
    session.add(
        SupportMessage(ticket_id=row.id or 0, author_id=user_id, kind="learner", body=body, created_at=now)
    )
    _resume_clock(row, now)
    if row.status in ("waiting", "resolved"):
        row.status = "open"
        row.resolved_at = None
    row.updated_at = now
    session.add(row)
    session.flush()
    return get_ticket_for_learner(session=session, user_id=user_id, ticket_id=ticket_id, now=now)


def _resume_clock(row: SupportTicket, now: datetime) -> None:
    if row.sla_paused_since is not None:
        row.sla_paused_seconds += sla.pause_seconds_to_add(as_utc(row.sla_paused_since), now, calendar())
        row.sla_paused_since = None


def rate_ticket(
    *,
    session: Session,
    user_id: int | None,
    ticket_id: int,
    score: int,
    comment: str = "",
    token: str | None = None,
    now: datetime | None = None,
) -> None:
    """CSAT 1–5 (and a comment) on a resolved ticket: by its owner in the app, or from the e-mail's link."""
    if token is not None:
        try:
            signed_id = _csat_serializer().loads(token)
        except BadSignature:
            raise ValidationError("This rating link is not valid.", code="csat_link") from None
        row = _ticket_row(session, int(signed_id))
    else:
        if user_id is None:
            raise ValidationError("Please sign in to rate this ticket.", code="csat_link")
        row = _own_ticket(session, user_id, ticket_id)
    if not isinstance(score, int) or not 1 <= score <= 5:
        raise ValidationError("Please choose a rating from 1 to 5.", code="csat_score")
    if row.status not in ("resolved", "closed"):
        raise ValidationError("You can rate a ticket once it is resolved.", code="csat_not_resolved")
    row.csat_score = score
    if comment.strip():
        row.csat_comment = comment.strip()[:1000]
    row.csat_at = now or utcnow()
    session.add(row)
    record_audit(
        session=session,
        action="ticket.rated",
        actor_id=row.user_id,
        target=f"ticket:{row.id}",
        detail={"score": score},
    )
    session.flush()


# --- staff side ------------------------------------------------------------------------------------


def list_tickets(
    *,
    session: Session,
    actor: HasRole | None,
    queue: str = "",
    status: str = "active",
    priority: str = "",
    assignee_id: int | None = None,
    limit: int = 100,
    now: datetime | None = None,
) -> list[TicketSummary]:
    """The staff inbox: urgent first, then oldest first. `status` "active" = new, open and waiting."""
    require_role(actor, *AGENT_ROLES)
    query = select(SupportTicket)
    if queue:
        query = query.where(col(SupportTicket.queue) == queue)
    if status == "active":
        query = query.where(col(SupportTicket.status).in_(ACTIVE_STATUSES))
    elif status:
        query = query.where(col(SupportTicket.status) == status)
    if priority:
        query = query.where(col(SupportTicket.priority) == priority)
    if assignee_id is not None:
        query = query.where(col(SupportTicket.assignee_id) == assignee_id)
    rows = session.exec(query.order_by(col(SupportTicket.id)).limit(min(max(1, limit), 500))).all()
    rows = sorted(
        rows, key=lambda r: (PRIORITIES.index(r.priority) if r.priority in PRIORITIES else 9, r.id or 0)
    )
    names = _names(session, {r.user_id for r in rows} | {r.assignee_id for r in rows if r.assignee_id})
    return [_summary(r, names, now or utcnow()) for r in rows]


def get_ticket_for_staff(
    *, session: Session, actor: HasRole | None, ticket_id: int, now: datetime | None = None
) -> TicketDetail:
    require_role(actor, *AGENT_ROLES)
    return _detail(session, _ticket_row(session, ticket_id), staff=True, now=now or utcnow())


def staff_reply(
    *,
    session: Session,
    actor: HasRole | None,
    actor_id: int,
    ticket_id: int,
    body: str,
    status: str = "waiting",
    mailer: Mailer | None = None,
    now: datetime | None = None,
) -> TicketDetail:
    """A reply the learner sees in the app and by e-mail; the ticket then waits on them (or is resolved)."""
    require_role(actor, *AGENT_ROLES)
    now = now or utcnow()
    row = _ticket_row(session, ticket_id)
    body = str(body).strip()
    if not 1 <= len(body) <= MAX_BODY:
        raise ValidationError(f"Please write 1 to {MAX_BODY:,} characters.", code="message_body")
    if status not in ("open", "waiting", "resolved"):
        raise ValidationError("Unknown status.", code="ticket_status")
    session.add(
        SupportMessage(ticket_id=row.id or 0, author_id=actor_id, kind="staff", body=body, created_at=now)
    )
    if row.first_response_at is None:
        row.first_response_at = now
    if row.assignee_id is None:
        row.assignee_id = actor_id
    _set_status(row, status, now)
    session.add(row)
    record_audit(
        session=session,
        action="ticket.replied",
        actor_id=actor_id,
        target=f"ticket:{row.id}",
        detail={"status": status},
    )
    learner = session.get(User, row.user_id)
    if learner is not None:
        text_body = (
            f"Hello {learner.display_name},\n\n{body}\n\n"
            f"Reply or see the whole conversation: {ticket_url(row.id or 0)}\n"
        )
        if status == "resolved":
            text_body += (
                "\nHow did we do? One click rates our help (1 = poor, 5 = excellent):\n"
                + "\n".join(f"  {n}: {csat_url(row.id or 0, n)}" for n in range(1, 6))
                + "\n"
            )
        _mailer(session, mailer).send(
            EmailMessageData(
                to=learner.email,
                subject=f"[SayZhong #{row.id}] Re: {row.subject}",
                text_body=text_body + "\n— SayZhong support",
            )
        )
    session.flush()
    return get_ticket_for_staff(session=session, actor=actor, ticket_id=ticket_id, now=now)


def _set_status(row: SupportTicket, status: str, now: datetime) -> None:
    if status == "waiting":
        if row.sla_paused_since is None:
            row.sla_paused_since = now
    else:
        _resume_clock(row, now)
    if status in ("resolved", "closed"):
        row.resolved_at = row.resolved_at or now
    else:
        row.resolved_at = None
    row.status = status
    row.updated_at = now


def add_note(
    *,
    session: Session,
    actor: HasRole | None,
    actor_id: int,
    ticket_id: int,
    body: str,
    now: datetime | None = None,
) -> None:
    """An internal note: staff only, never shown or e-mailed to the learner."""
    require_role(actor, *AGENT_ROLES)
    row = _ticket_row(session, ticket_id)
    body = str(body).strip()
    if not 1 <= len(body) <= MAX_BODY:
        raise ValidationError(f"Please write 1 to {MAX_BODY:,} characters.", code="message_body")
    session.add(
        SupportMessage(
            ticket_id=row.id or 0, author_id=actor_id, kind="note", body=body, created_at=now or utcnow()
        )
    )
    record_audit(session=session, action="ticket.noted", actor_id=actor_id, target=f"ticket:{row.id}")
    session.flush()


def set_status(
    *,
    session: Session,
    actor: HasRole | None,
    actor_id: int,
    ticket_id: int,
    status: str,
    now: datetime | None = None,
) -> None:
    require_role(actor, *AGENT_ROLES)
    if status not in STATUSES:
        raise ValidationError("Unknown status.", code="ticket_status")
    row = _ticket_row(session, ticket_id)
    before = row.status
    _set_status(row, status, now or utcnow())
    session.add(row)
    record_audit(
        session=session,
        action="ticket.status_changed",
        actor_id=actor_id,
        target=f"ticket:{row.id}",
        detail={"from": before, "to": status},
    )
    session.flush()


def assign(
    *, session: Session, actor: HasRole | None, actor_id: int, ticket_id: int, agent_id: int | None
) -> None:
    """Assign by hand (None unassigns). The agent must hold a support role."""
    require_role(actor, *AGENT_ROLES)
    row = _ticket_row(session, ticket_id)
    if agent_id is not None:
        agent = session.get(User, agent_id)
        if agent is None or agent.role not in {r.value for r in AGENT_ROLES}:
            raise ValidationError("Tickets can only be assigned to support staff.", code="not_an_agent")
    row.assignee_id = agent_id
    session.add(row)
    record_audit(
        session=session,
        action="ticket.assigned",
        actor_id=actor_id,
        target=f"ticket:{row.id}",
        detail={"assignee": agent_id},
    )
    session.flush()


def reroute(
    *, session: Session, actor: HasRole | None, actor_id: int, ticket_id: int, queue: str, priority: str
) -> None:
    """Correct the automatic routing; the correction is kept as training data for the classifier."""
    require_role(actor, *AGENT_ROLES)
    if queue not in QUEUES or priority not in PRIORITIES:
        raise ValidationError("Unknown queue or priority.", code="ticket_routing")
    row = _ticket_row(session, ticket_id)
    if (row.queue, row.priority) == (queue, priority):
        return
    session.add(
        RoutingCorrection(
            ticket_id=row.id or 0,
            subject=row.subject,
            body=row.body,
            predicted_queue=row.queue,
            predicted_priority=row.priority,
            queue=queue,
            priority=priority,
            staff_id=actor_id,
        )
    )
    record_audit(
        session=session,
        action="ticket.rerouted",
        actor_id=actor_id,
        target=f"ticket:{row.id}",
        detail={"from": f"{row.queue}/{row.priority}", "to": f"{queue}/{priority}"},
    )
    row.queue, row.priority = queue, priority
    session.add(row)
    session.flush()


def merge(*, session: Session, actor: HasRole | None, actor_id: int, ticket_id: int, into_id: int) -> None:
    """Merge a duplicate: its text becomes a message of the other ticket (same learner), and it closes."""
    require_role(actor, *AGENT_ROLES)
    if ticket_id == into_id:
        raise ValidationError("A ticket cannot be merged into itself.", code="ticket_merge")
    duplicate, target = _ticket_row(session, ticket_id), _ticket_row(session, into_id)
    if duplicate.user_id != target.user_id:
        raise ValidationError("Only tickets from the same learner can be merged.", code="ticket_merge")
    now = utcnow()
    session.add(
        SupportMessage(
            ticket_id=target.id or 0,
            author_id=duplicate.user_id,
            kind="learner",
            body=f"(merged from #{duplicate.id}: {duplicate.subject})\n\n{duplicate.body}",
            created_at=now,
        )
    )
    duplicate.merged_into_id = target.id
    _set_status(duplicate, "closed", now)
    session.add(duplicate)
    record_audit(
        session=session,
        action="ticket.merged",
        actor_id=actor_id,
        target=f"ticket:{duplicate.id}",
        detail={"into": target.id},
    )
    session.flush()


def attachment_for(
    *, session: Session, attachment_id: int, user_id: int, actor: HasRole | None
) -> tuple[Path, str, str]:
    """(path, content type, filename) for the ticket's owner or a support agent (audited for staff)."""
    row = session.get(SupportAttachment, attachment_id) if 0 < attachment_id < 2**31 else None
    gone = NotFoundError("That attachment is no longer available.", code="attachment_not_found")
    if row is None:
        raise gone
    ticket = _ticket_row(session, row.ticket_id)
    is_agent = actor is not None and actor.role in {r.value for r in AGENT_ROLES}
    if ticket.user_id != user_id and not is_agent:
        raise gone
    if is_agent and ticket.user_id != user_id:
        record_audit(
            session=session,
            action="ticket.attachment_viewed",
            actor_id=user_id,
            target=f"ticket:{ticket.id}",
            detail={"attachment": row.id},
        )
    return attachment_path(row.path), row.content_type, row.filename


# --- macros and agents ------------------------------------------------------------------------------


def list_macros(*, session: Session, actor: HasRole | None) -> list[MacroInfo]:
    require_role(actor, *AGENT_ROLES)
    rows = session.exec(select(SupportMacro).order_by(col(SupportMacro.title))).all()
    return [MacroInfo(id=r.id or 0, title=r.title, body=r.body) for r in rows]


def save_macro(*, session: Session, actor: HasRole | None, title: str, body: str) -> MacroInfo:
    require_role(actor, *AGENT_ROLES)
    title, body = " ".join(title.split())[:100], body.strip()
    if len(title) < 3 or not 10 <= len(body) <= MAX_BODY:
        raise ValidationError("A saved reply needs a title and at least 10 characters of text.", code="macro")
    row = session.exec(select(SupportMacro).where(col(SupportMacro.title) == title)).first() or SupportMacro(
        title=title, body=body
    )
    row.body = body
    session.add(row)
    session.flush()
    return MacroInfo(id=row.id or 0, title=row.title, body=row.body)


def list_agents(*, session: Session, actor: HasRole | None) -> list[AgentInfo]:
    require_role(actor, *AGENT_ROLES)
    users = session.exec(
        select(User).where(col(User.role) == Role.SUPPORT.value).order_by(col(User.id))
    ).all()
    out = []
    for user in users:
        agent = _agent_row(session, user.id or 0)
        out.append(
            AgentInfo(
                user_id=agent.user_id,
                name=user.display_name,
                email=user.email,
                capacity=agent.capacity,
                away=agent.away,
                open_tickets=_open_load(session, agent.user_id),
            )
        )
    return out


def set_agent(
    *,
    session: Session,
    actor: HasRole | None,
    user_id: int,
    capacity: int | None = None,
    away: bool | None = None,
) -> None:
    require_role(actor, *AGENT_ROLES)
    user = session.get(User, user_id)
    if user is None or user.role != Role.SUPPORT.value:
        raise ValidationError("That user is not a support agent.", code="not_an_agent")
    agent = _agent_row(session, user_id)
    if capacity is not None:
        if not 0 <= capacity <= 200:
            raise ValidationError("Capacity must be between 0 and 200 open tickets.", code="agent_capacity")
        agent.capacity = capacity
    if away is not None:
        agent.away = away
    session.add(agent)
    session.flush()


# --- SLA warnings and figures -----------------------------------------------------------------------


def check_sla(*, session: Session, mailer: Mailer | None = None, now: datetime | None = None) -> list[str]:
    """E-mail each SLA warning and breach once (to the assignee, else every support agent).

    Returns the warnings sent, as "ticket:<id> <target> <state>". Meant for the jobs runner.
    """
    now = now or utcnow()
    cal = calendar()
    sent: list[str] = []
    rows = session.exec(select(SupportTicket).where(col(SupportTicket.status).in_(ACTIVE_STATUSES))).all()
    agents = session.exec(select(User.email).where(col(User.role) == Role.SUPPORT.value)).all()
    for row in rows:
        clock = _clock(row)
        warned = set(filter(None, row.sla_warned.split(",")))
        for target, state in (
            ("first_response", sla.first_response_clock(clock, now, cal).state),
            ("resolution", sla.resolution_clock(clock, now, cal).state),
        ):
            key = f"{target}:{state}"
            if state == "ok" or key in warned:
                continue
            assignee = session.get(User, row.assignee_id) if row.assignee_id else None
            recipients = [assignee.email] if assignee else list(agents)
            for to in recipients:
                _mailer(session, mailer).send(
                    EmailMessageData(
                        to=to,
                        subject=f"[SLA {state}] #{row.id} {row.priority}: {row.subject}",
                        text_body=(
                            f"Ticket #{row.id} ({row.queue}, {row.priority}) has its "
                            f"{target.replace('_', ' ')} target {state}.\n"
                            f"{get_settings().app_url.rstrip('/')}{routes.STAFF_TICKET}?ticket={row.id}\n"
                        ),
                    )
                )
            warned.add(key)
            sent.append(f"ticket:{row.id} {target} {state}")
        row.sla_warned = ",".join(sorted(warned))[:60]
        session.add(row)
    session.flush()
    return sent


def _percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def support_figures(
    *, session: Session, actor: HasRole | None, since: datetime, now: datetime | None = None
) -> SupportFigures:
    """The staff analysis page: volumes, response and resolution times (business time), SLA, CSAT, routing."""
    require_role(actor, *AGENT_ROLES)
    now = now or utcnow()
    cal = calendar()
    rows = session.exec(select(SupportTicket).where(col(SupportTicket.created_at) >= since)).all()
    per_day: Counter[tuple[str, str]] = Counter(
        (as_utc(r.created_at).strftime("%Y-%m-%d"), r.queue) for r in rows
    )
    first = [
        float(cal.business_seconds(as_utc(r.created_at), as_utc(r.first_response_at)))
        for r in rows
        if r.first_response_at
    ]
    resolved = [r for r in rows if r.resolved_at]
    resolution = [float(sla.resolution_clock(_clock(r), now, cal).elapsed_s) for r in resolved]
    met = [
        sla.first_response_clock(_clock(r), now, cal).state != "breached"
        and sla.resolution_clock(_clock(r), now, cal).state != "breached"
        for r in resolved
    ]
    scores = [r.csat_score for r in rows if r.csat_score]
    corrections = int(
        session.exec(
            select(func.count(func.distinct(RoutingCorrection.ticket_id))).where(
                col(RoutingCorrection.created_at) >= since
            )
        ).one()
    )
    return SupportFigures(
        tickets_per_queue_day=sorted(
            ((d, q, n) for (d, q), n in per_day.items()), key=lambda x: (x[0], x[1]), reverse=True
        ),
        first_response_median_s=statistics.median(first) if first else None,
        first_response_p90_s=_percentile(first, 0.9),
        resolution_median_s=statistics.median(resolution) if resolution else None,
        resolution_p90_s=_percentile(resolution, 0.9),
        sla_met_share=sum(met) / len(met) if met else None,
        csat_average=sum(scores) / len(scores) if scores else None,
        csat_distribution={n: scores.count(n) for n in range(1, 6)},
        routing_accuracy=1 - corrections / len(rows) if rows else None,
        corrections=corrections,
        tickets=len(rows),
    )
