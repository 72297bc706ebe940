"""Staff pages for A/B experiments (marketing and admins): definitions, QA overrides, results."""

from __future__ import annotations

import reflex as rx

from components.forms import error_message, success_message
from components.layout import data_table
from components.props import Row
from pages.admin import _denied, _staff_nav
from pages.template import template
from sayzhong import routes
from state.experiments import ExperimentResultsState, ExperimentsAdminState

_SELECT_STYLE = {"padding": "6px 8px", "borderRadius": "6px", "width": "100%", "maxWidth": "420px"}
_TEXTAREA_STYLE = {"padding": "6px 8px", "borderRadius": "6px", "width": "100%", "fontFamily": "inherit"}


def _label(text: str, for_id: str, hint: str = "") -> rx.Component:
    return rx.vstack(
        rx.el.label(text, html_for=for_id, style={"fontWeight": 600}),
        rx.cond(hint != "", rx.text(hint, size="1", color=rx.color("gray", 11))),
        spacing="0",
    )


def _select(name: str, options, placeholder: str) -> rx.Component:
    return rx.el.select(
        rx.el.option(placeholder, value=""),
        rx.foreach(options, lambda o: rx.el.option(o["label"], value=o["key"])),
        id=f"exp-{name}",
        name=name,
        required=True,
        style=_SELECT_STYLE,
    )


def _status_badge(status) -> rx.Component:
    return rx.badge(
        status,
        color_scheme=rx.match(status, ("running", "green"), ("stopped", "gray"), "amber"),
        variant="soft",
        high_contrast=True,
    )


def _experiment_row(e: Row) -> rx.Component:
    a = ExperimentsAdminState
    return rx.table.row(
        rx.table.cell(
            rx.vstack(rx.text.strong(e["name"]), rx.code(e["key"], high_contrast=True), spacing="1")
        ),
        rx.table.cell(_status_badge(e["status"])),
        rx.table.cell(e["variants"]),
        rx.table.cell(e["audience"]),
        rx.table.cell(e["primary"]),
        rx.table.cell(e["units"]),
        rx.table.cell(
            rx.hstack(
                rx.link("Results", href=e["results"], aria_label="Results of " + e["key"].to(str)),
                rx.cond(
                    e["can_start"] != "",
                    rx.button(
                        "Start",
                        size="1",
                        on_click=a.start(e["key"]),  # type: ignore[operator]  # see components/props.py
                        aria_label="Start " + e["key"].to(str),
                    ),
                ),
                rx.cond(
                    e["can_stop"] != "",
                    rx.button(
                        "Stop",
                        size="1",
                        color_scheme="red",
                        variant="soft",
                        on_click=a.stop(e["key"]),  # type: ignore[operator]  # see components/props.py
                        aria_label="Stop " + e["key"].to(str),
                    ),
                ),
                spacing="2",
                align="center",
            )
        ),
    )


def _definition_form() -> rx.Component:
    a = ExperimentsAdminState
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Define an experiment", size="5", as_="h2"),
                rx.text(
                    "A new key creates a draft; saving an existing draft's key changes it. Once started, "
                    "an experiment's plan is frozen.",
                    size="2",
                    color=rx.color("gray", 11),
                ),
                _label("Key", "exp-key", "Wired in the product: " + a.surfaces),
                rx.input(
                    id="exp-key", name="key", required=True, max_length=64, placeholder="landing_headline"
                ),
                _label("Name", "exp-name"),
                rx.input(id="exp-name", name="name", required=True, max_length=120, width="100%"),
                _label("Hypothesis (optional)", "exp-hypothesis"),
                rx.el.textarea(
                    id="exp-hypothesis", name="hypothesis", rows=2, max_length=1000, style=_TEXTAREA_STYLE
                ),
                _label(
                    "Variants", "exp-variants", "One per line: name and weight. The first is the control."
                ),
                rx.el.textarea(
                    id="exp-variants",
                    name="variants",
                    rows=3,
                    required=True,
                    default_value="control 50\nfix_tones 50",
                    style=_TEXTAREA_STYLE,
                ),
                _label("Audience", "exp-audience"),
                _select("audience", a.audience_options, "Choose who takes part"),
                _label("Devices", "exp-device"),
                _select("device", a.device_options, "Choose devices"),
                _label("Primary metric", "exp-primary_metric", "The one number that decides the experiment."),
                _select("primary_metric", a.metric_options, "Choose the primary metric"),
                rx.el.fieldset(
                    rx.el.legend("Guardrail metrics (must not get worse)", style={"fontWeight": 600}),
                    rx.foreach(
                        a.metric_options,
                        lambda m: rx.el.label(
                            rx.el.input(type="checkbox", name="guardrail_" + m["key"].to(str)),
                            " ",
                            m["label"],
                            style={"display": "block", "padding": "2px 0"},
                        ),
                    ),
                    style={"border": "none", "padding": 0, "margin": 0},
                ),
                _label(
                    "Minimum sample per variant",
                    "exp-minimum_sample",
                    "Units each variant needs before deciding.",
                ),
                rx.input(
                    id="exp-minimum_sample",
                    name="minimum_sample",
                    type="number",
                    min=10,
                    default_value="1000",
                ),
                rx.button("Save draft", type="submit"),
                spacing="2",
                width="100%",
                max_width="640px",
            ),
            on_submit=a.save,
            reset_on_submit=False,
        ),
        width="100%",
    )


def _override_row(o: Row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.code(o["experiment"], high_contrast=True)),
        rx.table.cell(o["target"]),
        rx.table.cell(o["variant"]),
        rx.table.cell(
            rx.button(
                "Remove",
                size="1",
                variant="soft",
                on_click=ExperimentsAdminState.remove_override(o["id"]),  # type: ignore[operator]  # see components/props.py
                aria_label="Remove override for " + o["target"].to(str),
            )
        ),
    )


def _override_form() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("QA overrides", size="5", as_="h2"),
                rx.text(
                    "Force a variant for one learner (e-mail) or visitor (visitor id). They see it at once "
                    "and never count in the results. For a quick look, add ?variant=<key>:<variant> to the "
                    "page address instead.",
                    size="2",
                    color=rx.color("gray", 11),
                ),
                _label("Experiment key", "ovr-experiment"),
                rx.input(id="ovr-experiment", name="experiment", required=True, max_length=64),
                _label("Learner's e-mail or visitor id", "ovr-target"),
                rx.input(id="ovr-target", name="target", required=True, max_length=320, width="100%"),
                _label("Variant", "ovr-variant"),
                rx.input(id="ovr-variant", name="variant", required=True, max_length=40),
                rx.button("Save override", type="submit", variant="soft"),
                spacing="2",
                width="100%",
                max_width="480px",
            ),
            on_submit=ExperimentsAdminState.set_override,
            reset_on_submit=True,
        ),
        width="100%",
    )


@template(routes.ADMIN_EXPERIMENTS, "Experiments", access="staff", on_load=[ExperimentsAdminState.load])
def admin_experiments() -> rx.Component:
    a = ExperimentsAdminState
    return rx.vstack(
        rx.heading("Experiments", size="8", as_="h1"),
        _staff_nav(),
        _denied(a.denied),
        error_message(a.error),
        success_message(a.message),
        data_table(
            "Experiments",
            ("Experiment", "Status", "Variants", "Audience", "Primary metric", "Units", ""),
            a.experiments,
            _experiment_row,
        ),
        rx.cond(~a.has_experiments, rx.text("No experiments yet.", color=rx.color("gray", 11))),
        _definition_form(),
        _override_form(),
        rx.cond(
            a.has_overrides,
            data_table("QA overrides", ("Experiment", "Who", "Variant", ""), a.overrides, _override_row),
        ),
        spacing="5",
        width="100%",
    )


def _fact(label: str, value) -> rx.Component:
    return rx.fragment(
        rx.el.dt(label, style={"fontWeight": 600, "color": rx.color("gray", 11)}),
        rx.el.dd(value, style={"margin": 0}),
    )


def _count_row(c: Row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(c["variant"]),
        rx.table.cell(c["planned"]),
        rx.table.cell(c["units"]),
        rx.table.cell(c["actual"]),
    )


def _comparison_row(r: Row) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(
            rx.vstack(rx.text.strong(r["metric"]), rx.text(r["variant"], size="1"), spacing="0")
        ),
        rx.table.cell(r["control"]),
        rx.table.cell(r["value"]),
        rx.table.cell(r["lift"]),
        rx.table.cell(
            rx.badge(
                r["verdict"],
                color_scheme=rx.match(r["tone"], ("green", "green"), ("red", "red"), "gray"),
                high_contrast=True,
            )
        ),
        rx.table.cell(r["chance"]),
        rx.table.cell(r["loss"]),
        rx.table.cell(r["credible"]),
        rx.table.cell(r["sequential_p"]),
        rx.table.cell(r["sequence"]),
        rx.table.cell(r["cuped"]),
        rx.table.cell(r["fixed_p"]),
    )


_COMPARISON_HEADERS = (
    "Metric / variant",
    "Control",
    "Variant",
    "Lift",
    "Verdict (sequential)",
    "Chance to beat control",
    "Expected loss",
    "95 % credible lift",
    "Always-valid p",
    "95 % confidence sequence",
    "CUPED-adjusted difference",
    "Fixed-horizon p (final look only)",
)


@template(
    routes.ADMIN_EXPERIMENT_RESULTS,
    "Experiment results",
    access="staff",
    on_load=[ExperimentResultsState.load],
)
def experiment_results() -> rx.Component:
    s = ExperimentResultsState
    return rx.vstack(
        rx.heading(
            rx.cond(s.found, "Results: " + s.summary["name"], "Experiment results"),
            size="8",
            as_="h1",
        ),
        _staff_nav(),
        _denied(s.denied),
        error_message(s.error),
        rx.link("← All experiments", href=routes.ADMIN_EXPERIMENTS),
        rx.cond(
            s.found,
            rx.vstack(
                rx.cond(
                    s.srm_alarm,
                    rx.callout(
                        s.srm_text,
                        icon="siren",
                        color_scheme="red",
                        role="alert",
                        size="3",
                        width="100%",
                        high_contrast=True,
                    ),
                    rx.callout(
                        s.srm_text,
                        icon="circle-check",
                        color_scheme="green",
                        role="status",
                        width="100%",
                        high_contrast=True,
                    ),
                ),
                rx.el.dl(
                    _fact("Key", rx.code(s.summary["key"], high_contrast=True)),
                    _fact("Status", _status_badge(s.summary["status"])),
                    _fact("Started", s.summary["started"]),
                    _fact("Audience", s.summary["audience"]),
                    _fact("Primary metric", s.summary["primary"]),
                    _fact("Hypothesis", s.summary["hypothesis"]),
                    _fact("Units exposed", s.summary["units"]),
                    _fact("Left out (QA overrides)", s.summary["excluded"]),
                    style={"display": "grid", "gridTemplateColumns": "max-content 1fr", "gap": "6px 16px"},
                ),
                rx.heading("Exposures per variant", size="5", as_="h2"),
                data_table(
                    "Exposures", ("Variant", "Planned share", "Units", "Actual share"), s.counts, _count_row
                ),
                rx.vstack(
                    rx.el.label("Minimum sample", html_for="exp-progress", style={"fontWeight": 600}),
                    rx.progress(
                        value=s.progress_percent,
                        id="exp-progress",
                        max=100,
                        width="100%",
                        max_width="480px",
                        aria_label="Progress towards the minimum sample",
                    ),
                    rx.text(s.progress_text, size="2"),
                    spacing="1",
                    width="100%",
                ),
                rx.heading("Primary metric", size="5", as_="h2"),
                data_table("Primary metric results", _COMPARISON_HEADERS, s.primary, _comparison_row),
                rx.heading("Guardrails", size="5", as_="h2"),
                rx.cond(
                    s.has_guardrails,
                    data_table("Guardrail results", _COMPARISON_HEADERS, s.guardrails, _comparison_row),
                    rx.text("No guardrail metrics were chosen.", color=rx.color("gray", 11)),
                ),
                rx.card(
                    rx.vstack(
                        rx.heading("How to read this", size="4", as_="h2"),
                        rx.text(
                            "Verdict and “always-valid p” come from a sequential test: you may look every "
                            "day, and a result below 0.05 is still trustworthy. Decide when the minimum "
                            "sample is reached or the verdict is clear. “Chance to beat control” and "
                            "“expected loss” are Bayesian: the probability the variant is better, and how "
                            "much you would lose on average if you picked it and it were worse. The CUPED "
                            "figure uses each learner's practice before the experiment to cut noise. The "
                            "fixed-horizon p is only valid if read once, at the planned sample.",
                            size="2",
                        ),
                        spacing="2",
                    ),
                    width="100%",
                ),
                spacing="4",
                width="100%",
            ),
        ),
        spacing="4",
        width="100%",
        max_width="100%",
    )
