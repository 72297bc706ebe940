"""Plain-words rows for the results page: every figure formatted, every verdict explained.

Kept out of `state/` so the wording is tested without Reflex; the state copies these dicts into vars.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sayzhong.experiments import metrics
from sayzhong.experiments.service import AUDIENCES, DEVICES, Comparison, ExperimentResults, MetricResult

VERDICTS = {
    "better": "Better than control",
    "worse": "Worse than control",
    "no_difference_yet": "No clear difference yet",
    "not_enough_data": "Not enough data",
}


def _pct(value: float, digits: int = 1) -> str:
    return "—" if value is None or math.isnan(value) else f"{100 * value:.{digits}f} %"


def _signed_pct(value: float | None) -> str:
    if value is None or math.isnan(value) or math.isinf(value):
        return "—"
    return f"{100 * value:+.1f} %"


def _value(metric: metrics.Metric, value: float) -> str:
    return _pct(value) if metric.kind == "conversion" else f"{value:.2f}"


def _diff(metric: metrics.Metric, value: float) -> str:
    if math.isinf(value) or math.isnan(value):
        return "—"
    return f"{100 * value:+.2f} pts" if metric.kind == "conversion" else f"{value:+.3f}"


def _interval(metric: metrics.Metric, low: float, high: float) -> str:
    return f"{_diff(metric, low)} to {_diff(metric, high)}"


def _p(value: float | None) -> str:
    if value is None:
        return "—"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def comparison_row(result: MetricResult, c: Comparison) -> dict[str, str]:
    m = result.metric
    row = {
        "metric": m.label,
        "role": "Primary" if result.role == "primary" else "Guardrail",
        "variant": c.variant,
        "control": f"{_value(m, c.control_value)} (n = {c.units_control:,})",
        "value": f"{_value(m, c.variant_value)} (n = {c.units_variant:,})",
        "lift": _signed_pct(c.relative_lift),
        "verdict": VERDICTS[c.verdict],
        "tone": {"better": "green", "worse": "red"}.get(c.verdict, "gray"),
        "chance": "—",
        "loss": "—",
        "credible": "—",
        "sequential_p": "—",
        "sequence": "—",
        "fixed_p": _p(c.welch_p),
        "cuped": "—",
    }
    if c.bayes is not None:
        lo, hi = c.bayes.lift_interval
        row.update(
            chance=_pct(c.bayes.chance_to_beat),
            loss=_diff(m, c.bayes.loss_choosing_variant)
            if m.kind == "mean"
            else _pct(c.bayes.loss_choosing_variant, 2),
            credible=f"{_signed_pct(lo)} to {_signed_pct(hi)}",
        )
    if c.sequential is not None:
        row.update(
            sequential_p=_p(c.sequential.p_value),
            sequence=_interval(m, *c.sequential.interval),
        )
    if c.cuped is not None:
        cu = c.cuped
        reduction = (
            f", variance −{100 * cu.variance_reduction:.0f} %" if cu.variance_reduction > 0.005 else ""
        )
        row["cuped"] = f"{_diff(m, cu.difference)} ± {_diff(m, 1.96 * cu.std_error).lstrip('+')}{reduction}"
    return row


@dataclass(frozen=True, slots=True)
class ResultsReport:
    summary: dict[str, str]
    counts: list[dict[str, str]]
    srm_alarm: bool
    srm_text: str
    progress_percent: int
    progress_text: str
    primary: list[dict[str, str]]
    guardrails: list[dict[str, str]]


def build_report(results: ExperimentResults) -> ResultsReport:
    exp = results.experiment
    srm = results.srm
    if srm.alarm:
        srm_text = (
            f"Sample ratio mismatch: the split of visitors between variants is not what was planned "
            f"(chi-square {srm.chi2:.1f}, p = {_p(srm.p_value)}). Something is wrong with the assignment or "
            f"the exposure logging — do not trust these results until it is found."
        )
    else:
        srm_text = (
            f"The split matches the plan (sample-ratio check: chi-square {srm.chi2:.2f}, "
            f"p = {_p(srm.p_value)})."
        )
    smallest = min((c.units for c in results.counts), default=0)
    percent = round(100 * results.progress)
    progress_text = (
        f"{smallest:,} of {exp.minimum_sample:,} units in the smallest variant "
        f"({percent} % of the minimum sample)."
    )
    primary = [comparison_row(m, c) for m in results.metrics if m.role == "primary" for c in m.comparisons]
    guard = [comparison_row(m, c) for m in results.metrics if m.role == "guardrail" for c in m.comparisons]
    summary = {
        "key": exp.key,
        "name": exp.name,
        "status": exp.status,
        "hypothesis": exp.hypothesis or "—",
        "audience": f"{AUDIENCES.get(exp.audience, exp.audience)}; "
        f"{DEVICES.get(exp.device, exp.device).lower()}",
        "primary": metrics.METRICS[exp.primary_metric].label,
        "started": exp.started_at.strftime("%Y-%m-%d %H:%M UTC") if exp.started_at else "not started",
        "units": f"{results.total_units:,}",
        "excluded": str(results.excluded_overrides),
    }
    counts = [
        {
            "variant": c.variant + (" (control)" if c.variant == exp.control else ""),
            "planned": _pct(c.planned_share),
            "units": f"{c.units:,}",
            "actual": _pct(c.share) if results.total_units else "—",
        }
        for c in results.counts
    ]
    return ResultsReport(summary, counts, srm.alarm, srm_text, percent, progress_text, primary, guard)
