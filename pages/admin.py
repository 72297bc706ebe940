"""Staff area: overview, users and roles, e-mail outbox, audit log."""

import reflex as rx

from components.layout import data_table
from components.props import Row, VarOr
from pages.template import template
from sayzhong import routes
from state.admin import AdminUsersState, AuditState, OutboxState, UserDetailState
from state.session import SessionState


def _staff_nav() -> rx.Component:
    return rx.hstack(
        rx.link("Overview", href=routes.ADMIN),
        rx.link("Users", href=routes.ADMIN_USERS),
        rx.cond(SessionState.is_admin, rx.link("E-mail outbox", href=routes.ADMIN_OUTBOX)),
        rx.link("Audit log", href=routes.ADMIN_AUDIT),
        rx.link("Support inbox", href=routes.STAFF_INBOX),  # support centre (issue 13)
        rx.link("Privacy requests", href=routes.ADMIN_PRIVACY),  # issue 11
        rx.link("Job runs", href=routes.ADMIN_JOBS),  # issue 11
        rx.link("Billing", href=routes.ADMIN_BILLING),
        rx.link("Growth", href=routes.ADMIN_FUNNELS),  # issue 14 (marketing)
        rx.link("Business intelligence", href=routes.BI_OVERVIEW),  # issue 15
        rx.link("Referrals", href=routes.ADMIN_REFERRALS),  # issue 14
        rx.link("Experiments", href=routes.ADMIN_EXPERIMENTS),  # issue 14
        rx.link("E-mail", href=routes.ADMIN_EMAIL),  # suppressions, product news
        spacing="5",
        flex_wrap="wrap",
        aria_label="Staff navigation",
    )


def _denied(message: VarOr[str]) -> rx.Component:
    return rx.cond(message != "", rx.callout(message, icon="shield-alert", color_scheme="red", role="alert"))


@template(routes.ADMIN, "Staff", access="staff")
def admin_overview() -> rx.Component:
    return rx.vstack(
        rx.heading("Staff area", size="8", as_="h1"),
        _staff_nav(),
        rx.text("Signed in as ", rx.text.strong(SessionState.email), " (", SessionState.role, ")."),
        rx.grid(
            rx.card(rx.link(rx.heading("Users and roles", size="4"), href=routes.ADMIN_USERS), size="3"),
            rx.cond(
                SessionState.is_admin,
                rx.card(rx.link(rx.heading("E-mail outbox", size="4"), href=routes.ADMIN_OUTBOX), size="3"),
            ),
            rx.card(rx.link(rx.heading("Audit log", size="4"), href=routes.ADMIN_AUDIT), size="3"),
            columns=rx.breakpoints(initial="1", sm="3"),
            spacing="4",
            width="100%",
        ),
        spacing="5",
        width="100%",
    )


def _role_cell(user: Row) -> rx.Component:
    return rx.cond(
        AdminUsersState.can_change_roles,
        rx.el.select(
            rx.foreach(AdminUsersState.roles, lambda role: rx.el.option(role, value=role)),
            value=user["role"],
            on_change=lambda role: AdminUsersState.change_role(user["id"], role),  # type: ignore[operator]  # see components/props.py
            aria_label="Role for " + user["email"].to(str),
            style={"padding": "4px 8px", "borderRadius": "6px"},
        ),
        rx.badge(user["role"]),
    )


def _user_row(user: Row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(user["email"], href=user["href"], underline="always")),
        rx.table.cell(user["name"]),
        rx.table.cell(_role_cell(user)),
        rx.table.cell(user["joined"]),
    )


@template(routes.ADMIN_USERS, "Users", access="staff", on_load=[AdminUsersState.load])
def admin_users() -> rx.Component:
    return rx.vstack(
        rx.heading("Users", size="8", as_="h1"),
        _staff_nav(),
        _denied(AdminUsersState.denied),
        rx.cond(
            AdminUsersState.message != "",
            rx.callout(AdminUsersState.message, color_scheme="green", role="status"),
        ),
        rx.cond(
            AdminUsersState.error != "", rx.callout(AdminUsersState.error, color_scheme="red", role="alert")
        ),
        rx.form(
            rx.hstack(
                rx.input(
                    name="search",
                    placeholder="Search by e-mail or name",
                    aria_label="Search users",
                    width="320px",
                ),
                rx.button("Search", type="submit"),
            ),
            on_submit=AdminUsersState.run_search,
            reset_on_submit=False,
        ),
        rx.text(AdminUsersState.total.to_string() + " users", size="2", color=rx.color("gray", 11)),
        data_table("Users", ["E-mail", "Name", "Role", "Joined"], AdminUsersState.users, _user_row),
        rx.hstack(
            rx.button(
                "Previous",
                on_click=AdminUsersState.previous_page,
                disabled=AdminUsersState.page <= 1,
                variant="soft",
            ),
            rx.text("Page ", AdminUsersState.page, " of ", AdminUsersState.pages),
            rx.button(
                "Next",
                on_click=AdminUsersState.next_page,
                disabled=AdminUsersState.page >= AdminUsersState.pages,
                variant="soft",
            ),
            align="center",
            spacing="3",
        ),
        spacing="4",
        width="100%",
    )


def _fact(fact: Row) -> rx.Component:
    return rx.fragment(
        rx.el.dt(fact["label"], style={"fontWeight": 600, "color": rx.color("gray", 11)}),
        rx.el.dd(fact["value"], style={"margin": 0, "overflowWrap": "anywhere"}),
    )


def _device_row(device: Row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(device["device"]),
        rx.table.cell(device["place"]),
        rx.table.cell(device["signed_in"]),
        rx.table.cell(device["last_seen"]),
        rx.table.cell(device["live"]),
    )


def _trail_row(line: Row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(line["when"]), rx.table.cell(rx.code(line["action"])), rx.table.cell(line["by"])
    )


def _support_actions() -> rx.Component:
    return rx.cond(
        UserDetailState.can_act,
        rx.vstack(
            rx.heading("Support actions", size="4", as_="h2"),
            rx.text(
                "Each action is recorded in the audit log with your name.",
                size="2",
                color=rx.color("gray", 11),
            ),
            rx.hstack(
                rx.button(
                    "Sign out everywhere",
                    variant="outline",
                    on_click=UserDetailState.sign_out_everywhere,
                ),
                rx.cond(
                    UserDetailState.active,
                    rx.fragment(),
                    rx.button("Reactivate account", on_click=UserDetailState.reactivate),
                ),
                rx.cond(
                    UserDetailState.verified,
                    rx.fragment(),
                    rx.button(
                        "Resend confirmation e-mail",
                        variant="outline",
                        on_click=UserDetailState.resend_verification,
                    ),
                ),
                spacing="3",
                flex_wrap="wrap",
            ),
            rx.cond(
                UserDetailState.active,
                rx.form(
                    rx.vstack(
                        rx.el.label(
                            "Reason for deactivating (kept in the audit log)",
                            html_for="deactivate-reason",
                            style={"fontWeight": 500, "fontSize": "14px"},
                        ),
                        rx.input(id="deactivate-reason", name="reason", max_length=200, width="100%"),
                        rx.button("Deactivate account", type="submit", color_scheme="red", variant="soft"),
                        spacing="2",
                        width="100%",
                        max_width="480px",
                    ),
                    on_submit=UserDetailState.deactivate,
                    reset_on_submit=True,
                ),
            ),
            spacing="3",
            width="100%",
        ),
        rx.text(
            "You cannot change this account from here (your own, or a staff account you do not manage).",
            size="2",
            color=rx.color("gray", 11),
        ),
    )


@template(routes.ADMIN_USER, "Learner", access="staff", on_load=[UserDetailState.load])
def admin_user() -> rx.Component:
    return rx.vstack(
        rx.link("← Users", href=routes.ADMIN_USERS, size="2"),
        rx.heading(
            rx.cond(UserDetailState.found, UserDetailState.display_name, "Learner"), size="8", as_="h1"
        ),
        _staff_nav(),
        _denied(UserDetailState.denied),
        rx.cond(
            UserDetailState.message != "",
            rx.callout(UserDetailState.message, color_scheme="green", role="status", width="100%"),
        ),
        rx.cond(
            UserDetailState.error != "",
            rx.callout(UserDetailState.error, color_scheme="red", role="alert", width="100%"),
        ),
        rx.cond(
            UserDetailState.found,
            rx.vstack(
                rx.el.dl(
                    rx.foreach(UserDetailState.facts, _fact),
                    style={
                        "display": "grid",
                        "gridTemplateColumns": "minmax(120px, max-content) 1fr",
                        "gap": "6px 16px",
                        "margin": 0,
                    },
                    aria_label="Account facts",
                ),
                _support_actions(),
                rx.heading("Signed-in devices", size="4", as_="h2"),
                data_table(
                    "Signed-in devices",
                    ["Device", "Approximate place", "Signed in", "Last seen", "Session"],
                    UserDetailState.devices,
                    _device_row,
                ),
                rx.heading("Audit trail", size="4", as_="h2"),
                data_table("Audit trail", ["When", "Action", "By"], UserDetailState.trail, _trail_row),
                spacing="4",
                width="100%",
            ),
        ),
        spacing="4",
        width="100%",
    )


def _email_row(email: Row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(email["sent"]),
        rx.table.cell(email["to"]),
        rx.table.cell(
            rx.link(
                email["subject"],
                href="#message",
                on_click=OutboxState.open_email(email["id"]),  # type: ignore[operator]  # see components/props.py
            )
        ),
        rx.table.cell(email["via"]),
    )


@template(routes.ADMIN_OUTBOX, "E-mail outbox", access="staff", on_load=[OutboxState.load])
def admin_outbox() -> rx.Component:
    return rx.vstack(
        rx.heading("E-mail outbox", size="8", as_="h1"),
        _staff_nav(),
        _denied(OutboxState.denied),
        rx.text(
            "Messages the app has sent. Without SMTP configured, this is where they are delivered.",
            color=rx.color("gray", 11),
        ),
        data_table("E-mails sent", ["Sent", "To", "Subject", "Via"], OutboxState.emails, _email_row),
        rx.cond(
            OutboxState.selected_body != "",
            rx.card(
                rx.vstack(
                    rx.heading(OutboxState.selected_subject, size="4", as_="h2"),
                    rx.text("To: ", OutboxState.selected_to, size="2"),
                    rx.markdown(OutboxState.selected_body),
                    spacing="2",
                ),
                id="message",
                width="100%",
            ),
        ),
        spacing="4",
        width="100%",
    )


def _event_row(event: Row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(event["when"]),
        rx.table.cell(rx.code(event["action"])),
        rx.table.cell(event["actor"]),
        rx.table.cell(event["target"]),
        rx.table.cell(event["ip"]),
    )


@template(routes.ADMIN_AUDIT, "Audit log", access="staff", on_load=[AuditState.load])
def admin_audit() -> rx.Component:
    return rx.vstack(
        rx.heading("Audit log", size="8", as_="h1"),
        _staff_nav(),
        _denied(AuditState.denied),
        rx.text("Security-relevant actions, newest first. Read-only.", color=rx.color("gray", 11)),
        data_table(
            "Audit events", ["When (UTC)", "Action", "Actor", "Target", "IP"], AuditState.events, _event_row
        ),
        spacing="4",
        width="100%",
    )
