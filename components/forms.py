"""Form building blocks: labelled fields, messages and submit buttons with a busy state."""

from __future__ import annotations

import reflex as rx

from components.props import Handler, VarOr


def field(
    label: str,
    name: str,
    *,
    type_: str = "text",
    placeholder: str = "",
    autocomplete: str = "off",
    required: bool = True,
    hint: str = "",
    default_value: str | rx.Var = "",
    max_length: int = 254,
) -> rx.Component:
    input_id = f"field-{name}"
    return rx.vstack(
        rx.el.label(label, html_for=input_id, style={"fontWeight": 500, "fontSize": "14px"}),
        rx.input(
            id=input_id,
            name=name,
            type=type_,
            placeholder=placeholder,
            auto_complete=autocomplete,
            required=required,
            default_value=default_value,
            max_length=max_length,
            size="3",
            width="100%",
        ),
        rx.cond(hint != "", rx.text(hint, size="1", color=rx.color("gray", 11))),
        spacing="1",
        width="100%",
    )


def error_message(message: VarOr[str]) -> rx.Component:
    return rx.cond(
        message != "",
        rx.callout(message, icon="triangle-alert", color_scheme="red", role="alert", width="100%"),
    )


def success_message(message: VarOr[str]) -> rx.Component:
    return rx.cond(
        message != "",
        rx.callout(message, icon="circle-check", color_scheme="green", role="status", width="100%"),
    )


def submit_button(label: str, *, busy: VarOr[bool]) -> rx.Component:
    return rx.button(label, type="submit", loading=busy, size="3", width="100%")


def card_form(title: str, subtitle: str, *children: rx.Component, on_submit: Handler) -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading(title, size="6", as_="h1"),
                rx.text(subtitle, color=rx.color("gray", 11)),
                *children,
                spacing="4",
                width="100%",
            ),
            on_submit=on_submit,
            reset_on_submit=False,
        ),
        width="100%",
        max_width="440px",
        size="4",
    )
