"""Learner home."""

import reflex as rx

from pages.template import template
from sayzhong import routes
from state.session import SessionState


@template(routes.HOME, "Home", access="user")
def home() -> rx.Component:
    return rx.vstack(
        rx.heading("你好, " + SessionState.display_name + "!", size="8", as_="h1"),
        rx.text("Ready for today's speaking practice?", size="4", color=rx.color("gray", 11)),
        rx.grid(
            rx.card(
                rx.vstack(
                    rx.icon("mic", size=24, color=rx.color("accent", 10)),
                    rx.heading("Speak and get tone feedback", size="4", as_="h2"),
                    rx.text(
                        "Practise phrases and dialogues; every syllable is scored.",
                        color=rx.color("gray", 11),
                    ),
                    spacing="2",
                ),
                size="3",
            ),
            rx.card(
                rx.vstack(
                    rx.icon("settings", size=24, color=rx.color("accent", 10)),
                    rx.heading("Your settings", size="4", as_="h2"),
                    rx.text("Daily goal, time zone and signed-in devices.", color=rx.color("gray", 11)),
                    rx.link("Open account settings", href=routes.ACCOUNT),
                    spacing="2",
                ),
                size="3",
            ),
            columns=rx.breakpoints(initial="1", sm="2"),
            spacing="4",
            width="100%",
        ),
        spacing="5",
        width="100%",
    )
