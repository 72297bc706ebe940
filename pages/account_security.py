"""The e-mail confirmation link page and the two-factor sign-in settings page."""

import reflex as rx

from components.forms import error_message, field, submit_button, success_message
from components.layout import link_button
from components.props import Handler
from pages.template import template
from sayzhong import routes
from state.account_security import TwoFactorState, VerifyEmailState
from state.session import SessionState


def _card(*children: rx.Component, **props) -> rx.Component:
    return rx.card(
        rx.vstack(*children, spacing="4", width="100%"), width="100%", max_width="560px", size="4", **props
    )


@template(routes.VERIFY_EMAIL, "Confirm your e-mail address", on_load=[VerifyEmailState.load])
def verify_email() -> rx.Component:
    return rx.center(
        rx.cond(
            VerifyEmailState.done,
            _card(
                rx.heading("E-mail address confirmed", size="6", as_="h1"),
                success_message("Thank you: your e-mail address is confirmed."),
                rx.cond(
                    SessionState.signed_in,
                    link_button("Continue practising", routes.HOME),
                    link_button("Sign in", routes.SIGN_IN),
                ),
                role="status",
            ),
            rx.cond(
                VerifyEmailState.error != "",
                _card(
                    rx.heading("This link did not work", size="6", as_="h1"),
                    error_message(VerifyEmailState.error),
                    rx.cond(
                        SessionState.signed_in,
                        link_button("Go to your home page", routes.HOME),
                        link_button("Sign in", routes.SIGN_IN),
                    ),
                ),
                rx.spinner(size="3", aria_label="Checking your link"),
            ),
        ),
        width="100%",
        padding_y="2em",
    )


def _code_form(label: str, button: str, handler: Handler, *, hint: str = "") -> rx.Component:
    return rx.form(
        rx.vstack(
            field(
                "Code from your authenticator app",
                "code",
                autocomplete="one-time-code",
                placeholder="123456",
                hint=hint,
                max_length=20,
            ),
            rx.button(button, type="submit", size="3", variant="outline"),
            spacing="3",
            width="100%",
            align="start",
        ),
        on_submit=handler,
        reset_on_submit=True,
        aria_label=label,
        width="100%",
    )


def _recovery_codes() -> rx.Component:
    return rx.cond(
        TwoFactorState.recovery_codes.length() > 0,  # type: ignore[attr-defined]
        rx.callout.root(
            rx.callout.text(
                rx.vstack(
                    rx.text(
                        "Your recovery codes. Each one signs you in once if you lose your phone. "
                        "Save them somewhere safe now: they will not be shown again.",
                        weight="medium",
                    ),
                    rx.el.ul(
                        rx.foreach(
                            TwoFactorState.recovery_codes,
                            lambda code: rx.el.li(rx.code(code, size="3")),
                        ),
                        aria_label="Recovery codes",
                        style={"columns": "2", "listStyle": "none", "paddingLeft": "0", "margin": "0"},
                    ),
                    rx.button("I have saved them", size="2", on_click=TwoFactorState.hide_codes),
                    spacing="3",
                ),
            ),
            color_scheme="amber",
            high_contrast=True,
            role="region",
            aria_label="Recovery codes",
            width="100%",
        ),
    )


def _enrolment() -> rx.Component:
    return rx.vstack(
        rx.text(
            "1. Scan this QR code with an authenticator app (for example Aegis, Google Authenticator "
            "or 1Password)."
        ),
        rx.image(
            src=TwoFactorState.qr_data_uri,
            alt="QR code for your authenticator app",
            width="220px",
            height="220px",
            style={"imageRendering": "pixelated", "background": "white"},
        ),
        rx.text("Cannot scan? Type this key into the app instead:", size="2"),
        rx.code(
            TwoFactorState.secret,
            size="3",
            id="totp-secret",
            style={"letterSpacing": "0.08em", "wordBreak": "break-all"},
        ),
        rx.text("2. Enter the 6-digit code the app now shows."),
        rx.form(
            rx.vstack(
                field(
                    "Code from your authenticator app",
                    "code",
                    autocomplete="one-time-code",
                    placeholder="123456",
                    max_length=20,
                ),
                submit_button("Turn on two-factor sign-in", busy=TwoFactorState.busy),
                spacing="3",
                width="100%",
            ),
            on_submit=TwoFactorState.confirm,
            reset_on_submit=True,
            width="100%",
        ),
        spacing="3",
        width="100%",
        align="start",
    )


@template(routes.TWO_FACTOR, "Two-factor sign-in", access="user", on_load=[TwoFactorState.load])
def two_factor_settings() -> rx.Component:
    return rx.center(
        _card(
            rx.heading("Two-factor sign-in", size="6", as_="h1"),
            rx.text(
                "Signing in asks for your password and a code from an app on your phone, so a stolen "
                "password alone does not open your account.",
                color=rx.color("gray", 11),
            ),
            rx.cond(
                TwoFactorState.required & ~TwoFactorState.enabled,
                rx.callout(
                    "Staff accounts must use two-factor sign-in. Turn it on here to open the staff area.",
                    icon="shield-alert",
                    color_scheme="amber",
                    high_contrast=True,
                    role="alert",
                    width="100%",
                ),
            ),
            error_message(TwoFactorState.error),
            success_message(TwoFactorState.message),
            _recovery_codes(),
            rx.cond(
                TwoFactorState.enabled,
                rx.vstack(
                    rx.badge("On", color_scheme="green", size="3"),
                    rx.text(TwoFactorState.codes_left.to_string() + " unused recovery codes left."),  # type: ignore[attr-defined]
                    rx.heading("New recovery codes", size="4", as_="h2"),
                    _code_form(
                        "New recovery codes",
                        "Make new recovery codes",
                        TwoFactorState.regenerate,
                        hint="The old codes stop working.",
                    ),
                    rx.cond(
                        TwoFactorState.required,
                        rx.text(
                            "Staff accounts keep two-factor sign-in on. Lost your phone? Ask an "
                            "administrator to reset it.",
                            size="2",
                            color=rx.color("gray", 11),
                        ),
                        rx.vstack(
                            rx.heading("Turn off", size="4", as_="h2"),
                            _code_form("Turn off two-factor sign-in", "Turn off", TwoFactorState.disable),
                            width="100%",
                        ),
                    ),
                    rx.cond(SessionState.is_staff, link_button("Open the staff area", routes.ADMIN)),
                    spacing="3",
                    width="100%",
                    align="start",
                ),
                rx.cond(
                    TwoFactorState.enrolling,
                    _enrolment(),
                    rx.button("Set up two-factor sign-in", size="3", on_click=TwoFactorState.start),
                ),
            ),
            link_button("Back to your account", routes.ACCOUNT, variant="ghost"),
        ),
        width="100%",
        padding_y="2em",
    )
