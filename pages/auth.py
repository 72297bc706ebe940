"""Sign up, sign in, forgotten password and password reset pages."""

import reflex as rx

from components.consent import terms_acceptance_checkbox
from components.forms import card_form, error_message, field, submit_button, success_message
from components.layout import link_button
from pages.template import template
from sayzhong import routes
from state.accounts import ForgotPasswordState, ResetPasswordState, SignInState, SignUpState
from state.session import SessionState

PASSWORD_HINT = "8 to 128 characters. Avoid common passwords; a short sentence works well."


def _centered(child: rx.Component) -> rx.Component:
    return rx.center(child, width="100%", padding_y="2em")


@template(routes.SIGN_UP, "Create your account", access="guest")
def sign_up() -> rx.Component:
    return _centered(
        card_form(
            "Create your account",
            "Start speaking Mandarin in minutes.",
            error_message(SignUpState.error),
            field("Your name", "display_name", autocomplete="name", placeholder="Alex", max_length=80),
            field(
                "E-mail address", "email", type_="email", autocomplete="email", placeholder="you@example.com"
            ),
            field(
                "Password",
                "password",
                type_="password",
                autocomplete="new-password",
                hint=PASSWORD_HINT,
                max_length=128,
            ),
            field(
                "Repeat password",
                "password_confirm",
                type_="password",
                autocomplete="new-password",
                max_length=128,
            ),
            terms_acceptance_checkbox(),  # issue 11: recorded with the account
            submit_button("Create account", busy=SignUpState.busy),
            rx.text(
                "Already have an account? ",
                rx.link("Sign in", href=routes.SIGN_IN),
                size="2",
            ),
            on_submit=SignUpState.submit,
        )
    )


def _two_factor_step() -> rx.Component:
    return card_form(
        "Two-factor sign-in",
        "Open your authenticator app and enter the 6-digit code it shows for SayZhong.",
        error_message(SignInState.error),
        field(
            "Authentication code",
            "code",
            autocomplete="one-time-code",
            placeholder="123456",
            hint="Lost your phone? Enter one of your recovery codes instead (for example abcde-fghjk).",
            max_length=20,
        ),
        submit_button("Verify and sign in", busy=SignInState.busy),
        rx.button("Start again", type="button", variant="ghost", size="2", on_click=SignInState.start_over),
        on_submit=SignInState.submit_code,
    )


@template(routes.SIGN_IN, "Sign in", access="guest", on_load=[SignInState.load])
def sign_in() -> rx.Component:
    return _centered(rx.cond(SignInState.step == "code", _two_factor_step(), _password_step()))


def _password_step() -> rx.Component:
    return rx.fragment(
        card_form(
            "Welcome back",
            "Sign in to continue practising.",
            error_message(SignInState.error),
            field(
                "E-mail address",
                "email",
                type_="email",
                autocomplete="username",
                placeholder="you@example.com",
            ),
            field("Password", "password", type_="password", autocomplete="current-password", max_length=128),
            submit_button("Sign in", busy=SignInState.busy),
            rx.hstack(
                rx.link("Forgot your password?", href=routes.FORGOT_PASSWORD, size="2"),
                rx.spacer(),
                rx.link("Create an account", href=routes.SIGN_UP, size="2"),
                width="100%",
            ),
            rx.cond(
                SessionState.oidc_enabled,
                rx.vstack(
                    rx.separator(),
                    # A plain GET form: a full-page navigation to the server route (not a client-side link).
                    rx.el.form(
                        rx.button(
                            rx.icon("key-round", size=16),
                            "Sign in with " + SessionState.oidc_label,
                            type="submit",
                            variant="outline",
                            size="3",
                            width="100%",
                        ),
                        action=SessionState.oidc_start_url,
                        method="get",
                        style={"width": "100%"},
                    ),
                    width="100%",
                    spacing="3",
                ),
            ),
            on_submit=SignInState.submit,
        )
    )


@template(routes.FORGOT_PASSWORD, "Reset your password", access="guest")
def forgot_password() -> rx.Component:
    return _centered(
        rx.cond(
            ForgotPasswordState.sent,
            rx.card(
                rx.vstack(
                    rx.heading("Check your e-mail", size="6", as_="h1"),
                    rx.text(
                        "If an account exists for that address, we have sent a link to reset your password. "
                        "It works once and expires in 30 minutes."
                    ),
                    rx.link("Back to sign in", href=routes.SIGN_IN),
                    spacing="4",
                ),
                max_width="440px",
                size="4",
                role="status",
            ),
            card_form(
                "Forgot your password?",
                "Enter your e-mail address and we will send you a link to choose a new one.",
                error_message(ForgotPasswordState.error),
                field("E-mail address", "email", type_="email", autocomplete="email"),
                submit_button("Send reset link", busy=ForgotPasswordState.busy),
                rx.link("Back to sign in", href=routes.SIGN_IN, size="2"),
                on_submit=ForgotPasswordState.submit,
            ),
        )
    )


@template(routes.RESET_PASSWORD, "Choose a new password", on_load=[ResetPasswordState.load])
def reset_password() -> rx.Component:
    return _centered(
        rx.cond(
            ResetPasswordState.done,
            rx.card(
                rx.vstack(
                    rx.heading("Password changed", size="6", as_="h1"),
                    success_message(
                        "Your password has been changed and your other sessions were signed out."
                    ),
                    link_button("Sign in", routes.SIGN_IN),
                    spacing="4",
                ),
                max_width="440px",
                size="4",
            ),
            rx.cond(
                ResetPasswordState.link_ok,
                card_form(
                    "Choose a new password",
                    "This link works once.",
                    error_message(ResetPasswordState.error),
                    field(
                        "New password",
                        "password",
                        type_="password",
                        autocomplete="new-password",
                        hint=PASSWORD_HINT,
                        max_length=128,
                    ),
                    field(
                        "Repeat new password",
                        "password_confirm",
                        type_="password",
                        autocomplete="new-password",
                        max_length=128,
                    ),
                    submit_button("Change password", busy=ResetPasswordState.busy),
                    on_submit=ResetPasswordState.submit,
                ),
                rx.card(
                    rx.vstack(
                        rx.heading("Reset link not valid", size="6", as_="h1"),
                        error_message(ResetPasswordState.error),
                        link_button("Request a new link", routes.FORGOT_PASSWORD),
                        spacing="4",
                    ),
                    max_width="440px",
                    size="4",
                ),
            ),
        )
    )
