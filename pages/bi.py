"""BI dashboards (issue 15): overview, acquisition, retention, learning, revenue — aggregates only."""

from __future__ import annotations

from typing import Any

import reflex as rx

from components.forms import error_message, success_message
from components.layout import data_table, table_frame
from components.props import Row, VarOr
from pages.admin import _denied, _staff_nav
from pages.template import template
from sayzhong import routes
from state.bi import BiReportsState, BiState, BiTable

SECTION_LINKS = (
    ("overview", "Overview", routes.BI_OVERVIEW),
    ("acquisition", "Acquisition", routes.BI_ACQUISITION),
    ("retention", "Retention", routes.BI_RETENTION),
    ("learning", "Learning", routes.BI_LEARNING),
    ("revenue", "Revenue", routes.BI_REVENUE),
    ("reports", "Reports and alerts", routes.BI_REPORTS),
    ("support", "Support", routes.STAFF_SUPPORT_ANALYSIS),
)
PALETTE = ("blue", "green", "orange", "purple", "red", "cyan", "gray")


def _open(section: str) -> list[Any]:
    return [BiState.open_section(section)]  # type: ignore[operator]  # see components/props.py


def _bi_nav() -> rx.Component:
    # A nav landmark: aria-label is not allowed on a plain div (axe aria-prohibited-attr).
    return rx.el.nav(
        rx.hstack(
            *[
                rx.cond(BiState.sections.contains(key), rx.link(label, href=href))  # type: ignore[attr-defined]
                for key, label, href in SECTION_LINKS
            ],
            spacing="5",
            flex_wrap="wrap",
        ),
        aria_label="Business intelligence sections",
    )


def _choice(
    label: str, name: str, options: VarOr[list[str]], value: VarOr[str], *, any_label: str = ""
) -> rx.Component:
    """A labelled select of `options` (a list var); `any_label` adds a first "no filter" option (value "")."""
    return rx.vstack(
        rx.el.label(label, html_for="bi-" + name.replace("_", "-")),
        rx.el.select(
            *([rx.el.option(any_label, value="")] if any_label else []),
            rx.foreach(options, lambda o: rx.el.option(o, value=o)),
            id="bi-" + name.replace("_", "-"),
            name=name,
            default_value=value,
            key=value,
            padding="6px 8px",
            border_radius="6px",
        ),
        spacing="1",
    )


def _filters(with_segment: bool, with_cohort: bool) -> rx.Component:
    cohorts = [
        _choice(
            "Cohorts from (sign-up week)",
            "cohort_from",
            BiState.cohort_weeks,
            BiState.cohort_from,
            any_label="All cohorts",
        ),
        _choice("Cohorts to", "cohort_to", BiState.cohort_weeks, BiState.cohort_to, any_label="All cohorts"),
    ]
    return rx.form(
        rx.hstack(
            rx.vstack(
                rx.el.label("From", html_for="bi-from"),
                rx.input(
                    id="bi-from", name="from", type="date", default_value=BiState.start, key=BiState.start
                ),
                spacing="1",
            ),
            rx.vstack(
                rx.el.label("To", html_for="bi-to"),
                rx.input(id="bi-to", name="to", type="date", default_value=BiState.end, key=BiState.end),
                spacing="1",
            ),
            *(
                [_choice("Segment (sign-up channel)", "segment", BiState.segments, BiState.segment)]
                if with_segment
                else []
            ),
            *(cohorts if with_cohort else []),
            rx.button("Apply", type="submit"),
            align="end",
            spacing="4",
            flex_wrap="wrap",
        ),
        on_submit=BiState.apply,
        aria_label="Filter",
    )


def _kpi(kpi: Row) -> rx.Component:
    return rx.card(
        rx.text(kpi["label"], size="2", color=rx.color("gray", 11)),
        rx.text(kpi["value"], size="6", weight="bold"),
        rx.text(kpi["change"], size="1", color=rx.color("gray", 11)),
        size="2",
    )


def _cell(cell: rx.Var) -> rx.Component:
    return rx.table.cell(cell.text, background=cell.shade)  # type: ignore[attr-defined]


def _table(table: BiTable) -> rx.Component:
    t = rx.Var.create(table)  # a Var at run time (foreach item); the wrap keeps mypy honest
    return rx.vstack(
        rx.hstack(
            rx.heading(t.title, size="4", as_="h2"),  # type: ignore[attr-defined]
            rx.button(
                "Download CSV",
                variant="soft",
                size="1",
                on_click=BiState.download(t.key),  # type: ignore[attr-defined, operator]  # see components/props.py
                aria_label="Download CSV: " + t.title,  # type: ignore[attr-defined]
            ),
            spacing="4",
            align="baseline",
            flex_wrap="wrap",
        ),
        table_frame(
            rx.table.root(
                rx.table.header(
                    rx.table.row(rx.foreach(t.columns, lambda c: rx.table.column_header_cell(c)))  # type: ignore[attr-defined]
                ),
                rx.table.body(rx.foreach(t.rows, lambda row: rx.table.row(rx.foreach(row, _cell)))),  # type: ignore[attr-defined]
                size="1",
                width="100%",
            ),
            label=t.title,  # type: ignore[attr-defined]
        ),
        spacing="2",
        width="100%",
    )


def _line_chart(keys: tuple[str, ...], *, unit: str = "") -> rx.Component:
    return rx.recharts.line_chart(
        *[
            rx.recharts.line(
                data_key=key,
                name=key.replace("_", " "),
                stroke=rx.color(PALETTE[i % len(PALETTE)], 9),
                stroke_width=2,
                connect_nulls=True,
                dot=False,
                is_animation_active=False,
            )
            for i, key in enumerate(keys)
        ],
        rx.recharts.x_axis(data_key="x"),
        rx.recharts.y_axis(unit=unit, width=56),
        rx.recharts.legend(),
        rx.recharts.graphing_tooltip(),
        data=BiState.chart,
        width="100%",
        height=280,
    )


def _bar_chart(keys: tuple[str, ...]) -> rx.Component:
    return rx.recharts.bar_chart(
        *[
            rx.recharts.bar(data_key=key, name=key, fill=rx.color(PALETTE[i], 9), is_animation_active=False)
            for i, key in enumerate(keys)
        ],
        rx.recharts.x_axis(data_key="x"),
        rx.recharts.y_axis(width=44),
        rx.recharts.legend(),
        rx.recharts.graphing_tooltip(),
        data=BiState.chart,
        width="100%",
        height=280,
    )


def _spend_form() -> rx.Component:
    return rx.cond(
        BiState.can_edit,
        rx.card(
            rx.form(
                rx.vstack(
                    rx.heading("Campaign spend", size="4", as_="h2"),
                    rx.el.label("Month", html_for="spend-month"),
                    rx.input(id="spend-month", name="month", type="month", required=True),
                    rx.el.label("Channel", html_for="spend-channel"),
                    rx.input(id="spend-channel", name="channel", required=True, max_length=80),
                    rx.el.label("Campaign (optional)", html_for="spend-campaign"),
                    rx.input(id="spend-campaign", name="campaign", max_length=80),
                    rx.el.label("Amount (euros)", html_for="spend-amount"),
                    rx.input(
                        id="spend-amount", name="amount", type="number", min=0, step="0.01", required=True
                    ),
                    rx.button("Save spend", type="submit"),
                    spacing="2",
                    max_width="420px",
                    width="100%",
                ),
                on_submit=BiState.add_spend,
                reset_on_submit=True,
            ),
            width="100%",
        ),
    )


def _section(
    title: str,
    chart: rx.Component,
    *,
    with_segment: bool = True,
    with_cohort: bool = False,
    note: str = "",
    extra: rx.Component | None = None,
) -> rx.Component:
    return rx.vstack(
        rx.heading(title, size="8", as_="h1"),
        _staff_nav(),
        _bi_nav(),
        _denied(BiState.denied),
        error_message(BiState.error),
        success_message(BiState.message),
        _filters(with_segment, with_cohort),
        rx.text(
            BiState.freshness,
            " Cells for fewer than 5 learners show “<5”.",
            size="2",
            color=rx.color("gray", 11),
        ),
        *([rx.text(note, size="2")] if note else []),
        rx.grid(
            rx.foreach(BiState.kpis, _kpi),
            columns=rx.breakpoints(initial="1", sm="2", md="4"),
            spacing="3",
            width="100%",
        ),
        rx.box(chart, width="100%", role="img", aria_label=title + " chart"),
        rx.foreach(BiState.tables, _table),
        *([extra] if extra is not None else []),
        spacing="5",
        width="100%",
    )


@template(routes.BI_OVERVIEW, "BI overview", access="staff", on_load=_open("overview"))
def bi_overview() -> rx.Component:
    return _section(
        "Business overview",
        _line_chart(("dau", "wau", "mau")),
        note="Filters: the segment narrows every figure except open tickets (support is not split by "
        "channel). Cohorts are chosen on the retention and learning pages.",
    )


@template(routes.BI_ACQUISITION, "BI acquisition", access="staff", on_load=_open("acquisition"))
def bi_acquisition() -> rx.Component:
    return _section(
        "Acquisition",
        _bar_chart(("signups", "paid")),
        with_segment=False,
        note="Filters: the date range only (the table is split by channel and campaign itself). Targets: "
        "CAC below $25, lifetime value above $150. Enter campaign spend below the table.",
        extra=_spend_form(),
    )


@template(routes.BI_RETENTION, "BI retention", access="staff", on_load=_open("retention"))
def bi_retention() -> rx.Component:
    return _section(
        "Retention",
        _line_chart(
            ("new", "current", "reactivated", "resurrected", "at_risk_wau", "at_risk_mau", "dormant")
        ),
        with_cohort=True,
        note=(
            "Filters: the segment and the cohort (sign-up weeks) narrow every table here — the cohort "
            "triangle, the lifecycle states and the transition rates."
        ),
    )


@template(routes.BI_LEARNING, "BI learning", access="staff", on_load=_open("learning"))
def bi_learning() -> rx.Component:
    return _section(
        "Learning effectiveness",
        _line_chart(("tone_1", "tone_2", "tone_3", "tone_4"), unit="%"),
        with_cohort=True,
        note=(
            "Filters: the segment and the cohort (sign-up weeks) narrow the tone tables, time to mastery, "
            "content performance and review retention; engine disagreement covers everyone (details: "
            "Support → Scoring feedback). Time to mastery counts everything up to the last day of the "
            "range."
        ),
    )


@template(routes.BI_REVENUE, "BI revenue", access="staff", on_load=_open("revenue"))
def bi_revenue() -> rx.Component:
    return _section(
        "Revenue",
        _line_chart(("mrr",)),
        note=(
            "Filters: the segment narrows every figure (customers by their learner's sign-up channel); "
            "figures resting on fewer than 5 paying learners show “<5”; reconciliation covers everyone."
        ),
        extra=_reconciliation(),
    )


def _reconciliation() -> rx.Component:
    return rx.vstack(
        rx.heading("Reconciliation with Stripe", size="4", as_="h2"),
        rx.text("Paid invoices counted here against the invoices Stripe lists for the same days.", size="2"),
        rx.button("Reconcile with Stripe", on_click=BiState.reconcile, variant="soft"),
        rx.cond(BiState.reconcile_summary != "", rx.text(BiState.reconcile_summary, role="status")),
        rx.cond(
            BiState.reconcile_rows.length() > 0,  # type: ignore[attr-defined]
            _simple_table(
                "Differences with Stripe",
                ("Invoice", "Day", "Difference", "Counted", "Stripe"),
                BiState.reconcile_rows,
                ("invoice", "day", "kind", "counted", "stripe"),
            ),
        ),
        spacing="2",
        width="100%",
    )


def _simple_table(
    label: str, headers: tuple[str, ...], rows: VarOr[list[dict[str, str]]], keys: tuple[str, ...]
) -> rx.Component:
    """A table whose cells are the rows' `keys`, in order."""
    return data_table(
        label, headers, rows, lambda r: rx.table.row(*[rx.table.cell(r[k]) for k in keys]), size="1"
    )


def _rule_form() -> rx.Component:
    r = BiReportsState
    editing = r.editing != ""
    # `key` re-mounts the uncontrolled fields when another rule is put into the form.
    return rx.cond(
        r.can_edit_rules,
        rx.card(
            rx.form(
                rx.vstack(
                    rx.heading(rx.cond(editing, "Change alert rule", "New alert rule"), size="4", as_="h2"),
                    rx.el.label("Metric", html_for="rule-metric"),
                    rx.el.select(
                        rx.foreach(r.metric_options, lambda o: rx.el.option(o[1], value=o[0])),
                        id="rule-metric",
                        name="metric",
                        default_value=r.edit_metric,
                        key="metric-" + r.editing,
                        padding="6px 8px",
                        border_radius="6px",
                    ),
                    rx.el.label("Comparison", html_for="rule-comparison"),
                    rx.el.select(
                        rx.foreach(r.comparison_options, lambda o: rx.el.option(o[1], value=o[0])),
                        id="rule-comparison",
                        name="comparison",
                        default_value=r.edit_comparison,
                        key="comparison-" + r.editing,
                        padding="6px 8px",
                        border_radius="6px",
                    ),
                    rx.el.label("Threshold (% for shares and changes)", html_for="rule-threshold"),
                    rx.input(
                        id="rule-threshold",
                        name="threshold",
                        type="number",
                        step="any",
                        required=True,
                        default_value=r.edit_threshold,
                        key="threshold-" + r.editing,
                    ),
                    rx.el.label("Window (days)", html_for="rule-window"),
                    rx.input(
                        id="rule-window",
                        name="window",
                        type="number",
                        min=1,
                        max=90,
                        default_value=r.edit_window,
                        key="window-" + r.editing,
                    ),
                    rx.hstack(
                        rx.button(rx.cond(editing, "Save changes", "Add rule"), type="submit"),
                        rx.cond(
                            editing,
                            rx.button("Cancel", type="button", variant="soft", on_click=r.cancel_edit),
                        ),
                        spacing="3",
                    ),
                    spacing="2",
                    max_width="420px",
                    width="100%",
                ),
                on_submit=r.add_rule,
                reset_on_submit=True,
            ),
            width="100%",
        ),
    )


def _rule_actions(rule: Row) -> rx.Component:
    r = BiReportsState
    return rx.cond(
        r.can_edit_rules,
        rx.hstack(
            rx.button(
                "Edit",
                size="1",
                variant="soft",
                on_click=r.edit_rule(rule),  # type: ignore[operator]  # see components/props.py
                aria_label="Edit rule: " + rule["rule"].to(str),
            ),
            rx.button(
                rx.cond(rule["state"] == "on", "Turn off", "Turn on"),
                size="1",
                variant="soft",
                on_click=r.toggle_rule(rule["id"], rule["state"]),  # type: ignore[operator]  # see components/props.py
                aria_label=rx.cond(
                    rule["state"] == "on",
                    "Turn off rule: " + rule["rule"].to(str),
                    "Turn on rule: " + rule["rule"].to(str),
                ),
            ),
            rx.button(
                "Delete",
                size="1",
                variant="soft",
                color_scheme="red",
                on_click=r.delete_rule(rule["id"]),  # type: ignore[operator]  # see components/props.py
                aria_label="Delete rule: " + rule["rule"].to(str),
            ),
            spacing="2",
            flex_wrap="wrap",
        ),
    )


def _stored_report() -> rx.Component:
    """The opened weekly report as e-mailed (its HTML with the stored charts) and its CSVs."""
    r = BiReportsState
    return rx.cond(
        r.report_week != "",
        rx.card(
            rx.el.section(
                rx.vstack(
                    rx.hstack(
                        rx.heading("Stored report: week of ", r.report_week, size="5", as_="h2"),
                        rx.button("Close report", variant="soft", size="1", on_click=r.close_report),
                        spacing="4",
                        align="baseline",
                        flex_wrap="wrap",
                    ),
                    rx.cond(r.report_note != "", rx.text(r.report_note, size="2")),
                    rx.box(
                        rx.html(r.report_html),
                        width="100%",
                        overflow_x="auto",
                        style={"& img": {"max_width": "100%", "height": "auto"}},  # phones: charts shrink
                    ),
                    rx.heading("CSV files of this report", size="4", as_="h3"),
                    rx.cond(
                        r.report_files.length() > 0,  # type: ignore[attr-defined]
                        rx.el.ul(
                            rx.foreach(
                                r.report_files,
                                lambda f: rx.el.li(
                                    rx.button(
                                        "Download " + f.name,
                                        variant="soft",
                                        size="1",
                                        on_click=r.download_report_file(f.name),  # type: ignore[operator]  # see components/props.py
                                    ),
                                    rx.text(" ", f.size, as_="span", size="2"),
                                    padding_y="4px",
                                ),
                            ),
                            list_style="none",
                            padding="0",
                        ),
                        rx.text("No files were stored with this report.", size="2"),
                    ),
                    spacing="3",
                    width="100%",
                ),
                aria_label="Stored report",
            ),
            width="100%",
        ),
    )


@template(routes.BI_REPORTS, "BI reports and alerts", access="staff", on_load=[BiReportsState.load])
def bi_reports() -> rx.Component:
    r = BiReportsState
    return rx.vstack(
        rx.heading("Reports and alerts", size="8", as_="h1"),
        _staff_nav(),
        _bi_nav(),
        _denied(r.denied),
        error_message(r.error),
        success_message(r.message),
        rx.hstack(
            rx.text(
                rx.cond(
                    r.subscribed, "You receive the weekly report and KPI alerts.", "You are not subscribed."
                )
            ),
            rx.button(
                rx.cond(r.subscribed, "Unsubscribe", "Subscribe to the weekly report"),
                on_click=r.toggle_subscription,
                variant="soft",
            ),
            spacing="4",
            align="center",
            flex_wrap="wrap",
        ),
        rx.heading("Weekly reports", size="5", as_="h2"),
        data_table(
            "Weekly reports",
            ("Week", "Subject", "Sent to", "Report"),
            r.sent,
            lambda sent: rx.table.row(
                rx.table.cell(sent["week"]),
                rx.table.cell(sent["subject"]),
                rx.table.cell(sent["recipients"]),
                rx.table.cell(
                    rx.button(
                        "Open",
                        size="1",
                        variant="soft",
                        on_click=r.open_report(sent["week"]),  # type: ignore[operator]  # see components/props.py
                        aria_label="Open the report of the week of " + sent["week"].to(str),
                    )
                ),
            ),
            size="1",
        ),
        _stored_report(),
        rx.heading("KPI alert rules", size="5", as_="h2"),
        data_table(
            "KPI alert rules",
            ("Rule", "State", "Action"),
            r.rules,
            lambda rule: rx.table.row(
                rx.table.cell(rule["rule"]),
                rx.table.cell(rule["state"]),
                rx.table.cell(_rule_actions(rule)),
            ),
            size="1",
        ),
        _rule_form(),
        rx.heading("Alert history", size="5", as_="h2"),
        _simple_table(
            "Alert history", ("Day", "Rule", "What happened"), r.history, ("day", "rule", "message")
        ),
        spacing="5",
        width="100%",
    )
