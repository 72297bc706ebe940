"""Live chat: the learner's chat (/support/chat) and the agent console (/admin/support/chat)."""

import reflex as rx

from components.props import Row
from pages.template import template
from sayzhong import routes
from state.chat import AgentConsoleState, LearnerChatState


def _line(line: Row) -> rx.Component:
    return rx.box(
        rx.cond(
            line.role == "system",
            rx.text(line.body, size="1", color=rx.color("gray", 11), font_style="italic"),
            rx.vstack(
                rx.text(line.author, " · ", line.when, size="1", color=rx.color("gray", 11)),
                rx.text(line.body, white_space="pre-wrap", size="2"),
                spacing="0",
            ),
        ),
        padding="0.5em 0.75em",
        border_radius="8px",
        background_color=rx.cond(line.role == "agent", rx.color("blue", 3), rx.color("gray", 2)),
        width="100%",
        data_testid="chat-line",
    )


def _conversation(state, *, other: str) -> rx.Component:
    return rx.vstack(
        rx.box(
            rx.vstack(rx.foreach(state.lines, _line), spacing="2", width="100%"),
            role="log",
            aria_label="Conversation",
            aria_live="polite",
            width="100%",
            max_height="420px",
            overflow_y="auto",
            padding="0.5em",
            border=f"1px solid {rx.color('gray', 5)}",
            border_radius="8px",
        ),
        rx.cond(state.other_typing, rx.text(other + " is typing…", size="1", role="status")),
        rx.cond(
            (state.status == "waiting") | (state.status == "active"),
            rx.hstack(
                rx.input(
                    value=state.draft,
                    on_change=state.set_draft,
                    placeholder="Write a message…",
                    aria_label="Message",
                    max_length=2000,
                    width="100%",
                ),
                rx.button("Send", on_click=state.send),
                width="100%",
            ),
        ),
        rx.cond(state.error != "", rx.callout(state.error, color_scheme="red", role="alert")),
        spacing="2",
        width="100%",
    )


@template(routes.SUPPORT_CHAT, "Live chat", access="user", on_load=[LearnerChatState.load], max_width="720px")
def learner_chat() -> rx.Component:
    s = LearnerChatState
    return rx.vstack(
        rx.heading("Chat with support", size="8", as_="h1"),
        rx.text(
            "Monday–Friday, 09:00–17:00 UTC. Your messages are saved as you send them.",
            color=rx.color("gray", 11),
        ),
        rx.cond(
            s.chat_id > 0,
            rx.vstack(
                rx.cond(
                    s.status == "waiting",
                    rx.callout(
                        "You are number " + s.queue_position.to_string() + " in the queue.",
                        icon="clock",
                        role="status",
                    ),
                ),
                rx.cond(
                    s.ticket_id > 0,
                    rx.callout(
                        rx.link(
                            "See ticket #" + s.ticket_id.to_string(),
                            href=routes.SUPPORT + "?ticket=" + s.ticket_id.to_string(),
                        ),
                        icon="ticket",
                    ),
                ),
                _conversation(s, other="Support"),
                rx.hstack(
                    rx.cond(
                        (s.status == "waiting") | (s.status == "active"),
                        rx.button("End chat", variant="soft", color_scheme="gray", on_click=s.end),
                        rx.button("Start a new chat", variant="soft", on_click=s.start),
                    ),
                    rx.button("E-mail me the transcript", variant="soft", on_click=s.email_transcript),
                    rx.cond(s.transcript_sent, rx.text("Transcript sent.", size="2", role="status")),
                    spacing="3",
                    align="center",
                ),
                width="100%",
            ),
            rx.button("Start a chat", on_click=s.start),
        ),
        spacing="4",
        width="100%",
    )


def _item(item: Row) -> rx.Component:
    return rx.button(
        rx.cond(item.status == "active", "● ", "◌ "),
        item.learner,
        rx.cond(item.status == "waiting", " (waiting #" + item["position"].to_string() + ")", ""),
        variant=rx.cond(item.id == AgentConsoleState.chat_id, "solid", "soft"),
        on_click=AgentConsoleState.open_chat(item.id),  # type: ignore[operator]  # see components/props.py
        width="100%",
        justify="start",
    )


@template(routes.STAFF_CHAT, "Chat console", access="staff", on_load=[AgentConsoleState.load])
def agent_console() -> rx.Component:
    s = AgentConsoleState
    return rx.vstack(
        rx.heading("Chat console", size="8", as_="h1"),
        rx.cond(s.denied != "", rx.callout(s.denied, color_scheme="red", role="alert")),
        rx.text(
            "While this page is open you are online for live chat; waiting chats come to you oldest first.",
            color=rx.color("gray", 11),
        ),
        rx.grid(
            rx.vstack(
                rx.heading("Conversations", size="4", as_="h2"),
                rx.foreach(s.items, _item),
                rx.cond(s.items.length() == 0, rx.text("Nobody is waiting.", size="2")),
                spacing="2",
                width="100%",
            ),
            rx.cond(
                s.chat_id > 0,
                rx.vstack(
                    rx.heading(s.learner, size="4", as_="h2"),
                    _conversation(s, other="The learner"),
                    rx.button("End chat", variant="soft", color_scheme="gray", on_click=s.end),
                    width="100%",
                ),
                rx.text("Choose a conversation."),
            ),
            columns=rx.breakpoints(initial="1", md="1fr 2fr"),
            spacing="5",
            width="100%",
        ),
        spacing="4",
        width="100%",
    )
