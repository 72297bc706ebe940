"""Practice building blocks: the phrase card, per-syllable feedback with pitch contours, mic help.

Components take values and handlers only; the states decide what to show.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import reflex as rx
from reflex.vars import ArrayVar

from components.props import Handler, Row, VarOr
from components.recorder import recorder, result_focus
from sayzhong import routes

if TYPE_CHECKING:  # states are passed in by pages; components never import them at run time
    from state.practice import PracticeState, ScoringState

TONE_COLOURS = {1: "blue", 2: "green", 3: "amber", 4: "red", 5: "gray"}
VERDICT_COLOURS = {
    "correct": "green",
    "wrong_tone": "red",
    "unclear": "amber",
    "neutral": "gray",
    "not_said": "gray",
}


def tone_colour(tone: rx.Var) -> rx.Var:
    return rx.match(
        tone,
        (1, rx.color("blue", 11)),
        (2, rx.color("green", 11)),
        (3, rx.color("amber", 11)),
        (4, rx.color("red", 11)),
        rx.color("gray", 11),
    )


def verdict_scheme(verdict: rx.Var) -> rx.Var:
    return rx.match(
        verdict,
        ("correct", "green"),
        ("wrong_tone", "red"),
        ("unclear", "amber"),
        ("not_said", "gray"),
        "gray",
    )


def pinyin_line(syllables: VarOr[Sequence[Any]]) -> rx.Component:
    """Pinyin coloured by tone; `syllables` is a list of {"text": "nǐ", "tone": 3}."""
    return rx.hstack(
        rx.foreach(
            syllables,
            lambda s: rx.text(s["text"], color=tone_colour(s["tone"]), size="5", weight="medium"),
        ),
        spacing="2",
        flex_wrap="wrap",
        aria_label="Pinyin",
    )


def tone_change_notes(notes: VarOr[Sequence[str]]) -> rx.Component:
    """The one way a tone change (sandhi) is shown: phrase cards, placement prompts, result cards.
    `notes` is a list of sentences from `sayzhong.practice.hints.tone_change_note`."""
    notes_var = rx.Var.create(notes).to(list)
    return rx.cond(
        notes_var.length() > 0,
        rx.vstack(
            rx.foreach(
                notes_var,
                lambda note: rx.hstack(
                    rx.icon(
                        "arrow-right-left", size=14, aria_hidden="true", flex_shrink="0", margin_top="3px"
                    ),
                    rx.text(rx.text.strong("Tone change: "), note, size="2"),
                    spacing="2",
                    align="start",
                ),
            ),
            spacing="1",
            color=rx.color("gray", 12),
            data_testid="tone-change",
        ),
    )


def phrase_card(
    *,
    hanzi: VarOr[str],
    syllables: VarOr[Sequence[Any]],
    english: VarOr[str],
    note: VarOr[str],
    reference_url: VarOr[str],
    tone_changes: VarOr[Sequence[str]] | None = None,
) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(hanzi, size="9", weight="bold", lang="zh-Hans", class_name="hanzi"),
            pinyin_line(syllables),
            rx.text(english, size="4", color=rx.color("gray", 11)),
            tone_change_notes(tone_changes) if tone_changes is not None else rx.fragment(),
            rx.cond(note != "", rx.text(note, size="2", color=rx.color("gray", 11), font_style="italic")),
            rx.hstack(
                rx.el.audio(
                    src=reference_url,
                    controls=True,
                    preload="none",
                    aria_label="Reference recording",
                    style={"height": "36px"},
                ),
                align="center",
                spacing="3",
            ),
            spacing="3",
            align="start",
        ),
        size="4",
        width="100%",
    )


def recorder_panel(
    *,
    upload_url: VarOr[str],
    item_id: VarOr[str],
    mode: VarOr[str],
    on_scored: Handler,
    on_error: Handler,
    on_status: Handler,
    label: str = "Record",
) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text("Press record, say the phrase, then pause — recording stops by itself.", size="2"),
            recorder(
                upload_url=upload_url,
                item_id=item_id,
                mode=mode,
                max_seconds=15,
                silence_seconds=1.2,
                label=label,
                disabled=item_id == "",
                on_scored=on_scored,
                on_error=on_error,
                on_status=on_status,
            ),
            spacing="3",
            width="100%",
        ),
        size="3",
        width="100%",
    )


def mic_help(code: VarOr[str]) -> rx.Component:
    steps = rx.match(
        code,
        (
            "mic_denied",
            rx.vstack(
                rx.text("SayZhong needs your microphone to hear you.", weight="bold"),
                rx.el.ol(
                    rx.el.li("Click the lock or microphone icon at the left of the address bar."),
                    rx.el.li("Set Microphone to “Allow” for this site."),
                    rx.el.li("Reload the page and press Record again."),
                    style={"paddingLeft": "1.2em"},
                ),
                rx.text(
                    "On a phone, also check that your browser may use the microphone in system settings.",
                    size="2",
                ),
                spacing="2",
            ),
        ),
        (
            "mic_missing",
            rx.vstack(
                rx.text("We could not find a microphone.", weight="bold"),
                rx.el.ol(
                    rx.el.li("Plug in a headset or microphone, or enable the built-in one."),
                    rx.el.li("Check your computer's sound settings for an input device."),
                    rx.el.li("Reload the page and press Record again."),
                    style={"paddingLeft": "1.2em"},
                ),
                spacing="2",
            ),
        ),
        (
            "mic_busy",
            rx.text("Another app is using your microphone. Close it (video calls, recorders) and try again."),
        ),
        rx.text("Your browser could not start recording. Try a recent Chrome, Edge, Firefox or Safari."),
    )
    return rx.callout.root(
        rx.callout.icon(rx.icon("mic-off")),
        rx.callout.text(steps),
        color_scheme="amber",
        role="alert",
        width="100%",
    )


def score_pill(label: str, value: VarOr[int]) -> rx.Component:
    return rx.vstack(
        rx.text(value, size="7", weight="bold"),
        rx.text(label, size="1", color=rx.color("gray", 11), white_space="nowrap"),
        align="center",
        spacing="0",
        role="listitem",
        aria_label=f"{label}: " + rx.Var.create(value).to_string(),
    )


def contour_chart(points: rx.Var) -> rx.Component:
    """Learner vs target pitch on the Chao scale (1 = lowest, 5 = highest of the speaker's range)."""
    return rx.recharts.line_chart(
        rx.recharts.line(
            data_key="target",
            stroke=rx.color("gray", 10),
            stroke_width=3,
            stroke_dasharray="6 4",
            dot=False,
            name="Target",
            type_="monotone",
            is_animation_active=False,
        ),
        rx.recharts.line(
            data_key="learner",
            stroke=rx.color("accent", 9),
            stroke_width=3,
            dot=False,
            name="You",
            type_="monotone",
            connect_nulls=True,
            is_animation_active=False,
        ),
        rx.recharts.y_axis(
            domain=[0.5, 5.5], ticks=[1, 3, 5], width=24, tick_line=False, allow_data_overflow=True
        ),
        rx.recharts.x_axis(data_key="x", hide=True),
        rx.recharts.legend(vertical_align="top", height=20, icon_size=10),
        data=points,
        width="100%",
        height=130,
        margin={"top": 4, "right": 6, "bottom": 0, "left": 0},
    )


@dataclasses.dataclass(frozen=True)
class VerdictFeedbackUi:
    """What the "Was this right?" row needs: keys ("<attempt>-<position>") already answered, disputed
    and shared, and the handlers `on_answer(attempt_id, position, answer)` and `on_share(…)`."""

    answered: ArrayVar[Any]
    disputed: ArrayVar[Any]
    shared: ArrayVar[Any]
    on_answer: Handler
    on_share: Handler


def verdict_feedback(syl: Row, ui: VerdictFeedbackUi) -> rx.Component:
    """ "Was this right?" under a judged syllable (support centre, issue 13)."""
    key = syl["attempt_id"].to_string() + "-" + syl["position"].to_string()
    answers = (("yes", "Yes"), ("no_correct", "No, I said it correctly"), ("no_other", "No, other"))
    return rx.cond(
        ui.answered.contains(key),
        rx.hstack(
            rx.text("Thanks — noted.", size="1", color=rx.color("gray", 11), role="status"),
            rx.cond(
                ui.disputed.contains(key) & ~ui.shared.contains(key),
                rx.button(
                    "Let SayZhong use this take to test scoring",
                    size="1",
                    variant="ghost",
                    on_click=ui.on_share(syl["attempt_id"], syl["position"]),  # type: ignore[operator]  # see components/props.py
                ),
            ),
            spacing="2",
            align="center",
            flex_wrap="wrap",
        ),
        rx.hstack(
            rx.text("Was this right?", size="1"),
            *[
                rx.button(
                    label,
                    size="1",
                    variant="soft",
                    color_scheme="gray",
                    on_click=ui.on_answer(syl["attempt_id"], syl["position"], answer),  # type: ignore[operator]  # see components/props.py
                )
                for answer, label in answers
            ],
            spacing="1",
            flex_wrap="wrap",
            align="center",
        ),
    )


def syllable_card(syl: Row, feedback: VerdictFeedbackUi | None = None) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text(syl["grapheme"], size="7", weight="bold", lang="zh-Hans", class_name="hanzi"),
                rx.vstack(
                    rx.text(syl["pinyin"], size="3", weight="medium"),
                    rx.badge(
                        syl["verdict_label"], color_scheme=verdict_scheme(syl["verdict"]), variant="soft"
                    ),
                    spacing="1",
                ),
                align="center",
                spacing="3",
            ),
            rx.text(
                rx.text.strong(syl["expected_label"]),
                " · ",
                syl["heard_label"],
                size="2",
            ),
            tone_change_notes(syl["tone_changes"]),
            rx.box(
                contour_chart(syl["points"]),
                width="100%",
                aria_label="Pitch contour: your voice over the target",
            ),
            rx.text(syl["hint"], size="2", color=rx.color("gray", 11)),
            # Support centre (issue 13): each verdict links to the help article that explains it.
            rx.link(
                "What does this mean?",
                href=rx.match(
                    syl["verdict"],
                    ("correct", routes.help_article_url("four-tones")),
                    ("wrong_tone", routes.help_article_url("wrong-tone-verdict")),
                    ("neutral", routes.help_article_url("neutral-tone")),
                    ("not_said", routes.help_article_url("recording-too-quiet")),
                    routes.help_article_url("unclear-verdict"),
                ),
                size="1",
                is_external=True,
            ),
            *(
                [rx.cond(syl["verdict"] != "neutral", verdict_feedback(syl, feedback))]
                if feedback is not None
                else []
            ),
            spacing="2",
            width="100%",
        ),
        size="2",
        border_top=rx.cond(
            syl["verdict"] == "correct",
            f"4px solid {rx.color('green', 9)}",
            rx.match(
                syl["verdict"],
                ("wrong_tone", f"4px solid {rx.color('red', 9)}"),
                ("unclear", f"4px solid {rx.color('amber', 9)}"),
                f"4px solid {rx.color('gray', 8)}",
            ),
        ),
        role="listitem",
        data_testid="syllable-result",
    )


def result_announcer(text: VarOr[str]) -> rx.Component:
    """A polite live region, always in the page so screen readers notice when its text changes."""
    return rx.el.div(
        text, role="status", aria_live="polite", aria_atomic="true", class_name="visually-hidden"
    )


def result_panel(
    *,
    pron: VarOr[int],
    said: VarOr[int],
    fluency: VarOr[int],
    tone: VarOr[int],
    engine_note: VarOr[str],
    syllables: VarOr[Sequence[Any]],
    attempt_audio_url: VarOr[str],
    focus_key: VarOr[str],
    said_message: VarOr[str] = "",
    not_said: VarOr[bool] = False,
    feedback: VerdictFeedbackUi | None = None,
    share_href: VarOr[str] = "",
) -> rx.Component:
    """`said` is the completeness score, shown as "Syllables said" (how much of the phrase was heard),
    kept apart from "Tones" so a clearly said syllable in the wrong tone reads as a tone problem, not
    as a low number beside the syllables the learner did say."""
    # Four scores: one row from tablet width, a 2×2 grid on phones (never one orphan on a row).
    scores = rx.grid(
        score_pill("Overall", pron),
        score_pill("Tones", tone),
        score_pill("Syllables said", said),
        score_pill("Fluency", fluency),
        columns=rx.breakpoints(initial="2", sm="4"),
        spacing="3",
        width="100%",
        max_width="520px",
        role="list",
        aria_label="Scores out of 100",
    )
    cards = rx.grid(
        rx.foreach(syllables, lambda syl: syllable_card(syl, feedback)),
        columns=rx.breakpoints(initial="1", xs="2", md="4"),
        spacing="3",
        width="100%",
        role="list",
        aria_label="Feedback per syllable",
    )
    return result_focus(
        rx.vstack(
            rx.heading("Your result", size="5", as_="h2", id="result-heading"),
            rx.cond(
                said_message != "",
                rx.callout(
                    said_message,
                    icon="ear",
                    color_scheme=rx.cond(not_said, "red", "amber"),
                    data_testid="said-message",
                    width="100%",
                ),
            ),
            # A take of something else gets no scores or tone verdicts, only the message and replay.
            rx.cond(not_said, rx.fragment(), rx.fragment(scores, cards)),
            rx.hstack(
                rx.text("Your take:", size="2"),
                rx.el.audio(
                    src=attempt_audio_url, controls=True, preload="none", aria_label="Your recording"
                ),
                align="center",
                spacing="2",
            ),
            rx.cond(share_href != "", rx.link("Share this result", href=share_href, size="2")),  # issue 14
            rx.text(engine_note, size="1", color=rx.color("gray", 11)),
            spacing="4",
            width="100%",
        ),
        focus_key=focus_key,
        id="result",
        class_name="result-focus",
        aria_label="Pronunciation result",
        width="100%",
    )


def scoring_feedback(state: type[ScoringState], feedback: VerdictFeedbackUi | None = None) -> rx.Component:
    """Mic help, error and the result panel of any scoring state (practice, review, dialogue,
    onboarding): the state class is read for its vars only. `feedback` adds the support centre's
    "Was this right?" row under each judged syllable."""
    return rx.fragment(
        result_announcer(state.announcement),
        rx.cond(state.mic_error != "", mic_help(state.mic_error)),
        rx.cond(
            state.error != "",
            rx.callout(state.error, icon="triangle-alert", color_scheme="red", role="alert", width="100%"),
        ),
        rx.cond(  # billing (issue 12): the upgrade path from every plan-limit message
            state.plan_limited & (state.error != ""),
            rx.hstack(
                rx.link(rx.button("See Plus plans"), href=routes.PRICING),
                rx.link("Plan and billing", href=routes.BILLING),
                spacing="3",
                align="center",
            ),
        ),
        rx.cond(
            state.has_result,
            result_panel(
                pron=state.pron,
                said=state.said,
                fluency=state.fluency,
                tone=state.tone,
                engine_note=state.engine_note,
                syllables=state.result_syllables,
                attempt_audio_url=state.attempt_audio_url,
                said_message=state.said_message,
                not_said=state.not_said,
                focus_key=state.result_key,
                feedback=feedback,
                share_href=state.share_href,
            ),
        ),
    )


def practice_panel(
    state: type[PracticeState], *, mode: str, feedback: VerdictFeedbackUi | None = None
) -> rx.Component:
    """Phrase card, recorder and result for the current item of a practice-like state."""
    return rx.fragment(
        phrase_card(
            hanzi=state.hanzi,
            syllables=state.syllables,
            english=state.english,
            note=state.note,
            reference_url=state.reference_audio_url,
            tone_changes=state.tone_changes,
        ),
        recorder_panel(
            upload_url=state.upload_url,
            item_id=state.item_id,
            mode=mode,
            on_scored=state.on_scored,
            on_error=state.on_error,
            on_status=state.on_status,
        ),
        scoring_feedback(state, feedback),
    )


def practice_skeleton() -> rx.Component:
    """Shown until the lesson has loaded, instead of an empty card and a stray "Finish unit"."""
    return rx.vstack(
        rx.heading("Loading the lesson…", size="6", as_="h1", class_name="visually-hidden"),
        rx.skeleton(rx.box(height="32px", width="40%")),
        rx.skeleton(rx.box(height="220px", width="100%")),
        rx.skeleton(rx.box(height="120px", width="100%")),
        spacing="4",
        width="100%",
        aria_busy="true",
        data_testid="practice-skeleton",
    )
