"""Onboarding: goal and level, microphone check with voice calibration, spoken placement."""

import reflex as rx

from components.practice import pinyin_line, recorder, scoring_feedback, tone_change_notes
from components.props import VarOr
from pages.practice import verdict_feedback_ui
from pages.template import template
from sayzhong import routes
from state.onboarding import GOAL_LABELS, LEVEL_LABELS, OnboardingState
from state.session import SessionState


def _choice_group(name: str, legend: str, options: dict[str, str]) -> rx.Component:
    return rx.el.fieldset(
        rx.el.legend(legend, style={"fontWeight": 600, "marginBottom": "8px"}),
        rx.vstack(
            *[
                rx.el.label(
                    rx.el.input(type="radio", name=name, value=value, required=True),
                    rx.text(label, as_="span"),
                    style={"display": "flex", "gap": "8px", "alignItems": "center", "cursor": "pointer"},
                )
                for value, label in options.items()
            ],
            spacing="2",
        ),
        style={"border": "none", "padding": 0, "margin": 0},
    )


def _questions() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.heading("Welcome, " + SessionState.display_name + "!", size="7", as_="h1"),
            rx.text(
                "Two quick questions so we can start you in the right place.", color=rx.color("gray", 11)
            ),
            rx.cond(
                OnboardingState.form_error != "",
                rx.callout(OnboardingState.form_error, color_scheme="red", role="alert"),
            ),
            _choice_group("goal", "Why are you learning Mandarin?", GOAL_LABELS),
            _choice_group("level", "How much Mandarin do you know?", LEVEL_LABELS),
            rx.button("Continue", type="submit", size="3"),
            spacing="5",
        ),
        on_submit=OnboardingState.save_answers,
        reset_on_submit=False,
    )


def _prompt_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(OnboardingState.prompt_text, size="9", weight="bold", lang="zh-Hans", class_name="hanzi"),
            pinyin_line(OnboardingState.prompt_syllables),
            rx.text(OnboardingState.prompt_english, color=rx.color("gray", 11)),
            tone_change_notes(OnboardingState.prompt_tone_changes),
            spacing="2",
        ),
        size="4",
        width="100%",
    )


def _progress_text() -> rx.Component:
    return rx.text(
        "Prompt ",
        OnboardingState.prompt_index + 1,
        " of ",
        OnboardingState.prompt_count,
        size="2",
        color=rx.color("gray", 11),
    )


def _recorder(upload_url: VarOr[str], *, mode: str, max_seconds: int) -> rx.Component:
    return rx.card(
        recorder(
            upload_url=upload_url,
            item_id=OnboardingState.item_id,
            mode=mode,
            max_seconds=max_seconds,
            silence_seconds=1.2,
            label="Record",
            disabled=OnboardingState.item_id == "",
            on_scored=OnboardingState.on_scored,
            on_error=OnboardingState.on_error,
            on_status=OnboardingState.on_status,
        ),
        width="100%",
    )


def _mic_check() -> rx.Component:
    return rx.vstack(
        rx.heading("Microphone check", size="7", as_="h1"),
        rx.text(
            "Read each line aloud in your normal voice. We measure your pitch range so tones are judged "
            "against your own voice, not someone else's.",
            color=rx.color("gray", 11),
        ),
        _progress_text(),
        _prompt_card(),
        _recorder(OnboardingState.calibration_url, mode="calibration", max_seconds=10),
        scoring_feedback(OnboardingState, verdict_feedback_ui()),
        rx.button(
            "Skip the microphone check for now", variant="ghost", on_click=OnboardingState.skip_mic_check
        ),
        spacing="4",
        width="100%",
    )


def _mic_done() -> rx.Component:
    return rx.vstack(
        rx.heading("Microphone check passed", size="7", as_="h1"),
        # High-contrast text on the soft green box (axe colour-contrast): gray 12 on green 3.
        rx.callout.root(
            rx.callout.icon(rx.icon("audio-lines")),
            rx.callout.text(OnboardingState.profile_note, color=rx.color("gray", 12)),
            color_scheme="green",
            role="status",
            data_testid="voice-summary",
        ),
        rx.text("Now say five phrases so we can recommend where to start."),
        rx.button("Start the placement", on_click=OnboardingState.start_placement, size="3"),
        spacing="4",
    )


def _placement() -> rx.Component:
    return rx.vstack(
        rx.heading("Placement", size="7", as_="h1"),
        rx.text("Say each phrase. It's fine to find the later ones hard.", color=rx.color("gray", 11)),
        _progress_text(),
        _prompt_card(),
        rx.el.audio(
            src=OnboardingState.reference_audio_url,
            controls=True,
            preload="none",
            aria_label="Reference recording",
        ),
        _recorder(OnboardingState.upload_url, mode="placement", max_seconds=15),
        scoring_feedback(OnboardingState, verdict_feedback_ui()),
        rx.cond(
            OnboardingState.has_result,
            rx.cond(
                OnboardingState.prompt_index + 1 < OnboardingState.prompt_count,
                rx.button("Next phrase", on_click=OnboardingState.next_placement, size="3"),
                rx.button("See my recommendation", on_click=OnboardingState.finish_placement, size="3"),
            ),
        ),
        rx.button("Skip the placement", variant="ghost", on_click=OnboardingState.finish_placement),
        spacing="4",
        width="100%",
    )


def _done() -> rx.Component:
    return rx.vstack(
        rx.heading("You're all set", size="7", as_="h1"),
        rx.card(
            rx.vstack(
                rx.text("We recommend starting with", size="2", color=rx.color("gray", 11)),
                rx.heading(OnboardingState.recommended_title, size="6", as_="h2"),
                rx.text(OnboardingState.recommended_reason),
                spacing="2",
            ),
            size="3",
            width="100%",
        ),
        rx.button("Start learning", on_click=OnboardingState.finish, size="3"),
        spacing="4",
        width="100%",
    )


@template(
    routes.ONBOARDING, "Getting started", access="user", on_load=[OnboardingState.load], max_width="760px"
)
def onboarding() -> rx.Component:
    return rx.match(
        OnboardingState.step,
        ("questions", _questions()),
        ("mic_check", _mic_check()),
        ("mic_done", _mic_done()),
        ("placement", _placement()),
        ("done", _done()),
        _questions(),
    )
