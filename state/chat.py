"""Live chat states: the learner's chat page and the agent's console.

Both poll the database once a second in a background task while the page is open: what they show
is only ever what is stored, listed by id, so a reconnect (page reload or dropped socket) reloads
the stored conversation and shows nothing twice. Each send carries a key made when the draft
started, so a send repeated after a reconnect is stored once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
import time

import reflex as rx

from sayzhong import routes
from sayzhong.errors import SayZhongError
from sayzhong.support import chat
from sayzhong.support import service as support
from state.admin import StaffState
from state.session import SessionState, run_in_session

POLL_S = 1.0
POLL_MINUTES = 30
TYPING_EVERY_S = 2.0


@dataclasses.dataclass
class ChatLine:
    id: int
    role: str
    author: str
    body: str
    when: str


def _lines(messages: list[chat.ChatMessageInfo]) -> list[ChatLine]:
    return [ChatLine(m.id, m.role, m.author, m.body, m.created_at.strftime("%H:%M")) for m in messages]


class _ChatBase(rx.State, mixin=True):
    chat_id: int = 0
    status: str = ""
    lines: list[ChatLine] = []
    draft: str = ""
    other_typing: bool = False
    queue_position: rx.Field[int] = rx.field(0)
    ticket_id: rx.Field[int] = rx.field(0)
    error: str = ""
    _draft_key: str = ""
    _polling: str = ""
    _typing_sent: float = 0.0

    async def _viewer(self):
        return await (await self.get_state(SessionState)).current_user()

    def _apply(self, info: chat.ChatInfo) -> None:
        self.chat_id, self.status = info.id, info.status
        self.other_typing, self.queue_position = info.other_typing, info.queue_position
        self.ticket_id = info.ticket_id or 0

    def _merge(self, messages: list[chat.ChatMessageInfo]) -> None:
        known = {line.id for line in self.lines}
        fresh = [line for line in _lines(messages) if line.id not in known]
        if fresh:
            self.lines = sorted([*self.lines, *fresh], key=lambda line: line.id)

    async def _refresh(self) -> None:
        viewer = await self._viewer()
        if viewer is None or not self.chat_id:
            return
        chat_id, after, viewer_id = self.chat_id, (self.lines[-1].id if self.lines else 0), viewer.id
        try:
            info, messages = await run_in_session(
                lambda s: (
                    chat.get_chat(session=s, chat_id=chat_id, viewer_id=viewer_id, viewer=viewer),
                    chat.messages_after(
                        session=s, chat_id=chat_id, viewer_id=viewer_id, viewer=viewer, after_id=after
                    ),
                )
            )
        except SayZhongError as exc:
            self.error = exc.user_message
            return
        self._apply(info)
        self._merge(messages)

    @rx.event
    async def set_draft(self, value: str) -> None:
        self.draft = str(value)[: chat.MAX_MESSAGE]
        if not self._draft_key:
            self._draft_key = secrets.token_urlsafe(16)
        if self.chat_id and time.monotonic() - self._typing_sent > TYPING_EVERY_S:
            self._typing_sent = time.monotonic()
            viewer = await self._viewer()
            if viewer is not None:
                chat_id, viewer_id = self.chat_id, viewer.id
                await run_in_session(
                    lambda s: chat.set_typing(session=s, chat_id=chat_id, viewer_id=viewer_id, viewer=viewer)
                )

    @rx.event
    async def send(self) -> None:
        viewer = await self._viewer()
        if viewer is None or not self.chat_id or not self.draft.strip():
            return
        key = self._draft_key or secrets.token_urlsafe(16)
        chat_id, body, viewer_id = self.chat_id, self.draft, viewer.id
        try:
            info = await run_in_session(
                lambda s: chat.post_message(
                    session=s, chat_id=chat_id, viewer_id=viewer_id, viewer=viewer, body=body, client_key=key
                )
            )
        except SayZhongError as exc:
            self.error = exc.user_message
            return
        self.draft, self._draft_key, self.error = "", "", ""
        self._apply(info)
        await self._refresh()

    @rx.event(background=True)
    async def poll(self) -> None:
        """Refresh once a second while this page is open (a newer poll replaces this one)."""
        token = secrets.token_hex(8)
        async with self:
            self._polling = token
        deadline = time.monotonic() + POLL_MINUTES * 60
        while time.monotonic() < deadline:
            await asyncio.sleep(POLL_S)
            async with self:
                path = self.router.url.path.rstrip("/")
                if self._polling != token or path not in (routes.SUPPORT_CHAT, routes.STAFF_CHAT):
                    return
                await self._tick()

    async def _tick(self) -> None:
        await self._refresh()


class LearnerChatState(_ChatBase, rx.State):
    transcript_sent: bool = False

    @rx.event
    async def load(self):
        self.lines, self.error, self.chat_id = [], "", 0
        viewer = await self._viewer()
        if viewer is None:
            return
        viewer_id = viewer.id
        info = await run_in_session(lambda s: chat.latest_chat(session=s, user_id=viewer_id))
        if info is not None and info.status in chat.OPEN:
            self._apply(info)
            await self._refresh()
        else:
            self.status = ""
        return LearnerChatState.poll

    @rx.event
    async def start(self) -> None:
        viewer = await self._viewer()
        if viewer is None:
            return
        viewer_id = viewer.id
        try:
            info = await run_in_session(lambda s: chat.start_chat(session=s, user_id=viewer_id))
        except SayZhongError as exc:
            self.error = exc.user_message
            return
        self.lines = []
        self._apply(info)
        await self._refresh()

    @rx.event
    async def end(self) -> None:
        viewer = await self._viewer()
        if viewer is None or not self.chat_id:
            return
        chat_id, viewer_id = self.chat_id, viewer.id
        await run_in_session(
            lambda s: chat.close_chat(session=s, chat_id=chat_id, viewer_id=viewer_id, viewer=viewer)
        )
        await self._refresh()

    @rx.event
    async def email_transcript(self) -> None:
        viewer = await self._viewer()
        if viewer is None or not self.chat_id:
            return
        chat_id, viewer_id = self.chat_id, viewer.id
        await run_in_session(lambda s: chat.email_transcript(session=s, chat_id=chat_id, user_id=viewer_id))
        self.error, self.transcript_sent = "", True


@dataclasses.dataclass
class ConsoleItem:
    id: int
    status: str
    learner: str
    position: int


class AgentConsoleState(_ChatBase, StaffState):
    items: rx.Field[list[ConsoleItem]] = rx.field(default_factory=list)
    learner: str = ""

    async def _viewer(self):
        """Every console action goes through the staff check: a support role and two-factor sign-in."""
        return await self._staff(*support.AGENT_ROLES)

    async def _tick(self) -> None:
        viewer = await self._viewer()
        if viewer is None:
            return
        agent_id = viewer.id

        def heartbeat_and_list(s):
            chat.heartbeat(session=s, agent_id=agent_id)
            return chat.console(session=s, agent_id=agent_id)

        infos = await run_in_session(heartbeat_and_list)
        self.items = [ConsoleItem(i.id, i.status, i.learner, i.queue_position) for i in infos]
        if not self.chat_id:
            mine = next((i for i in infos if i.status == "active"), None)
            if mine is not None:
                self.chat_id, self.learner, self.lines = mine.id, mine.learner, []
        await self._refresh()

    @rx.event
    async def load(self):
        self.chat_id, self.lines, self.error = 0, [], ""
        if await self._viewer() is None:  # `_staff` says why in `denied`
            return None
        await self._tick()
        return AgentConsoleState.poll

    @rx.event
    async def open_chat(self, chat_id: int) -> None:
        try:
            self.chat_id = int(chat_id)
        except (TypeError, ValueError):
            return
        self.lines = []
        self.learner = next((i.learner for i in self.items if i.id == self.chat_id), "")
        await self._refresh()

    @rx.event
    async def end(self) -> None:
        viewer = await self._viewer()
        if viewer is None or not self.chat_id:
            return
        chat_id, viewer_id = self.chat_id, viewer.id
        await run_in_session(
            lambda s: chat.close_chat(session=s, chat_id=chat_id, viewer_id=viewer_id, viewer=viewer)
        )
        await self._refresh()
