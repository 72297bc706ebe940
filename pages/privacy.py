"""Privacy pages: cookie settings, "Do not sell or share", the locked page of an account pending
deletion, the e-mailed cancel link, the account page's data section, and the staff pages (data-
subject request queue with acceptance coverage, job runs)."""

import reflex as rx

from components.consent import choices_panel
from components.forms import error_message, success_message
from components.layout import data_table
from components.notices import notice
from components.props import Row
from pages.template import template
from sayzhong import routes
from state.privacy import AdminJobsState, AdminPrivacyState, ConsentState, PrivacyAccountState
from state.session import SessionState


@template(routes.COOKIE_SETTINGS, "Cookie settings", max_width="760px")
def cookie_settings() -> rx.Component:
    return rx.vstack(
        rx.heading("Cookie settings", size="7", as_="h1"),
        rx.text(
            "Change or withdraw your consent at any time; withdrawing stops analytics at once. ",
            rx.link("Read the Cookie Policy", href=routes.legal_url("cookies"), underline="always"),
            ".",
        ),
        rx.cond(
            ConsentState.gpc_honoured,
            rx.callout(
                "Global Privacy Control honoured", icon="shield-check", color_scheme="green", role="status"
            ),
        ),
        rx.cond(
            ConsentState.decided_at != "",
            rx.text("Your last choice: ", ConsentState.decided_at, size="2", color=rx.color("gray", 11)),
            rx.text("You have not made a choice yet: only necessary cookies are used.", size="2"),
        ),
        success_message(ConsentState.saved_message),
        rx.card(
            choices_panel(
                analytics_on=ConsentState.analytics_on,
                marketing_on=ConsentState.marketing_on,
                on_analytics=ConsentState.set_analytics_choice,
                on_marketing=ConsentState.set_marketing_choice,
                on_save=ConsentState.save_choices,
            ),
            width="100%",
        ),
        rx.button(
            "Withdraw consent", on_click=ConsentState.reject_all, variant="outline", color_scheme="red"
        ),
        spacing="4",
        width="100%",
    )


@template(routes.DO_NOT_SELL, "Do not sell or share my information", max_width="760px")
def do_not_sell() -> rx.Component:
    return rx.vstack(
        rx.heading("Do not sell or share my information", size="7", as_="h1"),
        rx.text(
            "SayZhong does not sell personal information. Opting out here also switches off analytics and "
            "marketing for this browser and — when you are signed in — for your account on every device. "
            "A Global Privacy Control signal from your browser does the same automatically."
        ),
        rx.cond(
            ConsentState.gpc_honoured,
            rx.callout(
                "Global Privacy Control honoured", icon="shield-check", color_scheme="green", role="status"
            ),
        ),
        success_message(ConsentState.saved_message),
        rx.button("Opt out of selling and sharing", on_click=ConsentState.do_not_sell, size="3"),
        spacing="4",
        width="100%",
    )


@template(
    routes.ACCOUNT_DELETION,
    "Account scheduled for deletion",
    on_load=[PrivacyAccountState.load_locked],
    max_width="640px",
)
def account_deletion() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Your account is scheduled for deletion", size="6", as_="h1"),
            rx.text(
                "It is locked and will be deleted for good on ",
                rx.text.strong(PrivacyAccountState.deletion_date),
                ", with your recordings, practice history and voice calibration. "
                "We sent you an e-mail with a cancel link.",
            ),
            error_message(PrivacyAccountState.cancel_error),
            rx.hstack(
                rx.button("Cancel the deletion", on_click=PrivacyAccountState.cancel_delete, size="3"),
                rx.button("Sign out", on_click=SessionState.sign_out, size="3", variant="outline"),
                spacing="3",
                flex_wrap="wrap",
            ),
            spacing="4",
        ),
        size="4",
        width="100%",
    )


@template(
    routes.CANCEL_DELETION,
    "Cancel account deletion",
    on_load=[PrivacyAccountState.load_cancel_link],
    max_width="640px",
)
def cancel_deletion() -> rx.Component:
    return rx.vstack(
        rx.heading("Cancel account deletion", size="6", as_="h1"),
        success_message(PrivacyAccountState.cancel_message),
        error_message(PrivacyAccountState.cancel_error),
        rx.link("Sign in", href=routes.SIGN_IN),
        spacing="4",
        width="100%",
    )


def _export_block() -> rx.Component:
    state = PrivacyAccountState
    return rx.vstack(
        rx.heading("Download my data", size="4", as_="h3"),
        rx.text(
            "A ZIP archive with one JSON file per kind of data, every stored recording and a README that "
            "explains each field. We e-mail you a download link valid for 7 days; one export per 24 hours.",
            size="2",
        ),
        rx.cond(
            ~state.email_verified,
            rx.callout(
                "Verify your e-mail address first: the download link is sent there.",
                icon="mail-warning",
                color_scheme="amber",
                size="1",
            ),
        ),
        rx.cond(
            state.export_status != "",
            rx.vstack(
                rx.text(
                    "Latest export: ",
                    rx.text.strong(state.export_status),
                    " (asked ",
                    state.export_requested,
                    rx.cond(state.export_expires != "", " · link valid until " + state.export_expires, ""),
                    ")",
                    size="2",
                ),
                rx.cond(
                    (state.export_status == "queued") | (state.export_status == "building"),
                    rx.progress(value=state.export_progress, max=100, aria_label="Export progress"),
                ),
                spacing="2",
                width="100%",
            ),
        ),
        success_message(state.export_message),
        error_message(state.export_error),
        rx.hstack(
            rx.button("Download my data", on_click=state.request_export, disabled=~state.email_verified),
            rx.button("Refresh", on_click=state.load, variant="soft"),
            spacing="3",
        ),
        spacing="3",
        width="100%",
    )


def _delete_block() -> rx.Component:
    state = PrivacyAccountState
    return rx.vstack(
        rx.heading("Delete my account", size="4", as_="h3"),
        rx.text(
            "Your account is locked at once and deleted for good after 14 days: recordings, practice "
            "history, voice calibration, devices and tokens. You can cancel from the e-mail we send.",
            size="2",
        ),
        error_message(state.delete_error),
        rx.cond(
            state.confirming_delete,
            rx.form(
                rx.vstack(
                    rx.cond(
                        state.has_password,
                        rx.vstack(
                            rx.el.label("Confirm with your password", html_for="delete-password"),
                            rx.input(
                                id="delete-password",
                                name="password",
                                type="password",
                                auto_complete="current-password",
                                required=True,
                                width="100%",
                            ),
                            spacing="1",
                            width="100%",
                        ),
                        rx.text(
                            "You signed in with your provider less than 10 minutes ago to confirm.", size="2"
                        ),
                    ),
                    rx.hstack(
                        rx.button("Delete my account", type="submit", color_scheme="red"),
                        rx.button(
                            "Keep my account", type="button", variant="soft", on_click=state.stop_delete
                        ),
                        spacing="3",
                    ),
                    spacing="3",
                    width="100%",
                ),
                on_submit=state.confirm_delete,
                reset_on_submit=True,
                width="100%",
            ),
            rx.button(
                "Delete my account…", on_click=state.start_delete, color_scheme="red", variant="outline"
            ),
        ),
        spacing="3",
        width="100%",
    )


def privacy_and_data_section() -> rx.Component:
    """The account page's "Privacy and data" card."""
    return rx.card(
        rx.vstack(
            rx.heading("Privacy and data", size="5", as_="h2"),
            rx.text(
                rx.link("Privacy Policy", href=routes.legal_url("privacy"), underline="always"),
                " · ",
                rx.link("Cookie settings", href=routes.COOKIE_SETTINGS, underline="always"),
                size="2",
            ),
            _export_block(),
            rx.separator(),
            _delete_block(),
            spacing="4",
            width="100%",
        ),
        size="3",
        width="100%",
        on_mount=PrivacyAccountState.load,
    )


def _staff_links() -> rx.Component:
    return rx.hstack(
        rx.link("Staff area", href=routes.ADMIN),
        rx.link("Privacy requests", href=routes.ADMIN_PRIVACY),
        rx.link("Job runs", href=routes.ADMIN_JOBS),
        spacing="5",
        aria_label="Staff privacy navigation",
    )


def _dsr_card(item: Row) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.badge(item["kind"]),
                rx.text(item["email"], weight="bold"),
                rx.text(item["name"], size="2"),
                rx.spacer(),
                rx.cond(
                    item["overdue"] == "yes",
                    rx.badge("Overdue", color_scheme="red"),
                    rx.badge(item["days_left"], " days left"),
                ),
                width="100%",
                flex_wrap="wrap",
                align="center",
            ),
            rx.text(
                "Received ",
                item["received"],
                " · due ",
                item["due"],
                " · ",
                item["status"],
                " · ",
                item["account"],
                size="2",
            ),
            rx.cond(item["details"] != "", rx.text(item["details"], size="2")),
            rx.cond(
                item["identity"] != "",
                rx.text("Identity verified: ", item["identity"], size="2"),
                rx.form(
                    rx.hstack(
                        rx.input(
                            name="method",
                            placeholder="How was the identity verified?",
                            aria_label="How was the identity verified",
                            width="100%",
                        ),
                        rx.el.input(type="hidden", name="request_id", value=item["id"]),
                        rx.button("Mark verified", type="submit", size="2"),
                        width="100%",
                    ),
                    on_submit=AdminPrivacyState.verify,
                    reset_on_submit=True,
                    width="100%",
                ),
            ),
            rx.cond(
                item["status"] == "verified",
                rx.hstack(
                    rx.button(
                        "Export data",
                        size="2",
                        variant="soft",
                        on_click=AdminPrivacyState.run_export(item["id"]),  # type: ignore[operator]  # see components/props.py
                    ),
                    rx.button(
                        "Schedule erasure",
                        size="2",
                        variant="soft",
                        color_scheme="red",
                        on_click=AdminPrivacyState.run_erasure(item["id"]),  # type: ignore[operator]  # see components/props.py
                    ),
                    spacing="3",
                ),
            ),
            rx.cond(
                item["days_left"] != "closed",
                rx.form(
                    rx.hstack(
                        rx.input(
                            name="resolution", placeholder="Resolution", aria_label="Resolution", width="100%"
                        ),
                        rx.checkbox("Refused", name="rejected"),
                        rx.el.input(type="hidden", name="request_id", value=item["id"]),
                        rx.button("Close request", type="submit", size="2"),
                        width="100%",
                        align="center",
                    ),
                    on_submit=AdminPrivacyState.close,
                    reset_on_submit=True,
                    width="100%",
                ),
                rx.text("Closed: ", item["resolution"], size="2"),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        style=rx.cond(item["overdue"] == "yes", {"borderLeft": f"4px solid {rx.color('red', 9)}"}, {}),
    )


def _coverage_row(row: Row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row["document"]),
        rx.table.cell(row["version"]),
        rx.table.cell(row["effective"]),
        rx.table.cell(row["material"]),
        rx.table.cell(row["accepted"]),
    )


@template(routes.ADMIN_PRIVACY, "Privacy requests", access="staff", on_load=[AdminPrivacyState.load])
def admin_privacy() -> rx.Component:
    return rx.vstack(
        rx.heading("Privacy requests", size="8", as_="h1"),
        _staff_links(),
        success_message(AdminPrivacyState.message),
        error_message(AdminPrivacyState.error),
        rx.card(
            rx.form(
                rx.vstack(
                    rx.heading("Log a request received by e-mail", size="4", as_="h2"),
                    rx.hstack(
                        rx.el.select(
                            *[
                                rx.el.option(k.title(), value=k)
                                for k in ("access", "erasure", "correction", "objection")
                            ],
                            name="kind",
                            aria_label="Kind of request",
                            style={"padding": "6px", "borderRadius": "6px"},
                        ),
                        rx.input(
                            name="email",
                            type="email",
                            placeholder="Requester e-mail",
                            aria_label="Requester e-mail",
                            required=True,
                        ),
                        rx.input(name="name", placeholder="Name", aria_label="Requester name"),
                        flex_wrap="wrap",
                        width="100%",
                    ),
                    rx.text_area(
                        name="details", placeholder="What they asked for", aria_label="Details", width="100%"
                    ),
                    rx.button("Log request", type="submit"),
                    spacing="3",
                    width="100%",
                ),
                on_submit=AdminPrivacyState.create,
                reset_on_submit=True,
            ),
            width="100%",
        ),
        rx.hstack(
            rx.heading("Open requests (30-day deadline)", size="5", as_="h2"),
            rx.button(
                rx.cond(AdminPrivacyState.show_closed, "Hide closed", "Show closed"),
                size="1",
                variant="soft",
                on_click=AdminPrivacyState.toggle_closed,
            ),
            align="center",
        ),
        rx.cond(
            AdminPrivacyState.requests.length() > 0,
            rx.vstack(rx.foreach(AdminPrivacyState.requests, _dsr_card), spacing="3", width="100%"),
            rx.text("No open requests."),
        ),
        rx.heading("Acceptance coverage", size="5", as_="h2"),
        data_table(
            "Acceptance coverage",
            ["Document", "Version", "Effective", "Material", "Accepted (current users)"],
            AdminPrivacyState.coverage,
            _coverage_row,
        ),
        spacing="5",
        width="100%",
    )


def _run_row(run: Row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(run["job"]),
        rx.table.cell(
            rx.cond(
                run["status"] == "failed", rx.badge("failed", color_scheme="red"), rx.badge(run["status"])
            )
        ),
        rx.table.cell(run["started"]),
        rx.table.cell(run["duration"]),
        rx.table.cell(run["counts"]),
        rx.table.cell(run["error"]),
    )


@template(routes.ADMIN_JOBS, "Job runs", access="staff", on_load=[AdminJobsState.load])
def admin_jobs() -> rx.Component:
    return rx.vstack(
        rx.heading("Job runs", size="8", as_="h1"),
        _staff_links(),
        rx.cond(
            AdminJobsState.failures > 0,
            notice(
                rx.text(AdminJobsState.failures, " of the last runs failed — see the error column."),
                icon="triangle-alert",
                color_scheme="red",
                role="alert",
            ),
        ),
        data_table(
            "Job runs",
            ["Job", "Status", "Started (UTC)", "Took", "Purged", "Error"],
            AdminJobsState.runs,
            _run_row,
        ),
        spacing="5",
        width="100%",
    )
