"""Staff support pages: inbox (/admin/support), one ticket, help articles editor, analysis."""

from collections.abc import Sequence
from typing import Any

import reflex as rx

from components.help import attachment_list, message_thread
from components.layout import data_table
from components.props import Handler, Row, VarOr
from pages.template import template
from sayzhong import routes
from state.support import (
    StaffAnalysisState,
    StaffArticlesState,
    StaffInboxState,
    StaffScoringState,
    StaffTicketState,
)

_SELECT = {"padding": "6px 8px", "borderRadius": "6px"}

_LABEL = {"fontWeight": "500"}


def _support_nav() -> rx.Component:
    return rx.hstack(
        rx.link("Staff area", href=routes.ADMIN),
        rx.link("Support inbox", href=routes.STAFF_INBOX),
        rx.link("Chat console", href=routes.STAFF_CHAT),
        rx.link("Help articles", href=routes.STAFF_HELP_ARTICLES),
        rx.link("Support analysis", href=routes.STAFF_SUPPORT_ANALYSIS),
        rx.link("Scoring feedback", href=routes.STAFF_SCORING_FEEDBACK),
        spacing="5",
        flex_wrap="wrap",
        aria_label="Support navigation",
    )


def _denied(message: VarOr[str]) -> rx.Component:
    return rx.cond(message != "", rx.callout(message, icon="shield-alert", color_scheme="red", role="alert"))


def _select(
    label: str, options: VarOr[Sequence[str]], value: VarOr[str], on_change: Handler, blank: str = "all"
) -> rx.Component:
    return rx.el.select(
        rx.foreach(options, lambda o: rx.el.option(rx.cond(o == "", blank, o), value=o)),
        value=value,
        on_change=on_change,
        aria_label=label,
        style=_SELECT,
    )


def _sla_badge(state: VarOr[str]) -> rx.Component:
    return rx.match(
        state,
        ("breached", rx.badge("SLA breached", color_scheme="red")),
        ("warning", rx.badge("SLA at risk", color_scheme="amber")),
        rx.badge("on time", color_scheme="green", variant="soft"),
    )


def _priority_badge(priority: VarOr[str]) -> rx.Component:
    return rx.badge(
        priority,
        color_scheme=rx.match(priority, ("urgent", "red"), ("high", "orange"), ("low", "gray"), "blue"),
    )


def _inbox_row(t: Row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link("#" + t["id"].to_string(), href=t["staff_href"])),
        rx.table.cell(rx.link(t["subject"], href=t["staff_href"])),
        rx.table.cell(rx.code(t["queue"])),
        rx.table.cell(_priority_badge(t["priority"])),
        rx.table.cell(t["status_label"]),
        rx.table.cell(_sla_badge(t["sla"])),
        rx.table.cell(t["assignee"]),
        rx.table.cell(t["learner"]),
        rx.table.cell(t["created"]),
        data_testid="inbox-row",
    )


def _agent_row(a: Row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(a["name"]),
        rx.table.cell(a["open"].to_string() + " / " + a["capacity"].to_string()),
        rx.table.cell(
            rx.checkbox(
                "Away",
                checked=a["away"].to(bool),
                on_change=lambda value: StaffInboxState.toggle_away(a["id"], value),  # type: ignore[operator]  # see components/props.py
            )
        ),
    )


@template(routes.STAFF_INBOX, "Support inbox", access="staff", on_load=[StaffInboxState.load])
def staff_inbox() -> rx.Component:
    return rx.vstack(
        rx.heading("Support inbox", size="8", as_="h1"),
        _support_nav(),
        _denied(StaffInboxState.denied),
        rx.cond(
            StaffInboxState.breaches > 0,
            rx.callout(
                StaffInboxState.breaches.to_string() + " ticket(s) have breached their SLA.",
                icon="alarm-clock",
                color_scheme="red",
                role="alert",
            ),
        ),
        rx.hstack(
            rx.text("Queue", size="2"),
            _select(
                "Filter by queue", StaffInboxState.queues, StaffInboxState.queue, StaffInboxState.filter_queue
            ),
            rx.text("Status", size="2"),
            _select(
                "Filter by status",
                StaffInboxState.statuses,
                StaffInboxState.status,
                StaffInboxState.filter_status,
            ),
            rx.text("Priority", size="2"),
            _select(
                "Filter by priority",
                StaffInboxState.priorities,
                StaffInboxState.priority,
                StaffInboxState.filter_priority,
            ),
            rx.checkbox(
                "Assigned to me", checked=StaffInboxState.mine, on_change=StaffInboxState.toggle_mine
            ),
            spacing="3",
            align="center",
            flex_wrap="wrap",
        ),
        data_table(
            "Tickets",
            ("#", "Subject", "Queue", "Priority", "Status", "SLA", "Agent", "Learner", "Opened"),
            StaffInboxState.tickets,
            _inbox_row,
        ),
        rx.heading("Agents", size="5", as_="h2"),
        rx.text(
            "Round-robin assignment skips agents who are away or at capacity.",
            size="2",
            color=rx.color("gray", 11),
        ),
        data_table(
            "Agents", ("Agent", "Open / capacity", "Availability"), StaffInboxState.agents, _agent_row
        ),
        spacing="4",
        width="100%",
    )


def _context_row(item: Row) -> rx.Component:
    return rx.table.row(rx.table.cell(rx.code(item["key"])), rx.table.cell(item["value"]))


@template(routes.STAFF_TICKET, "Ticket", access="staff", on_load=[StaffTicketState.load])
def staff_ticket() -> rx.Component:
    s = StaffTicketState
    return rx.vstack(
        rx.link("← Support inbox", href=routes.STAFF_INBOX, size="2"),
        _denied(s.denied),
        rx.cond(s.error != "", rx.callout(s.error, color_scheme="red", role="alert")),
        rx.cond(s.message != "", rx.callout(s.message, color_scheme="green", role="status")),
        rx.heading("#", s.ticket_id, " ", s.subject, size="7", as_="h1"),
        rx.hstack(
            rx.text("From ", rx.text.strong(s.learner)),
            _priority_badge(s.priority),
            rx.badge(s.status),
            rx.text("first response", size="1"),
            _sla_badge(s.first_sla),
            rx.text("resolution", size="1"),
            _sla_badge(s.resolution_sla),
            rx.cond(s.csat != "", rx.badge("CSAT " + s.csat + "/5", color_scheme="green")),
            spacing="2",
            flex_wrap="wrap",
            align="center",
        ),
        rx.grid(
            rx.vstack(
                rx.card(rx.text(s.body, white_space="pre-wrap"), width="100%", data_testid="ticket-body"),
                attachment_list(s.attachments),
                rx.heading("Conversation", size="4", as_="h2"),
                message_thread(s.messages, show_notes=True),
                rx.cond(
                    s.csat_comment != "", rx.card(rx.text("CSAT comment: ", s.csat_comment), width="100%")
                ),
                rx.heading("Reply to the learner", size="4", as_="h2"),
                rx.cond(
                    s.macros.length() > 0,
                    rx.el.select(
                        rx.el.option("Insert a saved reply…", value=""),
                        rx.foreach(s.macros, lambda m: rx.el.option(m["title"], value=m["id"].to_string())),
                        value="",
                        on_change=s.use_macro,
                        aria_label="Insert a saved reply",
                        style=_SELECT,
                    ),
                ),
                rx.text_area(
                    value=s.reply,
                    on_change=s.set_reply,
                    rows="6",
                    width="100%",
                    aria_label="Reply",
                    max_length=5000,
                ),
                rx.hstack(
                    rx.text("Then set status", size="2"),
                    rx.el.select(
                        rx.el.option("Waiting on learner", value="waiting"),
                        rx.el.option("Open", value="open"),
                        rx.el.option("Resolved", value="resolved"),
                        value=s.reply_status,
                        on_change=s.set_reply_status,
                        aria_label="Status after reply",
                        style=_SELECT,
                    ),
                    rx.button("Send reply", on_click=s.send_reply),
                    spacing="3",
                    align="center",
                    flex_wrap="wrap",
                ),
                rx.heading("Internal note", size="4", as_="h2"),
                rx.text_area(
                    value=s.note,
                    on_change=s.set_note,
                    rows="3",
                    width="100%",
                    aria_label="Internal note",
                    max_length=5000,
                ),
                rx.button("Add note", variant="soft", on_click=s.add_note),
                spacing="3",
                width="100%",
            ),
            rx.vstack(
                rx.card(
                    rx.vstack(
                        rx.heading("Routing", size="3", as_="h2"),
                        rx.text("by ", s.routed_by, ", confidence ", s.confidence, size="2"),
                        rx.hstack(
                            rx.el.select(
                                rx.foreach(s.queues, lambda q: rx.el.option(q, value=q)),
                                value=s.queue,
                                on_change=s.set_queue,
                                aria_label="Queue",
                                style=_SELECT,
                            ),
                            rx.el.select(
                                rx.foreach(s.priorities, lambda p: rx.el.option(p, value=p)),
                                value=s.priority,
                                on_change=s.set_priority,
                                aria_label="Priority",
                                style=_SELECT,
                            ),
                        ),
                        rx.heading("Status", size="3", as_="h2"),
                        rx.el.select(
                            rx.foreach(s.statuses, lambda st: rx.el.option(st, value=st)),
                            value=s.status,
                            on_change=s.change_status,
                            aria_label="Status",
                            style=_SELECT,
                        ),
                        rx.heading("Assignee", size="3", as_="h2"),
                        rx.text(rx.cond(s.assignee != "", s.assignee, "unassigned"), size="2"),
                        rx.el.select(
                            rx.el.option("Assign to…", value=""),
                            rx.foreach(s.agents, lambda a: rx.el.option(a["name"], value=a["id"])),
                            value="",
                            on_change=s.assign_to,
                            aria_label="Assign to",
                            style=_SELECT,
                        ),
                        rx.heading("Merge duplicate", size="3", as_="h2"),
                        rx.hstack(
                            rx.input(
                                value=s.merge_into,
                                on_change=s.set_merge_into,
                                placeholder="into ticket #",
                                aria_label="Merge into ticket number",
                                width="8em",
                            ),
                            rx.button("Merge", variant="soft", on_click=s.merge),
                        ),
                        spacing="2",
                    ),
                    width="100%",
                ),
                rx.card(
                    rx.vstack(
                        rx.heading("Context", size="3", as_="h2"),
                        rx.table.root(rx.table.body(rx.foreach(s.context, _context_row)), size="1"),
                        spacing="2",
                    ),
                    width="100%",
                ),
                rx.card(
                    rx.vstack(
                        rx.heading("History", size="3", as_="h2"),
                        rx.foreach(s.history, lambda line: rx.text(line, size="1")),
                        spacing="1",
                    ),
                    width="100%",
                ),
                rx.card(
                    rx.form(
                        rx.vstack(
                            rx.heading("New saved reply", size="3", as_="h2"),
                            rx.input(
                                name="title",
                                placeholder="Title",
                                aria_label="Saved reply title",
                                max_length=100,
                            ),
                            rx.text_area(
                                name="body", aria_label="Saved reply text", rows="3", max_length=5000
                            ),
                            rx.button("Save", type="submit", variant="soft"),
                            spacing="2",
                        ),
                        on_submit=s.save_macro,
                        reset_on_submit=True,
                    ),
                    width="100%",
                ),
                spacing="3",
                width="100%",
            ),
            columns=rx.breakpoints(initial="1", md="2fr 1fr"),
            spacing="5",
            width="100%",
        ),
        spacing="4",
        width="100%",
    )


def _article_row(a: Row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(a["title"], href="#editor", on_click=StaffArticlesState.edit(a["slug"]))),  # type: ignore[operator]  # see components/props.py
        rx.table.cell(a["category"]),
        rx.table.cell(a["helpful"].to_string() + " yes / " + a["unhelpful"].to_string() + " no"),
    )


@template(routes.STAFF_HELP_ARTICLES, "Help articles", access="staff", on_load=[StaffArticlesState.load])
def staff_articles() -> rx.Component:
    s = StaffArticlesState
    return rx.vstack(
        rx.heading("Help articles", size="8", as_="h1"),
        _support_nav(),
        _denied(s.denied),
        rx.text(
            "The repository's Markdown is the seed; every save here is stored as a new revision.",
            color=rx.color("gray", 11),
        ),
        rx.cond(s.error != "", rx.callout(s.error, color_scheme="red", role="alert")),
        rx.cond(s.message != "", rx.callout(s.message, color_scheme="green", role="status")),
        rx.cond(
            s.slug != "",
            rx.card(
                rx.form(
                    rx.vstack(
                        rx.heading("Editing ", rx.code(s.slug), size="4", as_="h2"),
                        rx.el.label("Title", html_for="article-title", style=_LABEL),
                        rx.input(
                            name="title", id="article-title", default_value=s.title, key=s.slug, width="100%"
                        ),
                        rx.el.label("Markdown", html_for="article-body", style=_LABEL),
                        rx.text_area(
                            name="body",
                            id="article-body",
                            default_value=s.body,
                            key=s.slug + "-body",
                            rows="16",
                            width="100%",
                            font_family="monospace",
                        ),
                        rx.input(
                            name="note",
                            placeholder="What changed (optional)",
                            aria_label="Change note",
                            width="100%",
                        ),
                        rx.button("Save revision", type="submit"),
                        spacing="2",
                        width="100%",
                    ),
                    on_submit=s.save,
                    reset_on_submit=False,
                    width="100%",
                ),
                rx.heading("Revisions", size="3", as_="h3", margin_top="1em"),
                rx.foreach(
                    s.revisions,
                    lambda r: rx.text(
                        "r",
                        r["revision"].to_string(),
                        " · ",
                        r["when"],
                        " · ",
                        r["title"],
                        " · ",
                        r["note"],
                        size="2",
                    ),
                ),
                id="editor",
                width="100%",
            ),
        ),
        data_table("Articles", ("Article", "Category", "Was this helpful?"), s.articles, _article_row),
        spacing="4",
        width="100%",
    )


def _figure(label: str, value: VarOr[Any]) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(label, size="2", color=rx.color("gray", 11)), rx.text(value, size="6", weight="bold")
        ),
        data_testid="support-figure",
    )


@template(
    routes.STAFF_SUPPORT_ANALYSIS, "Support analysis", access="staff", on_load=[StaffAnalysisState.load]
)
def staff_analysis() -> rx.Component:
    s = StaffAnalysisState
    return rx.vstack(
        rx.heading("Support analysis", size="8", as_="h1"),
        _support_nav(),
        _denied(s.denied),
        rx.text("Last 30 days. Times are business time (Mon–Fri 09:00–17:00).", color=rx.color("gray", 11)),
        rx.grid(
            _figure("Tickets", s.tickets.to_string()),
            _figure("First response (median)", s.first_median),
            _figure("First response (p90)", s.first_p90),
            _figure("Resolution (median)", s.resolution_median),
            _figure("Resolution (p90)", s.resolution_p90),
            _figure("SLA met", s.sla_met),
            _figure("CSAT average", s.csat_average),
            _figure("Self-service success", s.self_service),
            _figure("Routing accuracy", s.routing_accuracy),
            _figure("NPS (90 days)", s.nps),
            columns=rx.breakpoints(initial="2", md="3"),
            spacing="3",
            width="100%",
        ),
        rx.text(
            s.help_sessions.to_string()
            + " help sessions counted; "
            + s.corrections.to_string()
            + " routings corrected by staff.",
            size="2",
        ),
        rx.heading("CSAT distribution", size="5", as_="h2"),
        rx.hstack(
            rx.foreach(
                s.csat_distribution,
                lambda d: rx.badge(d["score"].to_string() + "★: " + d["count"].to_string(), size="2"),
            ),
            spacing="2",
            data_testid="csat-distribution",
        ),
        rx.heading("Tickets per queue and day", size="5", as_="h2"),
        data_table(
            "Tickets per queue and day",
            ("Day", "Queue", "Tickets"),
            s.per_day,
            lambda r: rx.table.row(
                rx.table.cell(r["day"]), rx.table.cell(r["queue"]), rx.table.cell(r["count"].to_string())
            ),
        ),
        rx.heading("Top help searches with no result", size="5", as_="h2"),
        rx.cond(
            s.failed_searches.length() > 0,
            rx.vstack(
                rx.foreach(
                    s.failed_searches,
                    lambda f: rx.text(f["query"], " (", f["count"].to_string(), ")", size="2"),
                )
            ),
            rx.text("None.", size="2"),
        ),
        spacing="4",
        width="100%",
    )


def _disagreement_table(title: str, rows: VarOr[Sequence[Any]], test_id: str) -> rx.Component:
    return rx.vstack(
        rx.heading(title, size="4", as_="h2"),
        data_table(
            title,
            ("", "Answers", "Disputed", "Disagreement"),
            rows,
            lambda r: rx.table.row(
                rx.table.cell(r.key),
                rx.table.cell(r.answers.to_string()),
                rx.table.cell(r.disputed.to_string()),
                rx.table.cell(r.share),
            ),
            data_testid=test_id,
        ),
        width="100%",
    )


@template(routes.STAFF_SCORING_FEEDBACK, "Scoring feedback", access="staff", on_load=[StaffScoringState.load])
def staff_scoring_feedback() -> rx.Component:
    s = StaffScoringState
    return rx.vstack(
        rx.heading("Scoring feedback", size="8", as_="h1"),
        _support_nav(),
        _denied(s.denied),
        rx.text(
            "Learners' answers to “Was this right?” on syllable verdicts (last 90 days): ",
            s.answers.to_string(),
            " answers, ",
            s.disputed.to_string(),
            " disputed. Export the disputed takes learners agreed to share with ",
            rx.code("python -m sayzhong support export-disputed DIR"),
            ".",
        ),
        rx.grid(
            _disagreement_table("By expected tone", s.by_tone, "by-tone"),
            _disagreement_table("By tone pair", s.by_pair, "by-pair"),
            _disagreement_table("By engine", s.by_engine, "by-engine"),
            _disagreement_table("By phrase", s.by_phrase, "by-phrase"),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="4",
            width="100%",
        ),
        spacing="4",
        width="100%",
    )
