"""403 and 404 pages."""

import reflex as rx

from components.layout import link_button
from pages.template import template
from sayzhong import routes


def _message(code: str, title: str, body: str) -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.text(code, size="9", weight="bold", color=rx.color("accent", 9)),
            rx.heading(title, size="7", as_="h1"),
            rx.text(body, color=rx.color("gray", 11), text_align="center", max_width="480px"),
            link_button("Go to the home page", routes.HOME),
            align="center",
            spacing="4",
        ),
        padding_y="4em",
        width="100%",
    )


@template(routes.FORBIDDEN, "Not allowed")
def forbidden() -> rx.Component:
    return _message(
        "403",
        "This area is for SayZhong staff",
        "Your account does not have access to this page. If you think it should, ask an administrator.",
    )


@template("404", "Page not found")
def not_found() -> rx.Component:
    return _message(
        "404", "We could not find that page", "The link may be broken or the page may have moved."
    )
