"""Support centre states: help centre and articles, the contextual help drawer, learner tickets,
the staff inbox and ticket page, article editing and the support analysis page.

Thin by design: every handler checks its arguments, resolves the caller from the session cookie and
calls `sayzhong.support.*` in a worker thread. Ticket and article text reaches the page only as text
(or as HTML already sanitised by nh3 in the service), never as raw HTML.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import reflex as rx

from sayzhong import routes
from sayzhong.db import utcnow
from sayzhong.errors import SayZhongError
from sayzhong.settings import get_settings
from sayzhong.support import feedback
from sayzhong.support import help as help_service
from sayzhong.support import service as support
from sayzhong.support.routing import PRIORITIES, QUEUES
from state.admin import StaffState
from state.session import SessionState, run_in_session

TICKET_UPLOAD_ID = "ticket_attachment"
APP_VERSION = "0.1.0"
STATUS_LABELS = support.STATUSES
CATEGORY_OPTIONS = [{"value": k, "label": v} for k, v in support.CATEGORY_CHOICES.items()]


def _int(value: Any) -> int:
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return 0
    return number if 0 < number < 2**31 else 0


def _position(value: Any) -> int:
    """A syllable position (0 or more), or -1 when the argument is not one."""
    text = str(value)
    return int(text) if text.isdigit() and len(text) < 4 else -1


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC")


def _ticket_row(t: support.TicketSummary) -> dict[str, Any]:
    return {
        "id": t.id,
        "subject": t.subject,
        "queue": t.queue,
        "priority": t.priority,
        "status": t.status,
        "status_label": STATUS_LABELS.get(t.status, t.status),
        "created": _when(t.created_at),
        "updated": _when(t.updated_at),
        "learner": t.learner,
        "assignee": t.assignee or "—",
        "sla": t.resolution_sla if t.first_response_sla == "ok" else t.first_response_sla,
        "csat": str(t.csat_score) if t.csat_score else "",
        "href": f"{routes.SUPPORT}?ticket={t.id}",
        "staff_href": f"{routes.STAFF_TICKET}?ticket={t.id}",
    }


def _messages(detail: support.TicketDetail) -> list[dict[str, Any]]:
    return [
        {"id": m.id, "kind": m.kind, "author": m.author or "You", "body": m.body, "when": _when(m.created_at)}
        for m in detail.messages
    ]


def _attachments(detail: support.TicketDetail) -> list[dict[str, Any]]:
    return [
        {
            "id": a.id,
            "kind": a.kind,
            "name": a.filename,
            "type": a.content_type,
            "size": f"{max(1, a.size_bytes // 1024)} KB",
            "url": get_settings().backend_url.rstrip("/")
            + routes.SUPPORT_ATTACHMENT.replace("{attachment_id:int}", str(a.id)),
            "is_audio": a.content_type.startswith("audio/"),
        }
        for a in detail.attachments
    ]


@dataclasses.dataclass
class SnippetPartView:
    text: str
    hl: bool


@dataclasses.dataclass
class SearchResultView:
    title: str
    category: str
    href: str
    parts: list[SnippetPartView]


@dataclasses.dataclass
class ArticleLink:
    title: str
    summary: str
    href: str


@dataclasses.dataclass
class CategoryView:
    key: str
    label: str
    articles: list[ArticleLink]


# --- help centre ------------------------------------------------------------------------------------


class HelpCentreState(rx.State):
    categories: list[CategoryView] = []
    query: str = ""
    results: rx.Field[list[SearchResultView]] = rx.field(default_factory=list)
    searched: bool = False
    suggestion: str = ""
    partial: bool = False

    async def _user_id(self) -> int | None:
        user = await (await self.get_state(SessionState)).current_user()
        return user.id if user else None

    @rx.event
    async def load(self) -> None:
        categories = await run_in_session(lambda session: help_service.list_categories(session=session))
        self.categories = [
            CategoryView(
                key=c.key,
                label=c.label,
                articles=[
                    ArticleLink(a.title, a.summary, routes.help_article_url(a.slug)) for a in c.articles
                ],
            )
            for c in categories
        ]
        user_id = await self._user_id()
        if user_id:
            await run_in_session(
                lambda session: help_service.touch_help_session(session=session, user_id=user_id)
            )
        query = str(self.router.url.query_parameters.get("q", ""))[:200]
        if query:
            await self._search(query)
        else:
            self.searched, self.results, self.query = False, [], ""

    async def _search(self, query: str) -> None:
        self.query = query
        if not query.strip():
            self.searched, self.results, self.suggestion = False, [], ""
            return
        user_id = await self._user_id()
        result = await run_in_session(
            lambda session: help_service.search_help(session=session, query=query, user_id=user_id)
        )
        self.results = [
            SearchResultView(
                title=item.title,
                category=item.category_label,
                href=routes.help_article_url(item.slug),
                parts=[SnippetPartView(p.text, p.highlight) for p in item.snippet],
            )
            for item in result.items
        ]
        self.suggestion = result.suggestion or ""
        self.partial = result.partial
        self.searched = True

    @rx.event
    async def search(self, form: dict[str, Any]) -> None:
        value = form.get("q", "")
        await self._search(value[:200] if isinstance(value, str) else "")


class HelpArticleState(rx.State):
    slug: str = ""
    title: str = ""
    category: str = ""
    html: str = ""
    updated: str = ""
    missing: bool = False
    voted: bool = False

    @rx.event
    async def load(self) -> None:
        slug = self.router.url.path.rstrip("/").rsplit("/", 1)[-1][:80]
        self.voted = False
        try:
            article = await run_in_session(
                lambda session: help_service.get_article(session=session, slug=slug)
            )
        except SayZhongError:
            self.missing, self.title, self.html = True, "Article not found", ""
            return
        self.missing = False
        self.slug, self.title, self.category = article.slug, article.title, article.category_label
        self.html, self.updated = article.html, article.updated_at.strftime("%Y-%m-%d")
        user = await (await self.get_state(SessionState)).current_user()
        if user is not None:
            user_id = user.id
            await run_in_session(
                lambda session: help_service.touch_help_session(
                    session=session, user_id=user_id, viewed_article=True
                )
            )

    @rx.event
    async def vote(self, helpful: bool) -> None:
        if self.voted or not self.slug:
            return
        user = await (await self.get_state(SessionState)).current_user()
        slug, user_id = self.slug, (user.id if user else None)
        try:
            await run_in_session(
                lambda session: help_service.record_feedback(
                    session=session, slug=slug, helpful=bool(helpful), user_id=user_id
                )
            )
        except SayZhongError:
            return
        self.voted = True


class HelpDrawerState(rx.State):
    """The help button on every learner page: that page's articles, microphone fixes first after a failure."""

    open: bool = False
    page: str = ""
    articles: list[ArticleLink] = []

    @rx.event
    async def show(self, page: str) -> None:
        page = str(page)[:20]
        failed = False
        if page == "practice":
            from state.practice import PracticeState

            practice_state = await self.get_state(PracticeState)
            failed = bool(practice_state.mic_error or practice_state.error)
        items = await run_in_session(
            lambda session: help_service.articles_for_page(
                session=session, page=page, last_take_failed=failed
            )
        )
        self.page = page
        self.articles = [ArticleLink(a.title, a.summary, routes.help_article_url(a.slug)) for a in items]
        self.open = True
        user = await (await self.get_state(SessionState)).current_user()
        if user is not None:
            user_id = user.id
            await run_in_session(
                lambda session: help_service.touch_help_session(session=session, user_id=user_id)
            )

    @rx.event
    def set_open(self, value: bool) -> None:
        self.open = bool(value)

    @rx.var
    def contact_href(self) -> str:
        return f"{routes.SUPPORT_NEW}?from={self.page}" if self.page else routes.SUPPORT_NEW


class VerdictFeedbackState(rx.State):
    """ "Was this right?" on syllable verdicts: stored with the attempt and the tones judged; a
    disputed take is shared for engine evaluation only when the learner asks."""

    answered: rx.Field[list[str]] = rx.field(default_factory=list)
    disputed: rx.Field[list[str]] = rx.field(default_factory=list)
    shared: rx.Field[list[str]] = rx.field(default_factory=list)

    async def _record(self, attempt_id: object, position: object, answer: str) -> str:
        user = await (await self.get_state(SessionState)).current_user()
        attempt, pos = _int(attempt_id), _position(position)
        if user is None or not attempt or pos < 0:
            return ""
        user_id = user.id
        try:
            await run_in_session(
                lambda session: feedback.record_verdict_feedback(
                    session=session,
                    user_id=user_id,
                    attempt_id=attempt,
                    position=pos,
                    answer=answer,
                )
            )
        except SayZhongError:
            return ""
        return f"{attempt}-{pos}"

    @rx.event
    async def answer(self, attempt_id: int, position: int, answer: str) -> None:
        key = await self._record(attempt_id, position, str(answer)[:12])
        if key:
            self.answered = [*self.answered, key][-200:]
            if answer != "yes":
                self.disputed = [*self.disputed, key][-200:]

    @rx.event
    async def share(self, attempt_id: int, position: int) -> None:
        attempt, pos = _int(attempt_id), _position(position)
        key = f"{attempt}-{pos}"
        user = await (await self.get_state(SessionState)).current_user()
        if user is None or key not in self.disputed:
            return
        user_id = user.id
        try:
            await run_in_session(
                lambda session: feedback.share_disputed_take(
                    session=session, user_id=user_id, attempt_id=attempt, position=pos
                )
            )
        except SayZhongError:
            return
        self.shared = [*self.shared, key][-200:]


class NpsState(rx.State):
    """The occasional "How likely are you to recommend SayZhong?" (at most once per 90 days)."""

    due: bool = False
    thanks: bool = False

    async def _user_id(self) -> int:
        user = await (await self.get_state(SessionState)).current_user()
        return user.id if user else 0

    def show(self, due: bool) -> None:
        """Set by the home page's loader, which asks `feedback.should_ask_nps` in its own unit of work."""
        self.due, self.thanks = due, False

    async def _answer(self, score: int | None) -> None:
        user_id = await self._user_id()
        if not user_id:
            return
        try:
            await run_in_session(
                lambda session: feedback.answer_nps(session=session, user_id=user_id, score=score)
            )
        except SayZhongError:
            pass
        self.due, self.thanks = False, score is not None

    @rx.event
    async def answer(self, score: int) -> None:
        value = _position(score)
        if 0 <= value <= 10:
            await self._answer(value)

    @rx.event
    async def dismiss(self) -> None:
        await self._answer(None)


# --- learner tickets ---------------------------------------------------------------------------------


class NewTicketState(rx.State):
    category: str = ""
    subject: str = ""
    message: str = ""
    attach_take: bool = False
    from_page: str = ""
    error: str = ""
    busy: bool = False

    @rx.event
    def load(self) -> None:
        params = self.router.url.query_parameters
        self.from_page = str(params.get("from", ""))[:40]
        self.category = (
            str(params.get("category", "")) if params.get("category") in support.CATEGORY_CHOICES else ""
        )
        self.subject = str(params.get("subject", ""))[:200]
        self.message, self.attach_take, self.error, self.busy = "", False, "", False

    @rx.event
    def set_category(self, value: str) -> None:
        self.category = str(value)[:20]

    @rx.event
    def set_subject(self, value: str) -> None:
        self.subject = str(value)[:200]

    @rx.event
    def set_message(self, value: str) -> None:
        self.message = str(value)[: support.MAX_BODY]

    @rx.event
    def set_attach_take(self, value: bool) -> None:
        self.attach_take = bool(value)

    async def _create(self, attachment: support.UploadedFile | None):
        self.error = ""
        session_state = await self.get_state(SessionState)
        user = await session_state.current_user()
        if user is None:
            yield rx.redirect(routes.sign_in_url(routes.SUPPORT_NEW))
            return
        context = {
            "page": self.from_page or "help centre",
            "browser": session_state.user_agent(),
            "app_version": APP_VERSION,
            "plan": "free",
        }
        user_id, subject, body, category, take = (
            user.id,
            self.subject,
            self.message,
            self.category,
            self.attach_take,
        )
        self.busy = True
        yield
        try:
            detail = await run_in_session(
                lambda session: support.create_ticket(
                    session=session,
                    user_id=user_id,
                    subject=subject,
                    body=body,
                    category=category,
                    context=context,
                    attachment=attachment,
                    attach_last_take=take,
                )
            )
        except SayZhongError as exc:
            self.error, self.busy = exc.user_message, False
            return
        self.busy = False
        # No rx.clear_selected_files here: it runs a script through eval, which the CSP forbids; the
        # page is left at once, and the upload form starts empty when it is opened again.
        yield rx.redirect(f"{routes.SUPPORT}?ticket={detail.summary.id}")

    @rx.event
    async def submit(self):
        async for event in self._create(None):
            yield event

    @rx.event
    async def submit_with_file(self, files: list[rx.UploadFile]):
        attachment = None
        if files:
            upload = files[0]
            data = await upload.read(support.MAX_ATTACHMENT_BYTES + 1)
            if len(data) > support.MAX_ATTACHMENT_BYTES:
                self.error = "Attachments can be at most 5 MB."
                return
            attachment = support.UploadedFile(filename=str(upload.name or "attachment"), data=data)
        async for event in self._create(attachment):
            yield event


class MyTicketsState(rx.State):
    tickets: rx.Field[list[dict[str, Any]]] = rx.field(default_factory=list)
    ticket_id: int = 0
    subject: str = ""
    status: str = ""
    status_label: str = ""
    body: str = ""
    created: str = ""
    messages: rx.Field[list[dict[str, Any]]] = rx.field(default_factory=list)
    attachments: list[dict[str, Any]] = []
    csat: rx.Field[int] = rx.field(0)
    reply: str = ""
    error: str = ""
    notice: str = ""

    async def _user_id(self) -> int:
        user = await (await self.get_state(SessionState)).current_user()
        return user.id if user else 0

    async def _open(self, user_id: int, ticket_id: int) -> None:
        try:
            detail = await run_in_session(
                lambda session: support.get_ticket_for_learner(
                    session=session, user_id=user_id, ticket_id=ticket_id
                )
            )
        except SayZhongError as exc:
            self.ticket_id, self.error = 0, exc.user_message
            return
        self.ticket_id = detail.summary.id
        self.subject, self.status = detail.summary.subject, detail.summary.status
        self.status_label = STATUS_LABELS.get(detail.summary.status, detail.summary.status)
        self.body, self.created = detail.body, _when(detail.summary.created_at)
        self.messages, self.attachments = _messages(detail), _attachments(detail)
        self.csat = detail.summary.csat_score or 0

    @rx.event
    async def load(self) -> None:
        self.error = self.notice = self.reply = ""
        user_id = await self._user_id()
        if not user_id:
            return
        tickets = await run_in_session(
            lambda session: support.list_my_tickets(session=session, user_id=user_id)
        )
        self.tickets = [_ticket_row(t) for t in tickets]
        ticket_id = _int(self.router.url.query_parameters.get("ticket", ""))
        self.ticket_id = 0
        if ticket_id:
            await self._open(user_id, ticket_id)

    @rx.event
    def set_reply(self, value: str) -> None:
        self.reply = str(value)[: support.MAX_BODY]

    @rx.event
    async def send_reply(self) -> None:
        user_id, ticket_id, body = await self._user_id(), self.ticket_id, self.reply
        if not user_id or not ticket_id:
            return
        try:
            await run_in_session(
                lambda session: support.learner_reply(
                    session=session, user_id=user_id, ticket_id=ticket_id, body=body
                )
            )
        except SayZhongError as exc:
            self.error = exc.user_message
            return
        self.reply, self.error = "", ""
        await self._open(user_id, ticket_id)

    @rx.event
    async def rate(self, score: int) -> None:
        user_id, ticket_id = await self._user_id(), self.ticket_id
        score = _int(score)
        try:
            await run_in_session(
                lambda session: support.rate_ticket(
                    session=session, user_id=user_id, ticket_id=ticket_id, score=score
                )
            )
        except SayZhongError as exc:
            self.error = exc.user_message
            return
        self.csat = score
        self.notice = "Thank you for rating our help."


class CsatLinkState(rx.State):
    """One click from the e-mail: the signed link records the score; a comment can follow."""

    token: str = ""
    score: rx.Field[int] = rx.field(0)
    done: bool = False
    error: str = ""
    comment_saved: bool = False

    async def _record(self, comment: str = "") -> None:
        token, score = self.token, self.score
        try:
            await run_in_session(
                lambda session: support.rate_ticket(
                    session=session, user_id=None, ticket_id=0, score=score, comment=comment, token=token
                )
            )
        except SayZhongError as exc:
            self.error, self.done = exc.user_message, False
            return
        self.done, self.error = True, ""

    @rx.event
    async def load(self) -> None:
        params = self.router.url.query_parameters
        self.token, self.score = str(params.get("t", ""))[:200], _int(params.get("s", ""))
        self.comment_saved = False
        await self._record()

    @rx.event
    async def save_comment(self, form: dict[str, Any]) -> None:
        comment = form.get("comment", "")
        await self._record(comment[:1000] if isinstance(comment, str) else "")
        self.comment_saved = self.done


# --- staff -------------------------------------------------------------------------------------------


class StaffInboxState(StaffState):
    tickets: list[dict[str, Any]] = []
    agents: list[dict[str, Any]] = []
    queue: str = ""
    status: str = "active"
    priority: str = ""
    mine: bool = False
    queues: list[str] = ["", *QUEUES]
    priorities: list[str] = ["", *PRIORITIES]
    statuses: list[str] = ["active", "", *support.STATUSES]
    breaches: rx.Field[int] = rx.field(0)

    async def _reload(self) -> None:
        actor = await self._staff(*support.AGENT_ROLES)
        if actor is None:
            self.tickets, self.agents = [], []
            return
        queue, status, priority = self.queue, self.status, self.priority
        assignee = actor.id if self.mine else None
        tickets = await run_in_session(
            lambda session: support.list_tickets(
                session=session,
                actor=actor,
                queue=queue,
                status=status,
                priority=priority,
                assignee_id=assignee,
            )
        )
        agents = await run_in_session(lambda session: support.list_agents(session=session, actor=actor))
        self.tickets = [_ticket_row(t) for t in tickets]
        self.breaches = sum(1 for t in tickets if "breached" in (t.first_response_sla, t.resolution_sla))
        self.agents = [
            {"id": a.user_id, "name": a.name, "capacity": a.capacity, "away": a.away, "open": a.open_tickets}
            for a in agents
        ]

    @rx.event
    async def load(self) -> None:
        await self._reload()

    @rx.event
    async def filter_queue(self, value: str) -> None:
        self.queue = value if value in QUEUES else ""
        await self._reload()

    @rx.event
    async def filter_status(self, value: str) -> None:
        self.status = value if value in support.STATUSES or value == "active" else ""
        await self._reload()

    @rx.event
    async def filter_priority(self, value: str) -> None:
        self.priority = value if value in PRIORITIES else ""
        await self._reload()

    @rx.event
    async def toggle_mine(self, value: bool) -> None:
        self.mine = bool(value)
        await self._reload()

    @rx.event
    async def toggle_away(self, user_id: int, away: bool) -> None:
        actor = await self._staff(*support.AGENT_ROLES)
        if actor is None:
            return
        target = _int(user_id)
        try:
            await run_in_session(
                lambda session: support.set_agent(
                    session=session, actor=actor, user_id=target, away=bool(away)
                )
            )
        except SayZhongError:
            return
        await self._reload()


class StaffTicketState(StaffState):
    ticket_id: int = 0
    subject: str = ""
    body: str = ""
    learner: str = ""
    queue: str = ""
    priority: str = ""
    status: str = ""
    assignee: str = ""
    confidence: str = ""
    routed_by: str = ""
    first_sla: str = ""
    resolution_sla: str = ""
    csat: str = ""
    csat_comment: str = ""
    context: list[dict[str, str]] = []
    messages: list[dict[str, Any]] = []
    attachments: list[dict[str, Any]] = []
    history: list[str] = []
    macros: rx.Field[list[dict[str, Any]]] = rx.field(default_factory=list)
    agents: list[dict[str, Any]] = []
    reply: str = ""
    reply_status: str = "waiting"
    note: str = ""
    merge_into: str = ""
    message: str = ""
    error: str = ""
    queues: list[str] = list(QUEUES)
    priorities: list[str] = list(PRIORITIES)
    statuses: list[str] = list(support.STATUSES)

    async def _reload(self) -> None:
        actor = await self._staff(*support.AGENT_ROLES)
        if actor is None or not self.ticket_id:
            return
        ticket_id = self.ticket_id
        try:
            detail = await run_in_session(
                lambda session: support.get_ticket_for_staff(
                    session=session, actor=actor, ticket_id=ticket_id
                )
            )
        except SayZhongError as exc:
            self.error, self.ticket_id = exc.user_message, 0
            return
        s = detail.summary
        self.subject, self.body, self.learner = s.subject, detail.body, s.learner
        self.queue, self.priority, self.status, self.assignee = s.queue, s.priority, s.status, s.assignee
        self.confidence = f"{detail.routing_confidence:.0%}"
        self.routed_by = detail.routed_by
        self.first_sla, self.resolution_sla = s.first_response_sla, s.resolution_sla
        self.csat, self.csat_comment = (str(s.csat_score) if s.csat_score else ""), detail.csat_comment
        self.context = [{"key": k, "value": v} for k, v in detail.context.items()]
        self.messages, self.attachments, self.history = (
            _messages(detail),
            _attachments(detail),
            detail.history,
        )
        macros = await run_in_session(lambda session: support.list_macros(session=session, actor=actor))
        self.macros = [{"id": m.id, "title": m.title, "body": m.body} for m in macros]
        agents = await run_in_session(lambda session: support.list_agents(session=session, actor=actor))
        self.agents = [{"id": str(a.user_id), "name": a.name} for a in agents]

    @rx.event
    async def load(self) -> None:
        self.message = self.error = self.reply = self.note = self.merge_into = ""
        self.reply_status = "waiting"
        self.ticket_id = _int(self.router.url.query_parameters.get("ticket", ""))
        await self._reload()

    @rx.event
    def set_reply(self, value: str) -> None:
        self.reply = str(value)[: support.MAX_BODY]

    @rx.event
    def set_reply_status(self, value: str) -> None:
        self.reply_status = value if value in ("open", "waiting", "resolved") else "waiting"

    @rx.event
    def set_note(self, value: str) -> None:
        self.note = str(value)[: support.MAX_BODY]

    @rx.event
    def set_merge_into(self, value: str) -> None:
        self.merge_into = str(value)[:12]

    @rx.event
    def use_macro(self, macro_id: str) -> None:
        chosen = next((m for m in self.macros if str(m["id"]) == str(macro_id)), None)
        if chosen is not None:
            self.reply = (self.reply + "\n\n" if self.reply else "") + str(chosen["body"])

    async def _act(self, action: Any, done: str) -> None:
        session_state = await self.get_state(SessionState)
        actor = await session_state.current_user()
        self.message = self.error = ""
        if actor is None:
            self.error = "Please sign in again."
            return
        try:
            await run_in_session(lambda session: action(session, actor))
        except SayZhongError as exc:
            self.error = exc.user_message
            return
        self.message = done
        await self._reload()

    @rx.event
    async def send_reply(self) -> None:
        ticket_id, body, status = self.ticket_id, self.reply, self.reply_status
        await self._act(
            lambda session, actor: support.staff_reply(
                session=session, actor=actor, actor_id=actor.id, ticket_id=ticket_id, body=body, status=status
            ),
            "Reply sent to the learner (in the app and by e-mail).",
        )
        if not self.error:
            self.reply = ""

    @rx.event
    async def add_note(self) -> None:
        ticket_id, body = self.ticket_id, self.note
        await self._act(
            lambda session, actor: support.add_note(
                session=session, actor=actor, actor_id=actor.id, ticket_id=ticket_id, body=body
            ),
            "Internal note added.",
        )
        if not self.error:
            self.note = ""

    @rx.event
    async def change_status(self, status: str) -> None:
        ticket_id, status = self.ticket_id, str(status)[:20]
        await self._act(
            lambda session, actor: support.set_status(
                session=session, actor=actor, actor_id=actor.id, ticket_id=ticket_id, status=status
            ),
            "Status changed.",
        )

    @rx.event
    async def change_routing(self, queue: str, priority: str) -> None:
        ticket_id, queue, priority = self.ticket_id, str(queue)[:20], str(priority)[:10]
        await self._act(
            lambda session, actor: support.reroute(
                session=session,
                actor=actor,
                actor_id=actor.id,
                ticket_id=ticket_id,
                queue=queue,
                priority=priority,
            ),
            "Routing corrected (kept as training data).",
        )

    @rx.event
    async def set_queue(self, queue: str) -> None:
        await self.change_routing(queue, self.priority)  # type: ignore[operator]  # see components/props.py

    @rx.event
    async def set_priority(self, priority: str) -> None:
        await self.change_routing(self.queue, priority)  # type: ignore[operator]  # see components/props.py

    @rx.event
    async def assign_to(self, agent_id: str) -> None:
        ticket_id, agent = self.ticket_id, (_int(agent_id) or None)
        await self._act(
            lambda session, actor: support.assign(
                session=session, actor=actor, actor_id=actor.id, ticket_id=ticket_id, agent_id=agent
            ),
            "Assignment changed.",
        )

    @rx.event
    async def merge(self) -> None:
        ticket_id, into = self.ticket_id, _int(self.merge_into.lstrip("#"))
        await self._act(
            lambda session, actor: support.merge(
                session=session, actor=actor, actor_id=actor.id, ticket_id=ticket_id, into_id=into
            ),
            f"Merged into #{into}.",
        )

    @rx.event
    async def save_macro(self, form: dict[str, Any]) -> None:
        title, body = str(form.get("title", ""))[:100], str(form.get("body", ""))[: support.MAX_BODY]
        await self._act(
            lambda session, actor: support.save_macro(session=session, actor=actor, title=title, body=body),
            "Saved reply stored.",
        )


class StaffArticlesState(StaffState):
    articles: list[dict[str, Any]] = []
    slug: str = ""
    title: str = ""
    body: str = ""
    revisions: list[dict[str, Any]] = []
    message: str = ""
    error: str = ""

    async def _reload(self) -> None:
        actor = await self._staff(*help_service.EDITOR_ROLES)
        if actor is None:
            return
        categories = await run_in_session(lambda session: help_service.list_categories(session=session))
        counts = await run_in_session(lambda session: help_service.feedback_counts(session=session))
        self.articles = [
            {
                "slug": a.slug,
                "title": a.title,
                "category": c.label,
                "helpful": counts.get(a.slug, (0, 0))[0],
                "unhelpful": counts.get(a.slug, (0, 0))[1],
            }
            for c in categories
            for a in c.articles
        ]

    @rx.event
    async def load(self) -> None:
        self.message = self.error = ""
        await self._reload()
        slug = str(self.router.url.query_parameters.get("a", ""))[:80]
        if slug:
            await self.edit(slug)  # type: ignore[operator]  # see components/props.py

    @rx.event
    async def edit(self, slug: str) -> None:
        actor = await self._staff(*help_service.EDITOR_ROLES)
        if actor is None:
            return
        slug = str(slug)[:80]
        try:
            article = await run_in_session(
                lambda session: help_service.get_article(session=session, slug=slug)
            )
            revisions = await run_in_session(
                lambda session: help_service.list_revisions(session=session, actor=actor, slug=slug)
            )
        except SayZhongError as exc:
            self.error = exc.user_message
            return
        self.slug, self.title, self.body = article.slug, article.title, article.body
        self.revisions = [
            {"revision": r.revision, "title": r.title, "note": r.note or "—", "when": _when(r.created_at)}
            for r in revisions
        ]

    @rx.event
    async def save(self, form: dict[str, Any]) -> None:
        session_state = await self.get_state(SessionState)
        actor = await session_state.current_user()
        if actor is None or not self.slug:
            return
        slug = self.slug
        title, body = (
            str(form.get("title", ""))[:200],
            str(form.get("body", ""))[: help_service.MAX_ARTICLE_CHARS],
        )
        note = str(form.get("note", ""))[:200]
        try:
            info = await run_in_session(
                lambda session: help_service.update_article(
                    session=session,
                    actor=actor,
                    actor_id=actor.id,
                    slug=slug,
                    title=title,
                    body=body,
                    note=note,
                )
            )
        except SayZhongError as exc:
            self.error, self.message = exc.user_message, ""
            return
        self.error, self.message = "", f"Saved revision {info.revision}."
        await self.edit(slug)  # type: ignore[operator]  # see components/props.py
        await self._reload()


class StaffAnalysisState(StaffState):
    tickets: rx.Field[int] = rx.field(0)
    per_day: list[dict[str, Any]] = []
    first_median: str = "—"
    first_p90: str = "—"
    resolution_median: str = "—"
    resolution_p90: str = "—"
    sla_met: str = "—"
    csat_average: str = "—"
    csat_distribution: list[dict[str, Any]] = []
    self_service: str = "—"
    help_sessions: rx.Field[int] = rx.field(0)
    failed_searches: rx.Field[list[dict[str, Any]]] = rx.field(default_factory=list)
    routing_accuracy: str = "—"
    corrections: rx.Field[int] = rx.field(0)
    nps: str = "—"

    @rx.event
    async def load(self) -> None:
        actor = await self._staff(*support.AGENT_ROLES)
        if actor is None:
            return
        since = utcnow() - timedelta(days=30)
        figures = await run_in_session(
            lambda session: support.support_figures(session=session, actor=actor, since=since)
        )
        stats = await run_in_session(
            lambda session: help_service.self_service_stats(session=session, since=since)
        )
        failed = await run_in_session(
            lambda session: help_service.top_failed_searches(session=session, since=since)
        )

        def hours(seconds: float | None) -> str:
            return "—" if seconds is None else f"{seconds / 3600:.1f} h"

        def share(value: float | None) -> str:
            return "—" if value is None else f"{value:.0%}"

        self.tickets = figures.tickets
        self.per_day = [{"day": d, "queue": q, "count": n} for d, q, n in figures.tickets_per_queue_day]
        self.first_median, self.first_p90 = (
            hours(figures.first_response_median_s),
            hours(figures.first_response_p90_s),
        )
        self.resolution_median = hours(figures.resolution_median_s)
        self.resolution_p90 = hours(figures.resolution_p90_s)
        self.sla_met = share(figures.sla_met_share)
        self.csat_average = "—" if figures.csat_average is None else f"{figures.csat_average:.1f} / 5"
        self.csat_distribution = [{"score": k, "count": v} for k, v in figures.csat_distribution.items()]
        self.self_service, self.help_sessions = share(stats.rate), stats.sessions
        self.failed_searches = [{"query": q, "count": n} for q, n in failed]
        self.routing_accuracy, self.corrections = share(figures.routing_accuracy), figures.corrections
        score, answers = await run_in_session(
            lambda session: feedback.nps_score(session=session, actor=actor, since=since - timedelta(days=60))
        )
        self.nps = "—" if score is None else f"{score:+.0f} ({answers} answers)"


@dataclasses.dataclass
class DisagreementView:
    key: str
    answers: int
    disputed: int
    share: str


class StaffScoringState(StaffState):
    """Disagreement with tone verdicts, from the learners' "Was this right?" answers (last 90 days)."""

    answers: rx.Field[int] = rx.field(0)
    disputed: rx.Field[int] = rx.field(0)
    by_tone: list[DisagreementView] = []
    by_pair: list[DisagreementView] = []
    by_phrase: list[DisagreementView] = []
    by_engine: list[DisagreementView] = []

    @rx.event
    async def load(self) -> None:
        actor = await self._staff(*feedback.ANALYST_ROLES)
        if actor is None:
            return
        since = utcnow() - timedelta(days=90)
        report = await run_in_session(
            lambda session: feedback.disagreement_report(session=session, actor=actor, since=since)
        )

        def rows(items: list[feedback.DisagreementRow]) -> list[DisagreementView]:
            return [DisagreementView(r.key, r.answers, r.disputed, f"{r.share:.0%}") for r in items]

        self.answers, self.disputed = report.answers, report.disputed
        self.by_tone, self.by_pair = rows(report.by_tone), rows(report.by_tone_pair)
        self.by_phrase, self.by_engine = rows(report.by_phrase[:30]), rows(report.by_engine)
