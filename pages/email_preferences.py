"""E-mail preferences (issue 14): the preference centre in the account area, and the page every
reminder links to (signed link, no sign-in needed)."""

import reflex as rx

from components.browser_timezone import browser_timezone
from components.forms import error_message, success_message
from components.props import Handler, VarOr
from pages.account import TIMEZONES
from pages.template import template
from sayzhong import routes
from sayzhong.notifications.preferences import CATEGORIES, Category
from state.email_preferences import REMINDER_TIMES, EmailPreferencesState

S = EmailPreferencesState


def _select(label: str, name: str, options: list[str], value: VarOr[str], on_change: Handler) -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=f"field-{name}", style={"fontWeight": 500, "fontSize": "14px"}),
        rx.el.select(
            rx.foreach(options, lambda option: rx.el.option(option, value=option)),
            id=f"field-{name}",
            name=name,
            value=value,
            on_change=on_change,
            style={"padding": "8px", "borderRadius": "8px", "width": "100%"},
        ),
        spacing="1",
        width="100%",
    )


def _category_switch(category: Category) -> rx.Component:
    switch_id = f"email-{category.key}"
    return rx.hstack(
        rx.switch(
            id=switch_id,
            checked=getattr(S, category.key),
            on_change=lambda value: S.set_choice(category.key, value),  # type: ignore[operator]  # see components/props.py
            size="2",
        ),
        rx.vstack(
            rx.el.label(category.label, html_for=switch_id, style={"fontWeight": 500}),
            rx.text(category.about, size="2", color=rx.color("gray", 11)),
            spacing="0",
        ),
        align="start",
        spacing="3",
        width="100%",
    )


def _form() -> rx.Component:
    return rx.vstack(
        browser_timezone(on_detect=S.detect_timezone),
        rx.el.fieldset(
            rx.el.legend("Which e-mails do you want?", style={"fontWeight": 600, "marginBottom": "8px"}),
            rx.vstack(*(_category_switch(c) for c in CATEGORIES.values()), spacing="4", width="100%"),
            style={"border": "none", "padding": 0, "margin": 0, "width": "100%"},
        ),
        _select("Daily reminder time", "reminder_time", REMINDER_TIMES, S.reminder_time, S.set_reminder_time),
        _select("Time zone", "timezone", TIMEZONES, S.timezone, S.set_timezone),
        rx.cond(
            S.suggest_browser_timezone,
            rx.callout(
                rx.hstack(
                    rx.text("Your browser says you are in ", rx.text.strong(S.browser_timezone), "."),
                    rx.button(
                        "Use this time zone", size="1", variant="soft", on_click=S.use_browser_timezone
                    ),
                    wrap="wrap",
                    align="center",
                    spacing="3",
                ),
                icon="globe",
                color_scheme="blue",
                width="100%",
            ),
        ),
        rx.text(
            "We only e-mail a confirmed address. Every e-mail has a one-click unsubscribe link.",
            size="2",
            color=rx.color("gray", 11),
        ),
        success_message(S.message),
        error_message(S.error),
        rx.button("Save e-mail settings", on_click=S.save, size="3"),
        spacing="4",
        width="100%",
    )


@template(
    routes.ACCOUNT_EMAIL,
    "E-mail reminders",
    access="user",
    on_load=[EmailPreferencesState.load_account],
    max_width="640px",
)
def account_email() -> rx.Component:
    return rx.vstack(
        rx.link("← Account settings", href=routes.ACCOUNT, size="2"),
        rx.heading("E-mail reminders", size="8", as_="h1"),
        rx.text("Practice reminders and summaries sent to ", rx.text.strong(S.email_hint), "."),
        rx.card(_form(), size="3", width="100%"),
        spacing="5",
        width="100%",
    )


def _one_category() -> rx.Component:
    return rx.vstack(
        rx.text("Stop ", rx.text.strong(S.link_category_label), " e-mails to ", S.email_hint, "?"),
        success_message(S.message),
        rx.button("Unsubscribe", on_click=S.unsubscribe_link, size="3", color_scheme="red"),
        rx.text(
            "To change other e-mails, your reminder time or time zone, ",
            rx.link("sign in", href=routes.sign_in_url(routes.ACCOUNT_EMAIL)),
            ".",
            size="2",
        ),
        spacing="4",
        width="100%",
    )


@template(
    routes.EMAIL_PREFERENCES,
    "E-mail settings",
    on_load=[EmailPreferencesState.load_link],
    max_width="640px",
)
def email_settings_link() -> rx.Component:
    return rx.vstack(
        rx.heading("E-mail settings", size="8", as_="h1"),
        error_message(S.error),
        rx.cond(
            S.loaded,
            rx.cond(
                S.link_category == "all",
                rx.vstack(
                    rx.text("Settings for ", rx.text.strong(S.email_hint), "."),
                    rx.card(_form(), size="3", width="100%"),
                    spacing="4",
                    width="100%",
                ),
                rx.card(_one_category(), size="3", width="100%"),
            ),
        ),
        spacing="5",
        width="100%",
    )
