"""Role-play conversation page."""

import reflex as rx

from components.layout import data_table, link_button
from components.practice import pinyin_line, recorder_panel, scoring_feedback
from components.props import Row
from pages.practice import verdict_feedback_ui
from pages.template import template
from sayzhong import routes
from state.dialogue import DialogueState


def _bubble(line: Row) -> rx.Component:
    is_partner = line["speaker"] == "partner"
    return rx.hstack(
        rx.card(
            rx.vstack(
                rx.text(
                    rx.cond(is_partner, "Partner", "You"), size="1", weight="bold", color=rx.color("gray", 11)
                ),
                rx.text(line["hanzi"], size="6", lang="zh-Hans", class_name="hanzi"),
                pinyin_line(line["syllables"]),
                rx.text(line["english"], size="2", color=rx.color("gray", 11)),
                rx.cond(
                    is_partner,
                    rx.el.audio(
                        src=line["audio"], controls=True, preload="none", aria_label="Partner's line"
                    ),
                    rx.cond(
                        line["score"] == "",
                        rx.badge("Skipped", color_scheme="gray", variant="soft"),
                        rx.badge("Score " + line["score"].to(str), color_scheme="green", variant="soft"),
                    ),
                ),
                spacing="1",
                align="start",
            ),
            size="2",
            max_width="560px",
            background=rx.cond(is_partner, rx.color("gray", 2), rx.color("accent", 2)),
        ),
        justify=rx.cond(is_partner, "start", "end"),
        width="100%",
        role="listitem",
    )


def _option(option: Row) -> rx.Component:
    return rx.button(
        rx.vstack(
            rx.text(option["hanzi"], size="4", lang="zh-Hans"),
            rx.text(option["english"], size="1"),
            spacing="0",
            align="start",
        ),
        on_click=DialogueState.choose(option["id"]),  # type: ignore[operator]  # see components/props.py
        variant=rx.cond(DialogueState.chosen == option["id"], "solid", "outline"),
        height="auto",
        padding="10px 14px",
        aria_pressed=DialogueState.chosen == option["id"],
    )


def _learner_turn() -> rx.Component:
    return rx.vstack(
        rx.cond(DialogueState.hint != "", rx.text(DialogueState.hint, weight="medium")),
        rx.cond(
            DialogueState.options.length() > 1,
            rx.vstack(
                rx.text("Choose what to say:", size="2"),
                rx.hstack(rx.foreach(DialogueState.options, _option), spacing="3", flex_wrap="wrap"),
                spacing="2",
            ),
        ),
        rx.cond(
            DialogueState.chosen != "",
            rx.vstack(
                rx.card(
                    rx.vstack(
                        rx.text("Your line", size="1", weight="bold", color=rx.color("gray", 11)),
                        rx.text(DialogueState.chosen_hanzi, size="7", lang="zh-Hans", class_name="hanzi"),
                        pinyin_line(DialogueState.chosen_syllables),
                        rx.text(DialogueState.chosen_english, size="2", color=rx.color("gray", 11)),
                        rx.el.audio(
                            src=DialogueState.reference_audio_url,
                            controls=True,
                            preload="none",
                            aria_label="Reference recording of your line",
                        ),
                        spacing="2",
                    ),
                    size="3",
                    width="100%",
                ),
                recorder_panel(
                    upload_url=DialogueState.upload_url,
                    item_id=DialogueState.item_id,
                    mode="dialogue",
                    on_scored=DialogueState.on_scored,
                    on_error=DialogueState.on_error,
                    on_status=DialogueState.on_status,
                    label="Record my line",
                ),
                # After a take that was not this line the learner stays here: try again, or move on.
                rx.cond(
                    DialogueState.holding,
                    rx.button(
                        rx.cond(DialogueState.held_attempt > 0, "Keep this take and go on", "Skip this line"),
                        on_click=DialogueState.move_on,
                        variant="outline",
                    ),
                ),
                spacing="3",
                width="100%",
            ),
        ),
        spacing="3",
        width="100%",
    )


def _weak(item: Row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(item["grapheme"], lang="zh-Hans", size="4")),
        rx.table.cell(item["pinyin"]),
        rx.table.cell(item["expected"]),
        rx.table.cell(item["heard"]),
        rx.table.cell(item["hint"]),
    )


def _weakest_or_praise() -> rx.Component:
    return rx.cond(
        DialogueState.weakest.length() > 0,
        rx.vstack(
            rx.heading("Syllables to work on", size="4", as_="h3"),
            data_table(
                "Syllables to work on — table",
                ["Syllable", "Pinyin", "Expected tone", "You said", "Tip"],
                DialogueState.weakest,
                _weak,
            ),
            width="100%",
        ),
        rx.text("Every tone was right — well done!"),
    )


def _summary() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Conversation complete!", size="6", as_="h2"),
            rx.cond(
                DialogueState.summary_scored > 0,
                rx.hstack(
                    rx.text("Average score: ", rx.text.strong(DialogueState.summary_pron)),
                    rx.text("Tones: ", rx.text.strong(DialogueState.summary_tone)),
                    spacing="5",
                ),
                rx.text("None of your lines were scored this time. Play again to get feedback on each line."),
            ),
            rx.cond(
                DialogueState.summary_scored == 0,
                rx.fragment(),
                _weakest_or_praise(),
            ),
            rx.hstack(
                rx.button("Play again", on_click=DialogueState.restart, variant="outline"),
                link_button("More conversations", routes.LEARN),
                spacing="3",
            ),
            spacing="4",
            width="100%",
        ),
        size="4",
        width="100%",
        role="region",
        aria_label="Conversation summary",
    )


@template(
    routes.DIALOGUE,
    "Conversation",
    access="user",
    on_load=[DialogueState.load],
    loader_guards=True,
    max_width="860px",
)
def dialogue_page() -> rx.Component:
    return rx.cond(
        DialogueState.not_found,
        rx.vstack(
            rx.heading("That conversation does not exist", size="6", as_="h1"),
            link_button("Choose a conversation", routes.LEARN),
            spacing="4",
        ),
        rx.vstack(
            rx.link("← Lessons", href=routes.LEARN, size="2"),
            rx.heading(DialogueState.title, size="7", as_="h1"),
            rx.text(DialogueState.scenario, color=rx.color("gray", 11)),
            rx.vstack(
                rx.foreach(DialogueState.transcript, _bubble),
                spacing="3",
                width="100%",
                role="list",
                aria_label="Conversation",
            ),
            rx.cond(DialogueState.finished, _summary(), _learner_turn()),
            scoring_feedback(DialogueState, verdict_feedback_ui()),
            spacing="4",
            width="100%",
        ),
    )
