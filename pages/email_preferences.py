"""E-mail preferences (issue 14): the preference centre in the account area, and the page every
reminder links to (signed link, no sign-in needed); and the staff e-mail page (suppressions, product news)."""

import reflex as rx

from components.browser_timezone import browser_timezone
from components.forms import error_message, field, success_message
from components.layout import data_table
from components.props import Handler, Row, VarOr
from pages.account import TIMEZONES
from pages.admin import _denied, _staff_nav
from pages.template import template
from sayzhong import routes
from sayzhong.notifications.preferences import CATEGORIES, Category
from state.email_preferences import REMINDER_TIMES, AdminEmailState, EmailPreferencesState

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


# --- staff: /admin/email --------------------------------------------------------------------------

A = AdminEmailState


def _suppression_row(row: Row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row["email"], style={"overflowWrap": "anywhere"}),
        rx.table.cell(rx.badge(row["reason"])),
        rx.table.cell(row["source"]),
        rx.table.cell(row["detail"]),
        rx.table.cell(row["date"], white_space="nowrap"),
        rx.table.cell(
            rx.button(
                "Lift",
                size="1",
                variant="outline",
                on_click=A.lift(row["email"]),  # type: ignore[operator]  # see components/props.py
                aria_label="Lift the suppression of " + row["email"].to(str),
            )
        ),
    )


def _suppressions() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Suppressed addresses", size="5", as_="h2"),
            rx.text(
                "Addresses that bounced hard or complained get no reminders or news (account e-mails such as "
                "password resets still go). Lift a suppression once the learner has fixed their mailbox; it "
                "is recorded in the audit log, and the learner opts in again themselves.",
                size="2",
                color=rx.color("gray", 11),
            ),
            success_message(A.message),
            error_message(A.error),
            rx.form(
                rx.hstack(
                    rx.input(
                        name="search",
                        placeholder="Search by e-mail",
                        aria_label="Search addresses",
                        width="260px",
                    ),
                    rx.el.label("Reason", html_for="suppression-reason", style={"fontWeight": 500}),
                    rx.el.select(
                        rx.el.option("Any", value=""),
                        rx.el.option("Bounce", value="bounce"),
                        rx.el.option("Complaint", value="complaint"),
                        rx.el.option("Manual", value="manual"),
                        id="suppression-reason",
                        name="reason",
                        style={"padding": "6px 8px", "borderRadius": "6px"},
                    ),
                    rx.button("Search", type="submit"),
                    spacing="3",
                    align="center",
                    flex_wrap="wrap",
                ),
                on_submit=A.run_search,
                reset_on_submit=False,
            ),
            rx.text(A.total.to_string() + " suppressed", size="2", color=rx.color("gray", 11)),
            data_table(
                "Suppressed addresses",
                ["E-mail", "Reason", "Source", "Detail", "Suppressed", "Action"],
                A.rows,
                _suppression_row,
            ),
            spacing="3",
            width="100%",
        ),
        size="3",
        width="100%",
    )


def _news() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Send product news", size="5", as_="h2"),
                rx.text(
                    "Goes to verified learners who turned on “Product news”, not suppressed, with an "
                    "unsubscribe link. Each learner gets a campaign once: sending the same campaign key "
                    "again reaches only those who opted in since.",
                    size="2",
                    color=rx.color("gray", 11),
                ),
                field("Campaign key", "campaign", placeholder="2026-12-new-dialogues", max_length=64),
                field("Subject", "subject", max_length=150),
                rx.el.label(
                    "Message (plain text)",
                    html_for="news-body",
                    style={"fontWeight": 500, "fontSize": "14px"},
                ),
                rx.text_area(
                    id="news-body", name="body", rows="8", width="100%", max_length=20000, required=True
                ),
                error_message(A.news_error),
                success_message(A.news_message),
                rx.button("Send product news", type="submit", loading=A.sending),
                spacing="3",
                width="100%",
            ),
            on_submit=A.send_news,
            reset_on_submit=False,
        ),
        size="3",
        width="100%",
    )


@template(routes.ADMIN_EMAIL, "E-mail (staff)", access="staff", on_load=[AdminEmailState.load])
def admin_email_page() -> rx.Component:
    return rx.vstack(
        rx.heading("E-mail", size="8", as_="h1"),
        _staff_nav(),
        _denied(A.denied),
        rx.cond(A.can_suppressions, _suppressions()),
        rx.cond(A.can_news, _news()),
        spacing="5",
        width="100%",
    )
