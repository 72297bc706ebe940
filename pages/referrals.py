"""Invite friends and share results (/invite), and the staff referrals list (/admin/referrals)."""

import reflex as rx

from components.forms import error_message, success_message
from components.layout import data_table
from components.notices import notice
from components.props import Row
from components.recorder import copy_button
from pages.admin import _denied, _staff_nav
from pages.template import template
from sayzhong import routes
from state.referrals import AdminReferralsState, InviteState


def _card(title: str, *children: rx.Component, heading_id: str = "") -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(title, size="5", as_="h2", id=heading_id or None), *children, spacing="3", width="100%"
        ),
        size="3",
        width="100%",
    )


def _invite_row(row: Row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row["date"]), rx.table.cell(row["status"]), rx.table.cell(row["source"])
    )


def _share_row(row: Row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(row["what"], href=row["url"], is_external=True)),
        rx.table.cell(row["date"]),
        rx.table.cell(row["visits"]),
        rx.table.cell(row["sign_ups"]),
        rx.table.cell(
            rx.button(
                "Remove",
                size="1",
                variant="outline",
                color_scheme="red",
                on_click=InviteState.revoke(row["slug"]),  # type: ignore[operator]  # see components/props.py
                aria_label="Remove share link " + row["what"].to(str),
            )
        ),
    )


def _invite_section() -> rx.Component:
    return _card(
        "Your invite link",
        rx.text(
            "When a friend signs up through your link and scores their first phrase, you both get ",
            rx.text.strong(InviteState.reward_days, " days of SayZhong Plus"),
            ".",
        ),
        rx.hstack(
            rx.code(
                InviteState.link,
                id="invite-link",
                size="3",
                style={"wordBreak": "break-all"},
                data_testid="invite-link",
            ),
            copy_button(
                text=InviteState.link,
                label="Copy invite link",
                announce="Invite link copied to the clipboard",
                source="invite-link",
                class_name="copy-button",
            ),
            spacing="3",
            align="center",
            flex_wrap="wrap",
        ),
        rx.cond(
            InviteState.plus_until != "",
            notice(
                rx.text("You have SayZhong Plus until ", rx.text.strong(InviteState.plus_until), "."),
                icon="gift",
                color_scheme="green",
                data_testid="plus-until",
            ),
        ),
        rx.cond(
            InviteState.invited_by != "",
            rx.text("Your own invitation: ", InviteState.invited_by, size="2", data_testid="invited-by"),
        ),
        rx.text(
            InviteState.rewarded.to_string()
            + " rewarded · "
            + InviteState.pending.to_string()
            + " waiting for a first take",
            size="2",
            color=rx.color("gray", 11),
            data_testid="invite-counts",
        ),
        rx.cond(
            InviteState.invites.length() > 0,  # type: ignore[attr-defined]
            data_table(
                "Friends who signed up",
                ["Signed up", "Status", "Came from"],
                InviteState.invites,
                _invite_row,
            ),
        ),
        rx.text(
            "Rewards are for new friends: sign-ups from your own browser, throw-away e-mail addresses, "
            "or beyond the monthly limit do not count. ",
            rx.link(
                "How invitations work", href=routes.help_article_url("invite-friends"), underline="always"
            ),
            size="2",
            color=rx.color("gray", 11),
        ),
    )


def _share_section() -> rx.Component:
    return _card(
        "Share a result or your streak",
        rx.text(
            "A share link shows a picture of the phrase, your score and your pitch line over the target's — "
            "no e-mail, no recording. You can remove it at any time.",
        ),
        rx.checkbox(
            "Show my first name on the card",
            checked=InviteState.show_name,
            on_change=InviteState.set_show_name,
        ),
        rx.hstack(
            rx.button(
                rx.cond(InviteState.attempt_id > 0, "Share this result", "Share my latest result"),
                on_click=InviteState.share_result,
                loading=InviteState.busy,
            ),
            rx.button(
                "Share my streak", variant="soft", on_click=InviteState.share_streak, loading=InviteState.busy
            ),
            spacing="3",
            flex_wrap="wrap",
        ),
        error_message(InviteState.error),
        success_message(InviteState.message),
        rx.cond(
            InviteState.new_share_url != "",
            rx.vstack(
                rx.code(
                    InviteState.new_share_url,
                    id="new-share-link",
                    size="3",
                    style={"wordBreak": "break-all"},
                    data_testid="new-share-link",
                ),
                rx.hstack(
                    copy_button(
                        text=InviteState.new_share_url,
                        label="Copy share link",
                        announce="Share link copied to the clipboard",
                        source="new-share-link",
                        class_name="copy-button",
                    ),
                    rx.link("Open the share page", href=InviteState.new_share_url, is_external=True),
                    spacing="3",
                    align="center",
                ),
                spacing="2",
                width="100%",
            ),
        ),
        rx.cond(
            InviteState.shares.length() > 0,  # type: ignore[attr-defined]
            data_table(
                "Your share links",
                ["Card", "Shared", "Visits", "Sign-ups", ""],
                InviteState.shares,
                _share_row,
            ),
            rx.text("You have no share links yet.", size="2", color=rx.color("gray", 11)),
        ),
    )


@template(
    routes.INVITE, "Invite friends and share", access="user", on_load=[InviteState.load], max_width="860px"
)
def invite_page() -> rx.Component:
    return rx.vstack(
        rx.heading("Invite friends and share", size="8", as_="h1"),
        rx.cond(InviteState.loaded, rx.fragment(_invite_section(), _share_section()), rx.spinner()),
        spacing="5",
        width="100%",
    )


def _referral_row(row: Row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row["when"]),
        rx.table.cell(row["referrer"]),
        rx.table.cell(row["referred"]),
        rx.table.cell(rx.badge(row["status"])),
        rx.table.cell(row["reason"]),
        rx.table.cell(row["source"]),
        rx.table.cell(row["rewarded"]),
    )


@template(routes.ADMIN_REFERRALS, "Referrals (staff)", access="staff", on_load=[AdminReferralsState.load])
def admin_referrals_page() -> rx.Component:
    return rx.vstack(
        rx.heading("Referrals", size="8", as_="h1"),
        _staff_nav(),
        _denied(AdminReferralsState.denied),
        rx.text(
            "Who invited whom, whether the reward was given (after the friend's first scored take) or "
            "refused and why. Opening this list is recorded in the audit log.",
            size="2",
            color=rx.color("gray", 11),
        ),
        rx.hstack(
            rx.el.label("Status", html_for="referral-status", style={"fontWeight": 500}),
            rx.el.select(
                rx.el.option("All", value="all"),
                rx.el.option("Waiting for first take", value="pending"),
                rx.el.option("Rewarded", value="rewarded"),
                rx.el.option("Refused", value="refused"),
                id="referral-status",
                value=AdminReferralsState.status_filter,
                on_change=AdminReferralsState.filter_status,
            ),
            spacing="3",
            align="center",
        ),
        data_table(
            "Referrals",
            ["When", "Inviter", "Friend", "Status", "Refused because", "Source", "Rewarded"],
            AdminReferralsState.rows,
            _referral_row,
        ),
        spacing="4",
        width="100%",
    )
