"""Legal documents: current version, any past version, the history list, a readable diff, and the
re-accept page shown when the terms change materially."""

import reflex as rx

from components.notices import notice
from components.props import Row
from pages.template import template
from sayzhong import routes
from sayzhong.legal.documents import DOCUMENTS
from state.privacy import LegalState
from state.session import SessionState


def _doc_nav() -> rx.Component:
    return rx.el.nav(
        rx.flex(
            *[rx.link(title, href=routes.legal_url(doc)) for doc, title in DOCUMENTS.items()],
            spacing="4",
            wrap="wrap",
        ),
        aria_label="Legal documents",
    )


def _meta() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.badge("Version ", LegalState.version),
            rx.text("Effective ", LegalState.effective, size="2", color=rx.color("gray", 11)),
            rx.cond(
                LegalState.version < LegalState.current_version,
                rx.badge("Past version", color_scheme="amber"),
            ),
            rx.link("History and changes", href=f"{routes.LEGAL}/" + LegalState.doc + "/history", size="2"),
            spacing="3",
            align="center",
            flex_wrap="wrap",
        ),
        notice(rx.text(rx.text.strong("What changed: "), LegalState.summary), icon="info", size="1"),
        spacing="3",
        width="100%",
    )


def _not_found() -> rx.Component:
    return rx.callout(LegalState.not_found, icon="triangle-alert", color_scheme="red", role="alert")


def _document() -> rx.Component:
    return rx.vstack(
        _doc_nav(),
        rx.cond(
            LegalState.not_found != "",
            _not_found(),
            rx.vstack(
                _meta(), rx.markdown(LegalState.body), spacing="4", width="100%", class_name="legal-text"
            ),
        ),
        spacing="5",
        width="100%",
    )


@template(f"{routes.LEGAL}/[legal_doc]", "Legal", on_load=[LegalState.load], max_width="860px")
def legal_document() -> rx.Component:
    return _document()


@template(
    f"{routes.LEGAL}/[legal_doc]/v/[legal_version]", "Legal", on_load=[LegalState.load], max_width="860px"
)
def legal_version() -> rx.Component:
    return _document()


def _history_row(item: Row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link("Version ", item["version"], href=item["href"])),
        rx.table.cell(item["effective"]),
        rx.table.cell(item["material"]),
        rx.table.cell(item["summary"]),
        rx.table.cell(
            rx.cond(item["diff"] != "", rx.link("Compare with previous", href=item["diff"]), rx.text("—"))
        ),
    )


@template(
    f"{routes.LEGAL}/[legal_doc]/history", "Document history", on_load=[LegalState.load], max_width="960px"
)
def legal_history() -> rx.Component:
    return rx.vstack(
        _doc_nav(),
        rx.heading(LegalState.title, ": history", size="7", as_="h1"),
        rx.cond(
            LegalState.not_found != "",
            _not_found(),
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[
                            rx.table.column_header_cell(h)
                            for h in ("Version", "Effective", "Kind", "Summary", "")
                        ]
                    )
                ),
                rx.table.body(rx.foreach(LegalState.history, _history_row)),
                width="100%",
            ),
        ),
        spacing="5",
        width="100%",
    )


def _diff_line(line: Row) -> rx.Component:
    return rx.el.div(
        rx.match(line["kind"], ("added", "+ "), ("removed", "− "), ("gap", ""), "  "),
        line["text"],
        style=rx.match(
            line["kind"],
            ("added", {"background": rx.color("green", 3), "color": rx.color("green", 12)}),
            (
                "removed",
                {
                    "background": rx.color("red", 3),
                    "color": rx.color("red", 12),
                    "textDecoration": "line-through",
                },
            ),
            ("gap", {"color": rx.color("gray", 10), "textAlign": "center"}),
            {},
        ),
        class_name="legal-diff-line",
    )


@template(
    f"{routes.LEGAL}/[legal_doc]/diff/[legal_version]",
    "What changed",
    on_load=[LegalState.load],
    max_width="960px",
)
def legal_diff() -> rx.Component:
    return rx.vstack(
        _doc_nav(),
        rx.heading(LegalState.title, ": what changed in version ", LegalState.version, size="6", as_="h1"),
        rx.cond(
            LegalState.not_found != "",
            _not_found(),
            rx.vstack(
                rx.text(
                    "Lines marked + were added, lines marked − removed, compared with version ",
                    LegalState.version - 1,
                    ". ",
                    rx.text.strong(LegalState.summary),
                    size="2",
                ),
                rx.el.div(
                    rx.foreach(LegalState.diff_lines, _diff_line),
                    style={
                        "fontFamily": "ui-monospace, monospace",
                        "fontSize": "14px",
                        "whiteSpace": "pre-wrap",
                        "border": f"1px solid {rx.color('gray', 6)}",
                        "borderRadius": "8px",
                        "padding": "12px",
                        "width": "100%",
                    },
                    role="region",
                    aria_label="Differences",
                ),
                spacing="3",
                width="100%",
            ),
        ),
        spacing="5",
        width="100%",
    )


@template(routes.LEGAL_ACCEPT, "Updated terms", on_load=[LegalState.load_accept], max_width="860px")
def legal_accept() -> rx.Component:
    return rx.vstack(
        rx.heading("We updated our Terms of Service", size="7", as_="h1"),
        notice(
            rx.text(rx.text.strong("What changed: "), LegalState.summary),
            icon="info",
        ),
        rx.text(
            "Please read the new terms (version ",
            LegalState.version,
            ", effective ",
            LegalState.effective,
            "). You can keep using SayZhong after accepting them, or sign out. ",
            rx.link(
                "Compare with the version you accepted",
                href=f"{routes.LEGAL}/terms/history",
                underline="always",
            ),
            ".",
        ),
        rx.scroll_area(
            rx.box(rx.markdown(LegalState.body), class_name="legal-text"),
            type="always",
            scrollbars="vertical",
            style={
                "height": "50vh",
                "border": f"1px solid {rx.color('gray', 6)}",
                "borderRadius": "8px",
                "padding": "1em",
            },
        ),
        rx.hstack(
            rx.button("I accept the new terms", on_click=LegalState.accept_terms, size="3"),
            rx.button("Sign out", on_click=SessionState.sign_out, size="3", variant="outline"),
            spacing="3",
            flex_wrap="wrap",
        ),
        spacing="4",
        width="100%",
    )
