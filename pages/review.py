"""Review queue: phrases and tones you missed come back when they are due."""

import reflex as rx

from components.layout import data_table, link_button
from components.practice import practice_panel, practice_skeleton
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


def _queue_table(title: str, items: rx.Var, *, intro: str = "") -> rx.Component:
    return rx.el.section(
        rx.vstack(
            rx.heading(title, size="4", as_="h2"),
            rx.text(intro, size="2", color=rx.color("gray", 11)) if intro else rx.fragment(),
            data_table(title + " — table", ["Phrase", "Meaning", "Why"], items, _queue_item),
            spacing="2",
            width="100%",
        ),
        aria_label=title,
        style={"width": "100%"},
    )


def _queue() -> rx.Component:
    return rx.vstack(
        rx.text(
            rx.text.strong(ReviewState.due_label),
            rx.cond(
                ReviewState.also_items.length() > 0,
                " · " + ReviewState.also_items.length().to_string() + " also worth another go",
                "",
            ),
            " · item " + ReviewState.position,
            color=rx.color("gray", 11),
            data_testid="review-due-count",
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
        rx.cond(ReviewState.due_items.length() > 0, _queue_table("Due now", ReviewState.due_items)),
        rx.cond(
            ReviewState.also_items.length() > 0,
            _queue_table(
                "Also worth another go",
                ReviewState.also_items,
                intro="Missed in the last week, not due yet — a quick extra try helps them stick.",
            ),
        ),
        spacing="4",
        width="100%",
    )


@template(routes.REVIEW, "Review", access="user", on_load=[ReviewState.load], max_width="960px")
def review_page() -> rx.Component:
    return rx.cond(
        ~ReviewState.loaded,
        practice_skeleton(),
        rx.vstack(
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
                _queue(),
            ),
            spacing="4",
            width="100%",
        ),
    )
