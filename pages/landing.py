"""Landing page: what SayZhong is and why tones matter."""

import reflex as rx

from components.layout import link_button
from components.recorder import play_button
from pages.template import template
from sayzhong import routes
from state.experiments import ExperimentExposureState
from state.practice import reference_url
from state.privacy import ConsentState
from state.session import SessionState


def _feature(icon: str, title: str, body: str) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.icon(icon, size=28, color=rx.color("accent", 11)),
            rx.heading(title, size="4", as_="h2"),
            rx.text(body, color=rx.color("gray", 11)),
            spacing="2",
        ),
        size="3",
    )


DEMO_ITEMS = {"1": "drill.t1.ma", "2": "drill.t2.ma", "3": "drill.t3.ma", "4": "drill.t4.ma"}
"""The tone drills 妈 麻 马 骂, whose reference recordings the demo plays."""


def _tone(number: str, mark: str, name: str, colour: str) -> rx.Component:
    return play_button(
        rx.vstack(
            rx.text(mark, size="8", weight="bold", color=rx.color(colour, 11), lang="zh-Latn-pinyin"),
            rx.hstack(
                rx.icon("volume-2", size=14, aria_hidden="true"),
                rx.text(f"Tone {number}", size="2", weight="medium", white_space="nowrap"),
                spacing="1",
                align="center",
            ),
            rx.text(name, size="1", color=rx.color("gray", 11)),
            align="center",
            spacing="1",
        ),
        src=reference_url(DEMO_ITEMS[number]),
        label=f"Play {mark}, tone {number}: {name}",
        class_name="tone-demo",
    )


HEADLINES = {"control": "Say it right. Tone by tone.", "fix_tones": "Hear your tones. Fix them today."}
"""The landing-headline experiment's variants (issue 14; key `landing_headline`, control first)."""


def _headline_text(variant: str, *, report: bool = False, hidden: bool = False) -> rx.Component:
    return rx.heading(
        HEADLINES[variant],
        size="9",
        as_="h1",
        text_align="center",
        width="100%",
        # Exposure is logged when the variant is drawn, not when it is assigned.
        on_mount=ExperimentExposureState.report_exposure("landing_headline", variant) if report else None,  # type: ignore[operator]  # see components/props.py
        style={"visibility": "hidden"} if hidden else None,
    )


def _headline() -> rx.Component:
    return rx.fragment(
        rx.match(
            ExperimentExposureState.landing_slot,
            ("fix_tones*", _headline_text("fix_tones", report=True)),
            ("control*", _headline_text("control", report=True)),
            ("fix_tones", _headline_text("fix_tones")),  # QA link or override: shown, not counted
            ("control", _headline_text("control")),
            _headline_text("control", hidden=True),  # undecided: keep the space, draw nothing yet
        ),
        # A visitor who accepts analytics on this page is enrolled now, not on their next visit.
        rx.cond(
            ConsentState.analytics_on, rx.box(on_mount=ExperimentExposureState.load_landing, display="none")
        ),
    )


@template(routes.LANDING, "SayZhong", on_load=[ExperimentExposureState.load_landing])
def landing() -> rx.Component:
    return rx.vstack(
        rx.vstack(
            rx.badge("Speak Mandarin with confidence", size="2", variant="soft"),
            _headline(),
            rx.text(
                "SayZhong listens to you speak Mandarin and tells you, syllable by syllable, which tone you "
                "said and which one was expected — with your pitch drawn over the target's.",
                size="5",
                color=rx.color("gray", 11),
                text_align="center",
                max_width="680px",
            ),
            rx.cond(
                SessionState.signed_in,
                link_button("Continue learning", routes.HOME, size="4"),
                rx.hstack(
                    link_button("Start speaking — it's free", routes.SIGN_UP, size="4"),
                    link_button("I already have an account", routes.SIGN_IN, size="4", variant="outline"),
                    spacing="3",
                    flex_wrap="wrap",
                    justify="center",
                ),
            ),
            rx.link("See plans and prices", href=routes.PRICING, size="3"),
            align="center",
            spacing="5",
            padding_y="3em",
        ),
        rx.el.section(
            rx.heading(
                "Hear the four tones", size="4", as_="h2", text_align="center", margin_bottom="0.75em"
            ),
            rx.grid(
                _tone("1", "mā", "high and level", "blue"),
                _tone("2", "má", "rising", "green"),
                _tone("3", "mǎ", "low, dipping", "amber"),
                _tone("4", "mà", "falling", "red"),
                columns=rx.breakpoints(initial="2", sm="4"),
                spacing="3",
                width="100%",
                max_width="640px",
                margin_x="auto",
            ),
            aria_label="The four tones of Mandarin",
            style={"width": "100%"},
        ),
        rx.grid(
            _feature(
                "audio-lines",
                "Feedback on every tone",
                "Each syllable is scored. See the tone you produced next to the one expected, and a hint "
                "on how to fix it.",
            ),
            _feature(
                "messages-square",
                "Real conversations",
                "Role-play ordering food, asking directions or meeting new friends — you speak your lines, "
                "the partner answers.",
            ),
            _feature(
                "calendar-check",
                "Review what you miss",
                "Phrases and tone pairs you struggle with come back at the right time, so they stick.",
            ),
            columns=rx.breakpoints(initial="1", sm="3"),
            spacing="4",
            width="100%",
            padding_top="3em",
        ),
        spacing="6",
        width="100%",
    )
