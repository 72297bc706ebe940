"""The results page's wording: the SRM banner, progress, and each figure formatted from the statistics."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from sayzhong.experiments import metrics, report, stats
from sayzhong.experiments.service import (
    ExperimentResults,
    ExperimentView,
    MetricResult,
    VariantCount,
    VariantSpec,
    _compare,
)


def _results(counts: tuple[int, int], conversions: tuple[int, int]) -> ExperimentResults:
    view = ExperimentView(
        id=1,
        key="landing_headline",
        name="Landing headline",
        hypothesis="",
        variants=(VariantSpec("control", 50), VariantSpec("fix_tones", 50)),
        audience="new_visitors",
        device="any",
        primary_metric="signed_up",
        guardrail_metrics=(),
        minimum_sample=1000,
        status="running",
        created_at=datetime(2026, 11, 1, tzinfo=UTC),
        started_at=datetime(2026, 11, 2, 9, 0, tzinfo=UTC),
        stopped_at=None,
    )
    values = {
        name: np.array([1.0] * conv + [0.0] * (n - conv))
        for name, n, conv in zip(("control", "fix_tones"), counts, conversions, strict=True)
    }
    covariate = {name: np.zeros(v.size) for name, v in values.items()}
    metric = metrics.METRICS["signed_up"]
    comparisons = _compare(metric, values, covariate, "control", 500.0)
    total = sum(counts)
    return ExperimentResults(
        experiment=view,
        counts=tuple(
            VariantCount(n, 0.5, c, c / total) for n, c in zip(("control", "fix_tones"), counts, strict=True)
        ),
        total_units=total,
        srm=stats.sample_ratio_mismatch(list(counts), [50, 50]),
        progress=min(1.0, min(counts) / 1000),
        metrics=(
            MetricResult(metric, "primary", {k: float(v.mean()) for k, v in values.items()}, comparisons),
        ),
    )


def test_a_fair_split_reads_as_fine_and_figures_are_formatted() -> None:
    built = report.build_report(_results((500, 510), (50, 80)))
    assert not built.srm_alarm and built.srm_text.startswith("The split matches the plan")
    assert built.progress_percent == 50
    assert built.progress_text == "500 of 1,000 units in the smallest variant (50 % of the minimum sample)."
    (row,) = built.primary
    assert row["control"] == "10.0 % (n = 500)"
    assert row["value"] == "15.7 % (n = 510)"
    assert row["lift"] == "+56.9 %"
    assert row["verdict"] in {"Better than control", "No clear difference yet"}
    assert row["chance"].endswith("%") and row["sequential_p"] != "—"
    assert built.counts[0]["variant"] == "control (control)"
    assert built.summary["started"] == "2026-11-02 09:00 UTC"


def test_a_sample_ratio_mismatch_raises_the_alarm_banner() -> None:
    built = report.build_report(_results((500, 700), (50, 70)))
    assert built.srm_alarm
    assert (
        built.srm_text.startswith("Sample ratio mismatch") and "do not trust these results" in built.srm_text
    )
