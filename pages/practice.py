"""Lessons list and phrase practice."""

import reflex as rx

from components.layout import link_button
from components.practice import VerdictFeedbackUi, practice_panel, practice_skeleton
from components.props import Row
from pages.template import template
from sayzhong import routes
from state.practice import DRILL_UNITS, LearnState, PracticeState
from state.support import VerdictFeedbackState


def _unit_card(unit: Row) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(unit["title"], size="4", as_="h3"),
                rx.cond(unit["locked"], rx.badge("Plus", color_scheme="amber", aria_label="Part of Plus")),
                spacing="2",
                align="center",
            ),
            rx.text(unit["description"], size="2", color=rx.color("gray", 11)),
            rx.hstack(
                rx.text(unit["count"].to_string() + " phrases", size="1", color=rx.color("gray", 11)),
                rx.spacer(),
                rx.link("Practise", href=unit["href"], aria_label="Practise " + unit["title"].to(str)),
                width="100%",
            ),
            spacing="2",
            height="100%",
        ),
        size="2",
    )


def _dialogue_card(d: Row) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(d["title"], size="4", as_="h3"),
                rx.cond(d["locked"], rx.badge("Plus", color_scheme="amber", aria_label="Part of Plus")),
                spacing="2",
                align="center",
            ),
            rx.text(d["scenario"], size="2", color=rx.color("gray", 11)),
            rx.link(
                "Start conversation", href=d["href"], aria_label="Start conversation: " + d["title"].to(str)
            ),
            spacing="2",
        ),
        size="2",
    )


@template(routes.LEARN, "Lessons", access="user", on_load=[LearnState.load], loader_guards=True)
def learn() -> rx.Component:
    return rx.vstack(
        rx.heading("Lessons", size="8", as_="h1"),
        rx.heading("Units", size="5", as_="h2"),
        rx.grid(
            rx.foreach(LearnState.units, _unit_card),
            columns=rx.breakpoints(initial="1", sm="2", md="3"),
            spacing="3",
            width="100%",
        ),
        rx.heading("Tone drills", size="5", as_="h2"),
        rx.grid(
            *[
                rx.card(
                    rx.vstack(
                        rx.heading(title, size="4", as_="h3"),
                        rx.text(desc, size="2", color=rx.color("gray", 11)),
                        rx.link(
                            "Practise",
                            href=f"{routes.PRACTICE}?unit={unit_id}",
                            aria_label=f"Practise {title}",
                        ),
                        spacing="2",
                    ),
                    size="2",
                )
                for unit_id, (title, desc) in DRILL_UNITS.items()
            ],
            columns=rx.breakpoints(initial="1", sm="2"),
            spacing="3",
            width="100%",
        ),
        rx.heading("Role-play conversations", size="5", as_="h2"),
        rx.grid(
            rx.foreach(LearnState.dialogues, _dialogue_card),
            columns=rx.breakpoints(initial="1", sm="2", md="3"),
            spacing="3",
            width="100%",
        ),
        spacing="4",
        width="100%",
    )


def verdict_feedback_ui() -> VerdictFeedbackUi:
    """Support centre (issue 13): "Was this right?" under each judged syllable of a practice take."""
    return VerdictFeedbackUi(
        answered=VerdictFeedbackState.answered,
        disputed=VerdictFeedbackState.disputed,
        shared=VerdictFeedbackState.shared,
        on_answer=VerdictFeedbackState.answer,
        on_share=VerdictFeedbackState.share,
    )


@template(
    routes.PRACTICE,
    "Practice",
    access="user",
    on_load=[PracticeState.load],
    loader_guards=True,
    max_width="960px",
)
def practice_page() -> rx.Component:
    return rx.cond(
        ~PracticeState.loaded,
        practice_skeleton(),
        _practice_content(),
    )


def _practice_content() -> rx.Component:
    return rx.cond(
        PracticeState.not_found,
        rx.vstack(
            rx.heading("That lesson does not exist", size="6", as_="h1"),
            link_button("Choose a lesson", routes.LEARN),
            spacing="4",
        ),
        rx.vstack(
            rx.hstack(
                rx.link("← Lessons", href=routes.LEARN, size="2"),
                rx.spacer(),
                rx.text(PracticeState.position, size="2", color=rx.color("gray", 11)),
                width="100%",
            ),
            rx.heading(PracticeState.unit_title, size="6", as_="h1"),
            practice_panel(PracticeState, mode="practice", feedback=verdict_feedback_ui()),
            rx.hstack(
                rx.button(
                    "Previous",
                    on_click=PracticeState.previous_item,
                    variant="soft",
                    disabled=PracticeState.index == 0,
                ),
                rx.spacer(),
                rx.cond(
                    PracticeState.has_result,
                    rx.button("Try again", on_click=PracticeState.retry, variant="outline"),
                ),
                rx.cond(
                    PracticeState.is_last,
                    link_button("Finish unit", routes.LEARN),
                    rx.button(PracticeState.next_label, on_click=PracticeState.next_item),
                ),
                width="100%",
                spacing="3",
            ),
            spacing="4",
            width="100%",
        ),
    )
