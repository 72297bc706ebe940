"""What each BI page shows: KPIs, one chart's series and its tables, for one section and filter.

`section_view` is the one entry point for the pages, the CSV download route and the weekly report:
it checks the caller's role and two-factor sign-in, reads `metrics` and returns plain data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session

from sayzhong.accounts.access import HasRole, require_bi
from sayzhong.bi import metrics
from sayzhong.bi.metrics import Kpi, Table
from sayzhong.billing.catalog import format_money
from sayzhong.errors import NotFoundError, PermissionDeniedError

SECTIONS = ("overview", "acquisition", "retention", "learning", "revenue")
MONEY_COLUMNS = frozenset({"spend", "cost_per_signup", "cac", "amount", "mrr", "invoiced", "refunded"})
PLAIN_FLOAT_COLUMNS = frozenset({"mean_improvement"})


@dataclass(frozen=True, slots=True)
class SectionView:
    section: str
    kpis: list[Kpi]
    tables: list[Table]
    chart: list[dict[str, Any]]
    """Rows for the section's chart (keys named in docs/bi.md and pages/bi.py)."""
    currency: str = "eur"


def require_reader(actor: Any, section: str) -> None:
    """BI pages are staff pages: the role must fit the section and two-factor sign-in must be on."""
    require_bi(actor, section)
    if not getattr(actor, "two_factor_enabled", False):
        raise PermissionDeniedError(
            "Turn on two-factor sign-in (Account → Two-factor sign-in) to use the staff area."
        )


def _chart_from(table: Table, x: str, keys: tuple[str, ...]) -> list[dict[str, Any]]:
    out = []
    for row in table.rows:
        values = dict(zip(table.columns, row, strict=True))
        point: dict[str, Any] = {"x": values[x]}
        for key in keys:
            value = values.get(key)
            point[key] = round(value * 100, 1) if isinstance(value, float) else value
        out.append(point)
    return out


def section_view(
    *,
    session: Session,
    actor: HasRole | None,
    section: str,
    start: date,
    end: date,
    segment: str = metrics.ALL,
    cohort: metrics.Cohorts = metrics.ALL_COHORTS,
) -> SectionView:
    """Filters: the date range everywhere; the segment on every section but acquisition (which is split
    by channel already); the cohort (sign-up weeks) on retention and learning."""
    if section not in SECTIONS:
        raise NotFoundError("There is no such BI page.", code="bi_unknown_section")
    require_reader(actor, section)
    if section == "overview":
        o = metrics.overview(session=session, start=start, end=end, segment=segment)
        return SectionView(section, o.kpis, [o.daily], _chart_from(o.daily, "day", ("dau", "wau", "mau")))
    if section == "acquisition":
        a = metrics.acquisition(session=session, start=start, end=end)
        chart = [
            {"x": f"{r[0]} / {r[1]}", "signups": r[3] or 0, "paid": r[5] or 0} for r in a.by_campaign.rows
        ]
        return SectionView(section, a.kpis, [a.by_campaign], chart)
    if section == "retention":
        r = metrics.retention(session=session, start=start, end=end, segment=segment, cohort=cohort)
        chart = _chart_from(r.lifecycle, "day", tuple(r.lifecycle.columns[1:]))
        return SectionView(section, [], [r.cohorts, r.transitions, r.lifecycle], chart)
    if section == "learning":
        learn = metrics.learning(session=session, start=start, end=end, segment=segment, cohort=cohort)
        chart = _chart_from(learn.curve, "takes", ("tone_1", "tone_2", "tone_3", "tone_4"))
        tables = [
            learn.curve,
            learn.cohort_curve,
            learn.tone_pairs,
            learn.mastery,
            learn.speaker_profile,
            learn.content,
        ]
        return SectionView(section, learn.kpis, tables, chart)
    rev = metrics.revenue(session=session, start=start, end=end, segment=segment)
    chart = _chart_from(rev.daily, "day", ("mrr",))
    return SectionView(section, rev.kpis, [rev.movements, rev.daily], chart, rev.currency)


def table_csv(
    *,
    session: Session,
    actor: HasRole | None,
    section: str,
    table: str,
    start: date,
    end: date,
    segment: str,
    cohort: metrics.Cohorts = metrics.ALL_COHORTS,
) -> tuple[str, str]:
    """(file name, CSV text) of one table of a section, with the page's filters."""
    view = section_view(
        session=session, actor=actor, section=section, start=start, end=end, segment=segment, cohort=cohort
    )
    found = next((t for t in view.tables if t.key == table), None)
    if found is None:
        raise NotFoundError("That table is not on this page.", code="bi_unknown_table")
    return f"sayzhong-{section}-{table}-{start.isoformat()}-{end.isoformat()}.csv", metrics.to_csv(found)


def format_cell(column: str, value: Any, currency: str = "eur") -> str:
    """A cell as staff read it: "<5" for suppressed cells, shares in %, money with its symbol."""
    if value is None:
        return "<5"
    if column in MONEY_COLUMNS and isinstance(value, int | float):
        return format_money(round(value), currency)
    if isinstance(value, float):
        return f"{value:.1f}" if column in PLAIN_FLOAT_COLUMNS else f"{value:.1%}"
    return str(value)


def format_kpi(kpi: Kpi, currency: str = "eur") -> tuple[str, str]:
    """(value, change) as text."""

    def one(value: float | None) -> str:
        if value is None:
            return "—"
        if kpi.unit == "money":
            return format_money(round(value), currency)
        if kpi.unit == "percent":
            return f"{value:.1%}"
        if kpi.unit == "ratio":
            return f"{value:.1f} : 1"
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"

    change = kpi.change
    return one(kpi.value), "" if change is None else f"{change:+.0%} vs previous period"


def heat(value: Any) -> str:
    """Background of a cohort cell: lighter for low retention, deeper green for high (dark text readable)."""
    if not isinstance(value, float):
        return "transparent"
    lightness = 96 - round(max(0.0, min(1.0, value)) * 40)
    return f"hsl(140, 45%, {lightness}%)"
