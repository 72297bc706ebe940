"""Landing page: what SayZhong is and why tones matter."""

import reflex as rx

from components.layout import link_button
from pages.template import template
from sayzhong import routes
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


def _tone(number: str, mark: str, name: str, colour: str) -> rx.Component:
    return rx.vstack(
        rx.text(mark, size="8", weight="bold", color=rx.color(colour, 11), lang="zh-Hans"),
        rx.text(f"Tone {number}", size="2", weight="medium"),
        rx.text(name, size="1", color=rx.color("gray", 11)),
        align="center",
        spacing="1",
    )


@template(routes.LANDING, "SayZhong")
def landing() -> rx.Component:
    return rx.vstack(
        rx.vstack(
            rx.badge("Speak Mandarin with confidence", size="2", variant="soft"),
            rx.heading("Say it right. Tone by tone.", size="9", as_="h1", text_align="center"),
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
        rx.hstack(
            _tone("1", "mā", "high and level", "blue"),
            _tone("2", "má", "rising", "green"),
            _tone("3", "mǎ", "low, dipping", "amber"),
            _tone("4", "mà", "falling", "red"),
            justify="center",
            spacing="7",
            flex_wrap="wrap",
            width="100%",
            aria_label="The four tones of Mandarin",
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
