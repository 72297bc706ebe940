"""Support-centre widgets: the contextual help drawer, highlighted search snippets, message threads.

Untrusted text (article snippets, ticket messages) is rendered as text only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import reflex as rx

from components.props import Handler, Row, VarOr
from sayzhong import routes


def help_drawer(
    *,
    page: str,
    is_open: VarOr[bool],
    articles: VarOr[Sequence[Any]],
    on_show: Handler,
    on_open_change: Handler,
    contact_href: VarOr[str],
) -> rx.Component:
    """A "Help" button opening a side drawer with the articles for `page` and a contact link."""

    def article_link(article: Row) -> rx.Component:
        return rx.box(
            rx.link(article.title, href=article.href, weight="medium"),
            rx.text(article.summary, size="2", color=rx.color("gray", 11)),
            padding_y="0.5em",
            border_bottom=f"1px solid {rx.color('gray', 4)}",
            width="100%",
        )

    return rx.drawer.root(
        rx.button(
            rx.icon("circle-help", size=18),
            rx.text("Help", display=["none", "inline", "inline"]),
            variant="soft",
            color_scheme="gray",
            aria_label="Help for this page",
            on_click=on_show(page),  # type: ignore[operator]  # see components/props.py
        ),
        rx.drawer.overlay(z_index="40"),
        rx.drawer.portal(
            rx.drawer.content(
                rx.vstack(
                    rx.hstack(
                        rx.drawer.title(rx.heading("Help for this page", size="5", as_="h2")),
                        rx.spacer(),
                        rx.drawer.close(
                            rx.icon_button(rx.icon("x", size=18), variant="ghost", aria_label="Close help")
                        ),
                        width="100%",
                        align="center",
                    ),
                    rx.drawer.description(
                        "Articles that answer the usual questions here.", size="2", color=rx.color("gray", 11)
                    ),
                    rx.box(rx.foreach(articles, article_link), width="100%", overflow_y="auto", flex="1"),
                    rx.hstack(
                        rx.link("Search the help centre", href=routes.HELP),
                        rx.spacer(),
                        rx.link("Contact support", href=contact_href, weight="bold"),
                        width="100%",
                        padding_top="0.5em",
                        flex_wrap="wrap",
                    ),
                    spacing="3",
                    height="100%",
                ),
                role="dialog",
                aria_label="Help for this page",
                top="0",
                right="0",
                left="auto",
                height="100%",
                width=["100%", "26em", "26em"],
                padding="1.5em",
                background_color=rx.color("gray", 1),
                position="fixed",
                z_index="50",
            ),
        ),
        direction="right",
        open=is_open,
        on_open_change=on_open_change,
    )


def snippet(parts: VarOr[Sequence[Any]]) -> rx.Component:
    """Search snippet parts as text, the matches in <mark>."""
    return rx.text(
        rx.foreach(
            parts,
            lambda part: rx.cond(part.hl, rx.el.mark(part.text), rx.text.span(part.text)),
        ),
        size="2",
        color=rx.color("gray", 11),
    )


def message_thread(messages: VarOr[Sequence[Any]], *, show_notes: bool = False) -> rx.Component:
    """Messages as plain text (white-space kept), notes marked as internal."""

    def item(message: Row) -> rx.Component:
        return rx.card(
            rx.vstack(
                rx.hstack(
                    rx.text(message["author"], weight="bold", size="2"),
                    rx.cond(
                        message["kind"] == "note",
                        rx.badge("Internal note", color_scheme="amber"),
                        rx.cond(message["kind"] == "staff", rx.badge("Support", color_scheme="blue")),
                    ),
                    rx.spacer(),
                    rx.text(message["when"], size="1", color=rx.color("gray", 11)),
                    width="100%",
                ),
                rx.text(message["body"], white_space="pre-wrap", size="2"),
                spacing="1",
                width="100%",
            ),
            width="100%",
            background_color=rx.cond(message["kind"] == "note", rx.color("amber", 2), rx.color("gray", 1))
            if show_notes
            else rx.color("gray", 1),
            data_testid="ticket-message",
        )

    return rx.vstack(rx.foreach(messages, item), spacing="2", width="100%")


def attachment_list(attachments: VarOr[Sequence[Any]]) -> rx.Component:
    def item(a: Row) -> rx.Component:
        return rx.hstack(
            rx.icon(rx.cond(a["is_audio"], "file-audio", "paperclip"), size=16),
            rx.link(a["name"], href=a["url"], is_external=True),
            rx.text(a["size"], size="1", color=rx.color("gray", 11)),
            rx.cond(a["is_audio"], rx.el.audio(src=a["url"], controls=True, aria_label="Attached take")),
            align="center",
            spacing="2",
            flex_wrap="wrap",
        )

    return rx.vstack(rx.foreach(attachments, item), spacing="1")


def nps_prompt(
    *, due: VarOr[bool], thanks: VarOr[bool], on_answer: Handler, on_dismiss: Handler
) -> rx.Component:
    """The occasional NPS question: 0–10 buttons and "Not now"."""
    return rx.fragment(
        rx.cond(
            due,
            rx.card(
                rx.vstack(
                    rx.text("How likely are you to recommend SayZhong to a friend?", weight="medium"),
                    rx.hstack(
                        *[
                            rx.button(
                                str(n),
                                size="1",
                                variant="soft",
                                on_click=on_answer(n),  # type: ignore[operator]  # see components/props.py
                                aria_label=f"{n} out of 10",
                            )
                            for n in range(11)
                        ],
                        spacing="1",
                        flex_wrap="wrap",
                    ),
                    rx.hstack(
                        rx.text(
                            "0 = not at all, 10 = extremely likely", size="1", color=rx.color("gray", 11)
                        ),
                        rx.spacer(),
                        rx.button("Not now", size="1", variant="ghost", on_click=on_dismiss),
                        width="100%",
                    ),
                    spacing="2",
                ),
                width="100%",
                role="region",
                aria_label="Quick question",
            ),
        ),
        rx.cond(thanks, rx.text("Thank you for your answer!", size="2", role="status")),
    )
