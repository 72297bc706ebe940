"""Growth staff pages (issue 14), for the marketing and admin roles: funnels, campaign links,
marketing tags. Layout only; the figures come from FunnelState and friends (state/analytics.py)."""

from __future__ import annotations

import reflex as rx

from components.forms import error_message, field, success_message
from components.layout import data_table
from components.props import Row, VarOr
from components.recorder import copy_button
from pages.admin import _denied, _staff_nav
from pages.template import template
from sayzhong import routes
from sayzhong.analytics import funnels
from state.analytics import CampaignLinkState, FunnelState, MarketingTagState


def _growth_nav() -> rx.Component:
    return rx.hstack(
        rx.link("Funnels", href=routes.ADMIN_FUNNELS),
        rx.link("Campaign links", href=routes.ADMIN_CAMPAIGN_LINKS),
        rx.link("Marketing tags", href=routes.ADMIN_MARKETING_TAGS),
        spacing="4",
        flex_wrap="wrap",
        aria_label="Growth pages",
    )


def _header(title: str, denied: VarOr[str]) -> rx.Component:
    return rx.vstack(
        rx.heading(title, size="8", as_="h1"),
        _staff_nav(),
        _growth_nav(),
        _denied(denied),
        spacing="3",
        width="100%",
    )


def _select(label: str, name: str, options: list[tuple[str, str]], value: VarOr[str]) -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=f"funnel-{name}", style={"fontWeight": 500, "fontSize": "14px"}),
        rx.el.select(
            *[rx.el.option(text, value=val) for val, text in options],
            id=f"funnel-{name}",
            name=name,
            default_value=value,
            style={"padding": "6px", "borderRadius": "6px", "minWidth": "10em"},
        ),
        spacing="1",
    )


def _step_row(row: Row) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(row["label"]),
        rx.table.cell(row["people"]),
        rx.table.cell(row["from_previous"]),
        rx.table.cell(row["overall"]),
        rx.table.cell(
            rx.cond(
                row["target"] != "",
                rx.badge(
                    row["target"],
                    color_scheme=rx.cond(row["target"].to(str).startswith("meets"), "green", "red"),
                    high_contrast=True,  # axe colour-contrast: soft green text on a table row fails
                ),
            )
        ),
    )


def _segment_row(row: Row) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(row["segment"]),
        *[rx.table.cell(row[f"s{i}"]) for i in range(len(funnels.STEPS))],
    )


def _drop_row(row: Row) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(row["label"]),
        rx.table.cell(row["count"]),
        rx.table.cell(rx.code(row["sample"], size="1")),
    )


@template(routes.ADMIN_FUNNELS, "Funnels", access="staff", on_load=[FunnelState.load])
def admin_funnels() -> rx.Component:
    f = FunnelState
    return rx.vstack(
        _header("Funnels", f.denied),
        rx.text(
            "Visit → sign-up → onboarding done → first scored take → second-day return → "
            "seventh-day return → "
            "trial → paid, from the events recorded with consent. A step counts when it happens after the "
            "visit and within the conversion window.",
            color=rx.color("gray", 11),
        ),
        rx.form(
            rx.hstack(
                _select(
                    "First visit in the last",
                    "period",
                    [("7", "7 days"), ("30", "30 days"), ("90", "90 days")],
                    f.period,
                ),
                _select(
                    "Conversion window",
                    "window",
                    [("7", "7 days"), ("14", "14 days"), ("30", "30 days"), ("60", "60 days")],
                    f.window,
                ),
                _select(
                    "Split by",
                    "split",
                    [
                        ("none", "Nothing"),
                        ("channel", "Channel"),
                        ("campaign", "Campaign"),
                        ("device", "Device"),
                        ("variant", "Experiment variant"),
                    ],
                    f.split,
                ),
                rx.box(field("Experiment key (for variants)", "experiment", required=False, max_length=64)),
                rx.button("Show", type="submit", align_self="end"),
                spacing="4",
                flex_wrap="wrap",
                align="end",
            ),
            on_submit=f.apply,
        ),
        error_message(f.error),
        rx.cond(
            f.posthog_url != "",
            rx.link("Open the same funnel in PostHog", href=f.posthog_url, is_external=True),
        ),
        rx.heading(rx.text.span("All visitors (", f.entrants, ")"), size="5", as_="h2"),
        data_table(
            "Funnel steps", ("Step", "People", "From previous", "Of visitors", "Target"), f.steps, _step_row
        ),
        rx.cond(
            f.segments.length() > 0,  # type: ignore[attr-defined]
            rx.vstack(
                rx.heading("By segment", size="5", as_="h2"),
                data_table(
                    "Funnel by segment",
                    ("Segment", *[s.label for s in funnels.STEPS]),
                    f.segments,
                    _segment_row,
                ),
                width="100%",
            ),
        ),
        rx.heading("Drop-off", size="5", as_="h2"),
        rx.text(
            "People who reached a step but not the next, as anonymised ids (a keyed hash: comparable between "
            "lists, never a person's identity).",
            size="2",
            color=rx.color("gray", 11),
        ),
        data_table("Drop-off", ("Between", "People", "Anonymised ids (first 20)"), f.drop_offs, _drop_row),
        spacing="4",
        width="100%",
    )


@template(routes.ADMIN_CAMPAIGN_LINKS, "Campaign links", access="staff", on_load=[CampaignLinkState.load])
def admin_campaign_links() -> rx.Component:
    c = CampaignLinkState
    return rx.vstack(
        _header("Campaign links", c.denied),
        rx.text(
            "Build a tagged link for an ad, e-mail or post. Labels are lower-case letters, digits "
            "and _ . + - "
            "so reports group cleanly.",
            color=rx.color("gray", 11),
        ),
        rx.card(
            rx.form(
                rx.vstack(
                    field("Page", "path", default_value="/", hint="A path on SayZhong, e.g. / or /pricing"),
                    field("Source", "source", hint="Where the link is placed, e.g. google, newsletter"),
                    field("Medium", "medium", hint="cpc, paid_social, email, social, referral …"),
                    field("Campaign", "campaign", hint="e.g. spring_sale"),
                    field("Term (optional)", "term", required=False),
                    field("Content (optional)", "content", required=False),
                    rx.button("Build link", type="submit"),
                    spacing="3",
                    width="100%",
                    max_width="520px",
                ),
                on_submit=c.build,
            ),
            width="100%",
        ),
        error_message(c.error),
        rx.cond(
            c.link != "",
            rx.card(
                rx.vstack(
                    rx.text("Your link (channel: ", c.channel, ")", weight="medium"),
                    rx.code(c.link, data_copy_source=True, style={"wordBreak": "break-all"}),
                    copy_button(text=c.link, label="Copy link"),
                    spacing="2",
                ),
                width="100%",
            ),
        ),
        spacing="4",
        width="100%",
    )


def _tag_row(row: Row) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(row["name"]),
        rx.table.cell(rx.code(row["url"], size="1", style={"wordBreak": "break-all"})),
        rx.table.cell(row["pages"]),
        rx.table.cell(
            rx.badge(
                row["state"], color_scheme=rx.cond(row["state"] == "on", "green", "gray"), high_contrast=True
            )
        ),
        rx.table.cell(
            rx.hstack(
                rx.button(
                    row["toggle"],
                    size="1",
                    variant="soft",
                    on_click=MarketingTagState.toggle(row["id"]),  # type: ignore[operator]  # see components/props.py
                ),
                rx.button(
                    "Remove",
                    size="1",
                    variant="soft",
                    color_scheme="red",
                    on_click=MarketingTagState.remove(row["id"]),  # type: ignore[operator]  # see components/props.py
                ),
                spacing="2",
            )
        ),
    )


@template(routes.ADMIN_MARKETING_TAGS, "Marketing tags", access="staff", on_load=[MarketingTagState.load])
def admin_marketing_tags() -> rx.Component:
    m = MarketingTagState
    return rx.vstack(
        _header("Marketing tags", m.denied),
        rx.text(
            "Advertising and conversion tags load only for visitors who accepted marketing cookies "
            "— never by "
            "default, never with Global Privacy Control. Allowed hosts (set by the operator): ",
            rx.code(m.hosts),
            color=rx.color("gray", 11),
        ),
        error_message(m.error),
        success_message(m.message),
        data_table("Marketing tags", ("Name", "Script", "Pages", "State", ""), m.tags, _tag_row),
        rx.card(
            rx.form(
                rx.vstack(
                    rx.heading("Add a tag", size="4", as_="h2"),
                    field("Name", "name", max_length=80, hint="e.g. Ads conversion"),
                    field(
                        "Script address",
                        "script_url",
                        type_="url",
                        max_length=500,
                        hint="https://… on an allowed host",
                    ),
                    field(
                        "Pages",
                        "pages",
                        default_value="*",
                        max_length=500,
                        hint="* for every page, or paths like /, /signup",
                    ),
                    rx.button("Save tag", type="submit"),
                    spacing="3",
                    width="100%",
                    max_width="520px",
                ),
                on_submit=m.add,
                reset_on_submit=True,
            ),
            width="100%",
        ),
        spacing="4",
        width="100%",
    )
