"""Account settings: profile, password, signed-in devices."""

import zoneinfo

import reflex as rx

from components.forms import error_message, field, success_message
from pages.template import template
from sayzhong import routes
from state.accounts import AccountState
from state.session import SessionState

TIMEZONES = [
    "UTC",
    *sorted(
        tz
        for tz in zoneinfo.available_timezones()
        if "/" in tz and not tz.startswith(("Etc/", "SystemV/", "posix/", "right/", "US/"))
    ),
]


def _section(title: str, *children: rx.Component) -> rx.Component:
    return rx.card(
        rx.vstack(rx.heading(title, size="5", as_="h2"), *children, spacing="4", width="100%"),
        size="3",
        width="100%",
    )


def _device(device: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(device["agent"]),
        rx.table.cell(device["ip"]),
        rx.table.cell(device["last_seen"]),
        rx.table.cell(rx.cond(device["current"] == "yes", rx.badge("This device", color_scheme="green"), "")),
    )


@template(routes.ACCOUNT, "Account settings", access="user", on_load=[AccountState.load], max_width="760px")
def account() -> rx.Component:
    return rx.vstack(
        rx.heading("Account settings", size="8", as_="h1"),
        rx.text("Signed in as ", rx.text.strong(SessionState.email), color=rx.color("gray", 11)),
        _section(
            "Profile",
            rx.form(
                rx.vstack(
                    success_message(AccountState.profile_message),
                    error_message(AccountState.profile_error),
                    field(
                        "Display name", "display_name", default_value=AccountState.display_name, max_length=80
                    ),
                    rx.vstack(
                        rx.el.label(
                            "Time zone",
                            html_for="field-timezone",
                            style={"fontWeight": 500, "fontSize": "14px"},
                        ),
                        rx.el.select(
                            rx.foreach(TIMEZONES, lambda tz: rx.el.option(tz, value=tz)),
                            id="field-timezone",
                            name="timezone",
                            value=AccountState.timezone,
                            on_change=AccountState.set_timezone_choice,
                            style={"padding": "8px", "borderRadius": "8px", "width": "100%"},
                        ),
                        spacing="1",
                        width="100%",
                    ),
                    field(
                        "Daily practice goal (minutes)",
                        "daily_goal_minutes",
                        type_="number",
                        default_value=AccountState.daily_goal_minutes,
                        hint="Between 5 and 120 minutes.",
                        max_length=3,
                    ),
                    rx.button("Save profile", type="submit"),
                    spacing="3",
                    width="100%",
                ),
                on_submit=AccountState.save_profile,
                reset_on_submit=False,
            ),
        ),
        rx.cond(
            AccountState.has_password,
            _section(
                "Password",
                rx.form(
                    rx.vstack(
                        success_message(AccountState.password_message),
                        error_message(AccountState.password_error),
                        field(
                            "Current password",
                            "current_password",
                            type_="password",
                            autocomplete="current-password",
                            max_length=128,
                        ),
                        field(
                            "New password",
                            "new_password",
                            type_="password",
                            autocomplete="new-password",
                            max_length=128,
                        ),
                        field(
                            "Repeat new password",
                            "new_password_confirm",
                            type_="password",
                            autocomplete="new-password",
                            max_length=128,
                        ),
                        rx.button("Change password", type="submit"),
                        spacing="3",
                        width="100%",
                    ),
                    on_submit=AccountState.change_password,
                    reset_on_submit=True,
                ),
            ),
        ),
        _section(
            "Signed-in devices",
            success_message(AccountState.sessions_message),
            rx.box(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            rx.table.column_header_cell("Device"),
                            rx.table.column_header_cell("IP address"),
                            rx.table.column_header_cell("Last active"),
                            rx.table.column_header_cell(""),
                        )
                    ),
                    rx.table.body(rx.foreach(AccountState.devices, _device)),
                    width="100%",
                ),
                overflow_x="auto",
                width="100%",
            ),
            rx.button(
                "Sign out all other devices",
                variant="outline",
                color_scheme="red",
                on_click=AccountState.sign_out_others,
            ),
        ),
        spacing="5",
        width="100%",
    )
