"""Account settings: profile, password, signed-in devices."""

import zoneinfo

import reflex as rx

from components.forms import error_message, field, success_message
from components.layout import data_table, link_button
from components.notices import notice
from components.props import Row
from components.recorder import copy_button
from pages.privacy import privacy_and_data_section
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


def _token_row(token: Row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(token["name"]),
        rx.table.cell(rx.code(token["prefix"])),
        rx.table.cell(token["scopes"]),
        rx.table.cell(token["expires"]),
        rx.table.cell(token["last_used"]),
        rx.table.cell(
            rx.cond(
                token["status"] == "active",
                rx.button(
                    "Revoke",
                    size="1",
                    variant="outline",
                    color_scheme="red",
                    on_click=AccountState.revoke_token(token["id"]),  # type: ignore[operator]  # see components/props.py
                    aria_label="Revoke token " + token["name"].to(str),
                ),
                rx.badge(token["status"]),
            )
        ),
    )


def _tokens_section() -> rx.Component:
    return _section(
        "Terminal client and API tokens",
        rx.text(
            "Create a personal access token to practise from the terminal with ",
            rx.code("sayzhong-client login"),
            ". Tokens are stored hashed; copy a new token now — it is shown only once.",
            size="2",
        ),
        rx.cond(
            AccountState.token_error != "",
            rx.callout(AccountState.token_error, color_scheme="red", role="alert", width="100%"),
        ),
        rx.cond(
            AccountState.new_token != "",
            notice(
                rx.vstack(
                    rx.text("Your new token — copy it now, it will not be shown again:", weight="bold"),
                    rx.code(
                        AccountState.new_token,
                        size="3",
                        style={"wordBreak": "break-all"},
                        custom_attrs={"data-copy-source": "true"},
                    ),
                    rx.hstack(
                        copy_button(
                            text=AccountState.new_token, label="Copy token", class_name="copy-button"
                        ),
                        rx.button(
                            "I have copied it",
                            size="1",
                            variant="soft",
                            on_click=AccountState.forget_new_token,
                        ),
                        spacing="3",
                        align="center",
                    ),
                    spacing="2",
                ),
                color_scheme="green",
                role="status",
                width="100%",
            ),
        ),
        rx.form(
            rx.vstack(
                field("Token name", "token_name", placeholder="Laptop terminal", max_length=80),
                rx.hstack(
                    rx.el.label(
                        rx.el.input(type="checkbox", name="scope_practice:read", default_checked=True),
                        " Read lessons and progress",
                        style={"display": "flex", "gap": "6px"},
                    ),
                    rx.el.label(
                        rx.el.input(type="checkbox", name="scope_practice:write", default_checked=True),
                        " Submit recordings",
                        style={"display": "flex", "gap": "6px"},
                    ),
                    spacing="4",
                    flex_wrap="wrap",
                ),
                field(
                    "Expires after (days)",
                    "expires_in_days",
                    type_="number",
                    default_value="90",
                    max_length=3,
                ),
                rx.button("Create token", type="submit"),
                spacing="3",
                width="100%",
            ),
            on_submit=AccountState.create_token,
            reset_on_submit=True,
        ),
        data_table(
            "Your tokens",
            [
                "Name",
                "Token",
                "Scopes",
                "Expires",
                "Last used",
                rx.el.span("Actions", class_name="visually-hidden"),
            ],
            AccountState.tokens,
            _token_row,
            aria_label="Your tokens",
        ),
    )


def _device(device: Row) -> rx.Component:
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
        _section(  # issue 14: reminders and other e-mail
            "E-mail reminders",
            rx.hstack(
                rx.text(
                    "Daily practice reminders, streak alerts and a weekly summary — all opt-in.", size="2"
                ),
                link_button("Choose e-mails", routes.ACCOUNT_EMAIL, variant="outline", size="2"),
                wrap="wrap",
                align="center",
                spacing="3",
            ),
        ),
        _section(
            "Two-factor sign-in",
            rx.hstack(
                rx.cond(
                    SessionState.two_factor_enabled,
                    rx.badge("On", color_scheme="green", size="2"),
                    rx.badge("Off", color_scheme="gray", size="2"),
                ),
                rx.text("A code from your phone in addition to your password.", size="2"),
                link_button("Manage two-factor sign-in", routes.TWO_FACTOR, variant="outline", size="2"),
                wrap="wrap",
                align="center",
                spacing="3",
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
            "Microphone and voice calibration",
            rx.text("Redo the microphone check if you changed microphones or scores feel off.", size="2"),
            link_button("Redo microphone check", routes.ONBOARDING + "?step=mic", variant="outline"),
        ),
        _tokens_section(),
        _section(
            "Signed-in devices",
            success_message(AccountState.sessions_message),
            data_table(
                "Signed-in devices",
                [
                    "Device",
                    "Approximate place",
                    "Last active",
                    rx.el.span("Status", class_name="visually-hidden"),
                ],
                AccountState.devices,
                _device,
            ),
            rx.button(
                "Sign out all other devices",
                variant="outline",
                color_scheme="red",
                on_click=AccountState.sign_out_others,
            ),
        ),
        privacy_and_data_section(),  # issue 11: export and deletion
        spacing="5",
        width="100%",
    )
