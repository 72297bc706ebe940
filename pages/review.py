"""Review queue: phrases and tones you missed come back when they are due."""

import reflex as rx

from components.layout import link_button
from components.practice import practice_panel
from components.props import Row
from pages.practice import verdict_feedback_ui
from pages.template import template
from sayzhong import routes
from state.practice import ReviewState


def _queue_item(item: Row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(item["hanzi"], lang="zh-Hans")),
        rx.table.cell(item["english"]),
        rx.table.cell(item["note"]),
    )


@template(routes.REVIEW, "Review", access="user", on_load=[ReviewState.load], max_width="960px")
def review_page() -> rx.Component:
    return rx.vstack(
        rx.heading("Review", size="8", as_="h1"),
        rx.cond(
            ReviewState.empty,
            rx.vstack(
                rx.text(
                    "Nothing is due right now. Practise a lesson and the phrases you find hard "
                    "will come back here."
                ),
                link_button("Go to lessons", routes.LEARN),
                spacing="3",
            ),
            rx.vstack(
                rx.text(
                    ReviewState.total.to_string() + " items due · " + ReviewState.position,
                    color=rx.color("gray", 11),
                ),
                practice_panel(ReviewState, mode="review", feedback=verdict_feedback_ui()),
                rx.hstack(
                    rx.button(
                        "Previous",
                        on_click=ReviewState.previous_item,
                        variant="soft",
                        disabled=ReviewState.index == 0,
                    ),
                    rx.spacer(),
                    rx.cond(
                        ReviewState.is_last,
                        link_button("Done", routes.HOME),
                        rx.button("Next item", on_click=ReviewState.next_item),
                    ),
                    width="100%",
                ),
                rx.heading("Due now", size="4", as_="h2"),
                rx.box(
                    rx.table.root(
                        rx.table.header(
                            rx.table.row(
                                rx.table.column_header_cell("Phrase"),
                                rx.table.column_header_cell("Meaning"),
                                rx.table.column_header_cell("Why"),
                            )
                        ),
                        rx.table.body(rx.foreach(ReviewState.items, _queue_item)),
                        width="100%",
                    ),
                    role="region",
                    aria_label="Review queue",
                    width="100%",
                ),
                spacing="4",
                width="100%",
            ),
        ),
        spacing="4",
        width="100%",
    )
