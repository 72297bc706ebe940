"""Learner support: my tickets (/support), a new ticket (/support/new), CSAT from e-mail (/support/rate)."""

import reflex as rx

from components.help import attachment_list, message_thread
from components.layout import link_button
from components.props import Row
from pages.template import template
from sayzhong import routes
from state.support import (
    CATEGORY_OPTIONS,
    TICKET_UPLOAD_ID,
    CsatLinkState,
    MyTicketsState,
    NewTicketState,
)

_LABEL = {"fontWeight": "500"}


def _ticket_row(t: Row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link("#" + t["id"].to_string() + " " + t["subject"].to(str), href=t["href"])),
        rx.table.cell(rx.badge(t["status_label"])),
        rx.table.cell(t["updated"]),
    )


def _rating() -> rx.Component:
    return rx.card(
        rx.cond(
            MyTicketsState.csat > 0,
            rx.text(
                "You rated our help ",
                rx.text.strong(MyTicketsState.csat.to_string()),
                " out of 5. Thank you!",
            ),
            rx.vstack(
                rx.text("How satisfied are you with our help?", weight="medium"),
                rx.hstack(
                    *[
                        rx.button(
                            str(n),
                            variant="soft",
                            on_click=MyTicketsState.rate(n),  # type: ignore[operator]  # see components/props.py
                            aria_label=f"Rate {n} out of 5",
                        )
                        for n in range(1, 6)
                    ],
                    spacing="2",
                ),
                rx.text("1 = poor, 5 = excellent", size="1", color=rx.color("gray", 11)),
                spacing="2",
            ),
        ),
        width="100%",
    )


def _ticket_detail() -> rx.Component:
    return rx.vstack(
        rx.link("← All my requests", href=routes.SUPPORT, size="2"),
        rx.heading("#", MyTicketsState.ticket_id, " ", MyTicketsState.subject, size="6", as_="h2"),
        rx.hstack(
            rx.badge(MyTicketsState.status_label, size="2"),
            rx.text("Opened ", MyTicketsState.created, size="2", color=rx.color("gray", 11)),
            spacing="3",
        ),
        rx.card(rx.text(MyTicketsState.body, white_space="pre-wrap"), width="100%"),
        attachment_list(MyTicketsState.attachments),
        rx.heading("Conversation", size="4", as_="h3"),
        rx.cond(
            MyTicketsState.messages.length() > 0,
            message_thread(MyTicketsState.messages),
            rx.text("No replies yet. We answer during business hours.", color=rx.color("gray", 11)),
        ),
        rx.cond(
            (MyTicketsState.status == "resolved") | (MyTicketsState.status == "closed"),
            _rating(),
        ),
        rx.cond(
            MyTicketsState.status != "closed",
            rx.vstack(
                rx.text_area(
                    value=MyTicketsState.reply,
                    on_change=MyTicketsState.set_reply,
                    placeholder="Write a reply…",
                    aria_label="Your reply",
                    width="100%",
                    rows="4",
                    max_length=5000,
                ),
                rx.button("Send reply", on_click=MyTicketsState.send_reply),
                width="100%",
                align="start",
            ),
        ),
        spacing="3",
        width="100%",
    )


@template(routes.SUPPORT, "Support", access="user", on_load=[MyTicketsState.load])
def my_support() -> rx.Component:
    return rx.vstack(
        rx.heading("Support", size="8", as_="h1"),
        rx.hstack(
            link_button("Contact support", routes.SUPPORT_NEW),
            link_button("Chat with us", routes.SUPPORT_CHAT, variant="soft"),
            link_button("Help centre", routes.HELP, variant="soft"),
            spacing="3",
        ),
        rx.cond(
            MyTicketsState.error != "", rx.callout(MyTicketsState.error, color_scheme="red", role="alert")
        ),
        rx.cond(
            MyTicketsState.notice != "",
            rx.callout(MyTicketsState.notice, color_scheme="green", role="status"),
        ),
        rx.cond(
            MyTicketsState.ticket_id > 0,
            _ticket_detail(),
            rx.vstack(
                rx.heading("My requests", size="5", as_="h2"),
                rx.cond(
                    MyTicketsState.tickets.length() > 0,
                    rx.box(
                        rx.table.root(
                            rx.table.header(
                                rx.table.row(
                                    rx.table.column_header_cell("Request"),
                                    rx.table.column_header_cell("Status"),
                                    rx.table.column_header_cell("Last update"),
                                )
                            ),
                            rx.table.body(rx.foreach(MyTicketsState.tickets, _ticket_row)),
                            width="100%",
                        ),
                        overflow_x="auto",
                        width="100%",
                    ),
                    rx.text("You have not contacted support yet.", color=rx.color("gray", 11)),
                ),
                width="100%",
            ),
        ),
        spacing="4",
        width="100%",
    )


@template(
    routes.SUPPORT_NEW, "Contact support", access="user", on_load=[NewTicketState.load], max_width="720px"
)
def new_ticket() -> rx.Component:
    has_file = rx.selected_files(TICKET_UPLOAD_ID).length() > 0
    return rx.vstack(
        rx.heading("Contact support", size="8", as_="h1"),
        rx.text(
            "We answer Monday–Friday, 09:00–17:00 UTC. The page you came from, your browser, the app version "
            "and your plan are attached automatically.",
            color=rx.color("gray", 11),
        ),
        rx.cond(
            NewTicketState.error != "", rx.callout(NewTicketState.error, color_scheme="red", role="alert")
        ),
        rx.vstack(
            rx.el.label("What is it about?", html_for="ticket-category", style=_LABEL),
            rx.el.select(
                rx.el.option("Choose a topic…", value="", disabled=True),
                *[rx.el.option(o["label"], value=o["value"]) for o in CATEGORY_OPTIONS],
                id="ticket-category",
                value=NewTicketState.category,
                on_change=NewTicketState.set_category,
                style={"padding": "8px", "borderRadius": "6px", "width": "100%"},
            ),
            rx.el.label("Subject", html_for="ticket-subject", style=_LABEL),
            rx.input(
                id="ticket-subject",
                value=NewTicketState.subject,
                on_change=NewTicketState.set_subject,
                max_length=200,
                width="100%",
            ),
            rx.el.label("Message", html_for="ticket-message", style=_LABEL),
            rx.text_area(
                id="ticket-message",
                value=NewTicketState.message,
                on_change=NewTicketState.set_message,
                rows="7",
                max_length=5000,
                width="100%",
                placeholder="What happened, what you expected, and what you already tried.",
            ),
            rx.text("Attachment (optional: PNG, JPEG, PDF or text, up to 5 MB)", weight="medium", size="2"),
            rx.upload.root(
                rx.vstack(
                    rx.button("Choose a file", variant="soft", type="button"),
                    rx.foreach(rx.selected_files(TICKET_UPLOAD_ID), lambda name: rx.text(name, size="2")),
                    align="start",
                ),
                id=TICKET_UPLOAD_ID,
                max_files=1,
                max_size=5 * 1024 * 1024,
                accept={
                    "image/png": [".png"],
                    "image/jpeg": [".jpg", ".jpeg"],
                    "application/pdf": [".pdf"],
                    "text/plain": [".txt", ".log"],
                },
                border=f"1px dashed {rx.color('gray', 7)}",
                padding="0.75em",
                width="100%",
            ),
            rx.checkbox(
                "Attach the audio of my last take (only if you tick this)",
                checked=NewTicketState.attach_take,
                on_change=NewTicketState.set_attach_take,
            ),
            rx.cond(
                has_file,
                rx.button(
                    "Send to support",
                    on_click=NewTicketState.submit_with_file(rx.upload_files(upload_id=TICKET_UPLOAD_ID)),  # type: ignore[operator]  # see components/props.py
                    loading=NewTicketState.busy,
                ),
                rx.button("Send to support", on_click=NewTicketState.submit, loading=NewTicketState.busy),
            ),
            spacing="2",
            width="100%",
            align="start",
        ),
        spacing="4",
        width="100%",
    )


@template(routes.SUPPORT_RATE, "Rate our help", on_load=[CsatLinkState.load], max_width="640px")
def rate_support() -> rx.Component:
    return rx.vstack(
        rx.heading("Thank you", size="8", as_="h1"),
        rx.cond(
            CsatLinkState.done,
            rx.vstack(
                rx.text(
                    "We recorded your rating: ", rx.text.strong(CsatLinkState.score.to_string()), " out of 5."
                ),
                rx.cond(
                    CsatLinkState.comment_saved,
                    rx.text("Your comment was saved.", role="status"),
                    rx.form(
                        rx.vstack(
                            rx.el.label("Anything to add? (optional)", html_for="csat-comment", style=_LABEL),
                            rx.text_area(name="comment", id="csat-comment", max_length=1000, width="100%"),
                            rx.button("Send comment", type="submit"),
                            width="100%",
                        ),
                        on_submit=CsatLinkState.save_comment,
                        width="100%",
                    ),
                ),
                width="100%",
            ),
            rx.callout(CsatLinkState.error, color_scheme="red", role="alert"),
        ),
        spacing="4",
        width="100%",
    )
