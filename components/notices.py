"""Page-wide notices shown above a page's content (e.g. "confirm your e-mail address")."""

from __future__ import annotations

import reflex as rx

from components.props import Handler, VarOr


def verify_email_banner(
    *,
    show: VarOr[bool],
    email: VarOr[str],
    message: VarOr[str],
    error: VarOr[str],
    busy: VarOr[bool],
    on_resend: Handler,
) -> rx.Component:
    """Asks an unverified learner to open the link we mailed, with a throttled "send again" button."""
    return rx.cond(
        show,
        rx.callout.root(
            rx.callout.icon(rx.icon("mail-warning")),
            rx.callout.text(
                rx.flex(
                    rx.text(
                        "Please confirm your e-mail address: open the link we sent to ",
                        rx.text.strong(email),
                        ". Until then we send you no reminders or newsletters.",
                    ),
                    rx.button(
                        "Send the link again",
                        size="1",
                        variant="outline",
                        high_contrast=True,
                        loading=busy,
                        on_click=on_resend,
                    ),
                    rx.cond(message != "", rx.text(message, weight="medium", role="status")),
                    rx.cond(error != "", rx.text(error, color=rx.color("red", 11), role="alert")),
                    wrap="wrap",
                    gap="2",
                    align="center",
                ),
            ),
            color_scheme="amber",
            high_contrast=True,
            size="1",
            role="region",
            aria_label="Confirm your e-mail address",
            margin_bottom="1em",
            width="100%",
        ),
    )


def notice(*children: rx.Component | str, icon: str = "info", **props: object) -> rx.Component:
    """A callout whose content is laid out by the caller (rows, paragraphs, buttons).

    `rx.callout(content, icon=…)` wraps its content in one `<p>`: a paragraph or a stack inside it
    is invalid HTML, which the browser re-parses differently from React's tree, so a prerendered
    page fails to hydrate (React error #418 on the help centre). Here the content sits in a `<div>`
    beside the icon instead."""
    return rx.callout.root(rx.callout.icon(rx.icon(icon)), rx.box(*children), **props)
