"""Dashboard metrics read from the daily aggregates (never from the raw app tables).

Every function takes a reporting-day range `[start, end]` (inclusive) and returns plain frozen
dataclasses: KPIs with their value for the previous period of the same length, and `Table`s that the
pages show and export as CSV. Breakdown cells describing fewer than `MIN_CELL` learners are
suppressed (None, shown as "<5") so no BI page can single out a learner. Formulas: docs/bi.md.
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from sayzhong.bi.aggregate import (
    ALL,
    CONTENT,
    LIFECYCLE_STATES,
    MASTERY,
    MASTERY_ACCURACY,
    MASTERY_WINDOW,
    TAKE_BUCKETS,
    TONE_BY_BUCKET,
    TONE_BY_PAIR,
    TONE_STARTS,
    TONES,
    Rollup,
    last_computed,
    month_end,
    month_start,
    parse_range,
    week_start,
)
from sayzhong.bi.models import (
    BiCampaignSpend,
    BiCohortWeek,
    BiDailyAcquisition,
    BiDailyActivity,
    BiDailyCohortContent,
    BiDailyCohortLifecycle,
    BiDailyCohortReview,
    BiDailyLifecycle,
    BiDailyRevenue,
    BiDailySegmentRevenue,
    BiDailySupport,
    RevenueFigures,
)
from sayzhong.errors import ValidationError

MIN_CELL = 5
"""Smallest number of learners a breakdown cell may describe."""
CAC_TARGET = 2500
"""Seed target: acquisition cost below $25 (minor units)."""
CLV_TARGET = 15000
"""Seed target: customer lifetime value above $150 (minor units)."""
TRANSITIONS = {
    "new": "NURR",
    "current": "CURR",
    "reactivated": "RURR",
    "resurrected": "SURR",
    "at_risk_wau": "iWAURR",
    "at_risk_mau": "iMAURR",
    "dormant": "DRR",
}
"""State on the previous day → name of the rate "share of those learners active today"."""
Cell = int | float | str | None


def suppress(count: int) -> int | None:
    """A count of 1–4 learners is hidden; 0 and 5+ are shown."""
    return None if 0 < count < MIN_CELL else count


def ratio(numerator: float, denominator: float, *, base: int | None = None) -> float | None:
    """numerator / denominator, or None when undefined or when `base` (learners) is a small cell."""
    if denominator <= 0 or (base is not None and suppress(base) is None):
        return None
    return numerator / denominator


def share(learners: int, of: int) -> float | None:
    """learners / of for counts of people: None when either is a small cell (the share would reveal it)."""
    if of <= 0 or suppress(learners) is None or suppress(of) is None:
        return None
    return learners / of


@dataclass(frozen=True, slots=True)
class Period:
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))


def period(start: date, end: date) -> Period:
    parse_range(start, end)
    return Period(start, end)


@dataclass(frozen=True, slots=True)
class Cohorts:
    """The cohort filter: sign-up weeks `first`…`last` (Mondays, inclusive); None = open-ended."""

    first: date | None = None
    last: date | None = None

    @property
    def everyone(self) -> bool:
        """No cohort chosen: the pages read the per-segment rows instead of the per-sign-up-week ones."""
        return self.first is None and self.last is None

    def where(self, column: Any) -> list[Any]:
        return [
            *([col(column) >= self.first] if self.first else []),
            *([col(column) <= self.last] if self.last else []),
        ]


ALL_COHORTS = Cohorts()
EARLIEST = date(2000, 1, 1)
"""Before any reporting day: cumulative figures (time to mastery) sum every month from here."""


def cohorts(first: date | None = None, last: date | None = None) -> Cohorts:
    """A cohort filter from any days of the first and last sign-up week (a single week: first = last)."""
    first = week_start(first) if first else None
    last = week_start(last) if last else None
    if first and last and last < first:
        raise ValidationError(
            "The last cohort week is before the first one; pick them the other way round.",
            code="bi_bad_cohorts",
        )
    return Cohorts(first, last)


def _in_segment(model: Any, segment: str) -> list[Any]:
    """For the tables holding channel rows only: "all" is their sum, a channel is its own rows."""
    return [] if segment == ALL else [col(model.segment) == segment]


@dataclass(frozen=True, slots=True)
class Kpi:
    key: str
    label: str
    value: float | None
    previous: float | None
    unit: str = "count"
    """count | percent (0–1) | money (minor units) | ratio"""

    @property
    def change(self) -> float | None:
        """Relative change against the previous period (None when the previous value is 0 or unknown)."""
        if self.value is None or not self.previous:
            return None
        return (self.value - self.previous) / abs(self.previous)


@dataclass(frozen=True, slots=True)
class Table:
    key: str
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[Cell, ...]] = field(default_factory=list)

    def column(self, name: str) -> list[Cell]:
        index = self.columns.index(name)
        return [row[index] for row in self.rows]

    def row(self, first: Cell) -> tuple[Cell, ...]:
        return next(r for r in self.rows if r[0] == first)


def to_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow(["<5" if cell is None else _csv_safe(cell) for cell in row])
    return out.getvalue()


def _csv_safe(cell: Cell) -> Cell:
    # Spreadsheet formula injection: a text cell never starts with = + - @.
    if isinstance(cell, str) and cell[:1] in ("=", "+", "-", "@"):
        return "'" + cell
    return cell


def _rows(session: Session, model: Any, p: Period, *where: Any) -> list[Any]:
    return list(
        session.exec(
            select(model)
            .where(col(model.day) >= p.start, col(model.day) <= p.end, *where)
            .order_by(col(model.day))
        ).all()
    )


def _last(rows: Sequence[Any]) -> Any | None:
    return rows[-1] if rows else None


# --- overview ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Overview:
    kpis: list[Kpi]
    daily: Table


def _overview_values(session: Session, p: Period, segment: str) -> dict[str, float | None]:
    activity = _rows(session, BiDailyActivity, p, BiDailyActivity.segment == segment)
    revenue = [r for _day, r in _revenue_rows(session, p, segment)]
    support = _rows(session, BiDailySupport, p)
    if not activity:
        return dict.fromkeys(("dau", "wau", "mau", "stickiness", "new", "takes", "paying", "mrr", "tickets"))
    dau = sum(r.dau for r in activity) / p.days
    end = activity[-1]
    last_rev, last_support = _last(revenue), _last(support)
    return {
        "dau": dau,
        "wau": end.wau,
        "mau": end.mau,
        "stickiness": ratio(dau, end.mau),
        "new": sum(r.new_learners for r in activity),
        "takes": sum(r.takes for r in activity) / p.days,
        "paying": _payers(last_rev, segment) if last_rev else None,
        "mrr": last_rev.mrr if last_rev and _payers(last_rev, segment) is not None else None,
        "tickets": last_support.open_tickets if last_support else None,
    }


def overview(*, session: Session, start: date, end: date, segment: str = ALL) -> Overview:
    p = period(start, end)
    now, before = _overview_values(session, p, segment), _overview_values(session, p.previous(), segment)
    labels = (
        ("dau", "Daily active learners (average)", "count"),
        ("wau", "Weekly active learners", "count"),
        ("mau", "Monthly active learners", "count"),
        ("stickiness", "Stickiness (DAU / MAU)", "percent"),
        ("new", "New learners", "count"),
        ("takes", "Takes per day", "count"),
        ("paying", "Paying learners", "count"),
        ("mrr", "MRR", "money"),
        ("tickets", "Open tickets", "count"),
    )
    kpis = [Kpi(key, label, now[key], before[key], unit) for key, label, unit in labels]
    daily = Table(
        "overview_daily",
        "Daily activity",
        ("day", "dau", "wau", "mau", "new_learners", "takes"),
        [
            (r.day.isoformat(), r.dau, r.wau, r.mau, r.new_learners, r.takes)
            for r in _rows(session, BiDailyActivity, p, BiDailyActivity.segment == segment)
        ],
    )
    return Overview(kpis, daily)


def segments(*, session: Session) -> list[str]:
    """Segments the aggregates hold ("all" first), for the filter."""
    found = session.exec(select(BiDailyActivity.segment).distinct()).all()
    return [ALL, *sorted(s for s in found if s != ALL)]


def cohort_weeks(*, session: Session) -> list[date]:
    """Sign-up weeks the aggregates hold, newest first, for the cohort filter."""
    found = session.execute(
        sa_select(col(BiCohortWeek.cohort_week)).where(col(BiCohortWeek.segment) == ALL).distinct()
    ).scalars()
    return sorted(found, reverse=True)


def _sums(
    session: Session, model: Any, p: Period, keys: Sequence[Any], values: Sequence[Any], *where: Any
) -> list[Any]:
    """SUM(values) GROUP BY keys over the period's days, summed by the database: the daily rows are many
    (one per day × cohort week × tone × …), and loading them as objects cost seconds per page."""
    return list(
        session.execute(
            sa_select(*keys, *(func.coalesce(func.sum(v), 0) for v in values))
            .where(col(model.day) >= p.start, col(model.day) <= p.end, *where)
            .group_by(*keys)
        ).all()
    )


# --- acquisition -------------------------------------------------------------------------------


def spend_in(session: Session, p: Period) -> dict[tuple[str, str], float]:
    """Campaign spend prorated by day to the period: (channel, campaign) → minor units."""
    first_month = p.start.replace(day=1)
    out: dict[tuple[str, str], float] = defaultdict(float)
    for row in session.exec(
        select(BiCampaignSpend).where(
            col(BiCampaignSpend.month) >= first_month, col(BiCampaignSpend.month) <= p.end
        )
    ).all():
        month_end = (row.month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        overlap = (min(month_end, p.end) - max(row.month, p.start)).days + 1
        if overlap > 0:
            out[(row.channel, row.campaign or "unknown")] += row.amount * overlap / month_end.day
    return out


@dataclass(frozen=True, slots=True)
class Acquisition:
    by_campaign: Table
    kpis: list[Kpi]


def acquisition(*, session: Session, start: date, end: date) -> Acquisition:
    p = period(start, end)
    keys = (col(BiDailyAcquisition.channel), col(BiDailyAcquisition.campaign))
    values = [
        col(getattr(BiDailyAcquisition, n)) for n in ("visits", "signups", "referred_signups", "first_paid")
    ]
    cells: dict[tuple[str, str], list[int]] = {
        (channel, campaign): [int(v) for v in sums]
        for channel, campaign, *sums in _sums(session, BiDailyAcquisition, p, keys, values)
    }
    spend = spend_in(session, p)
    for key in spend:
        cells.setdefault(key, [0, 0, 0, 0])
    rows: list[tuple[Cell, ...]] = []
    for (channel, campaign), (visits, signups, referred, paid) in sorted(cells.items()):
        cost = spend.get((channel, campaign))
        rows.append(
            (
                channel,
                campaign,
                suppress(visits),
                suppress(signups),
                suppress(referred),
                suppress(paid),
                share(signups, visits),
                share(paid, signups),
                round(cost) if cost is not None else None,
                round(cost / signups) if cost is not None and signups else None,
                round(cost / paid) if cost is not None and paid else None,
            )
        )
    table = Table(
        "acquisition",
        "Sign-ups and conversion by channel and campaign",
        (
            "channel",
            "campaign",
            "visits",
            "signups",
            "referred",
            "paid",
            "visit_to_signup",
            "signup_to_paid",
            "spend",
            "cost_per_signup",
            "cac",
        ),
        rows,
    )
    total_spend = sum(spend.values())
    total_paid = sum(c[3] for c in cells.values())
    cac = total_spend / total_paid if total_paid and spend else None
    ltv = revenue(session=session, start=start, end=end).ltv
    return Acquisition(
        table,
        [
            Kpi("signups", "Sign-ups", sum(c[1] for c in cells.values()), None),
            Kpi("cac", f"CAC (target < {CAC_TARGET / 100:.0f})", cac, None, "money"),
            Kpi("ltv", f"LTV (target > {CLV_TARGET / 100:.0f})", ltv, None, "money"),
            Kpi("ltv_cac", "LTV : CAC", ltv / cac if ltv is not None and cac else None, None, "ratio"),
        ],
    )


# --- retention ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Retention:
    cohorts: Table
    """cohort_week, size, week_0 … week_N as shares (None: suppressed or not yet happened)."""
    lifecycle: Table
    transitions: Table


def retention(
    *,
    session: Session,
    start: date,
    end: date,
    segment: str = ALL,
    weeks: int = 12,
    cohort: Cohorts = ALL_COHORTS,
) -> Retention:
    """The cohort filter narrows the triangle (sign-up weeks in the date range and in the filter) and the
    lifecycle states and transitions (learners of those sign-up weeks); the segment narrows all three."""
    p = period(start, end)
    rows = session.exec(
        select(BiCohortWeek).where(
            BiCohortWeek.segment == segment,
            col(BiCohortWeek.cohort_week) >= p.start - timedelta(days=p.start.weekday()),
            col(BiCohortWeek.cohort_week) <= p.end,
            *cohort.where(BiCohortWeek.cohort_week),
        )
    ).all()
    triangle: dict[date, dict[int, tuple[int, int]]] = defaultdict(dict)
    for r in rows:
        triangle[r.cohort_week][(r.activity_week - r.cohort_week).days // 7] = (
            r.cohort_size,
            r.active_learners,
        )
    cohort_rows: list[tuple[Cell, ...]] = []
    for week in sorted(triangle):
        cells = triangle[week]
        size = cells[min(cells)][0]
        shares = [share(cells[w][1], cells[w][0]) if w in cells else None for w in range(weeks)]
        cohort_rows.append((week.isoformat(), suppress(size), *shares))
    cohorts = Table(
        "cohorts",
        "Weekly cohorts: share active by weeks since sign-up",
        ("cohort_week", "size", *(f"week_{w}" for w in range(weeks))),
        cohort_rows,
    )
    by_day: dict[date, dict[str, int]] = defaultdict(dict)
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for day, state, learners, prev_learners, prev_active in lifecycle_sums(session, p, segment, cohort):
        by_day[day][state] = int(learners)
        totals[state][0] += int(prev_learners)
        totals[state][1] += int(prev_active)
    lifecycle = Table(
        "lifecycle",
        "Learners by lifecycle state",
        ("day", *LIFECYCLE_STATES),
        [(d.isoformat(), *(suppress(by_day[d].get(s, 0)) for s in LIFECYCLE_STATES)) for d in sorted(by_day)],
    )
    transitions = Table(
        "transitions",
        "Transition rates: yesterday's state → active today",
        ("rate", "from_state", "learner_days", "active_next_day", "rate_value"),
        [
            (
                TRANSITIONS[s],
                s,
                suppress(totals[s][0]),
                suppress(totals[s][1]),
                share(totals[s][1], totals[s][0]),
            )
            for s in LIFECYCLE_STATES
        ],
    )
    return Retention(cohorts, lifecycle, transitions)


def lifecycle_sums(session: Session, p: Period, segment: str, cohort: Cohorts) -> list[Any]:
    """(day, state, learners, prev_learners, prev_active_today) of the segment, or, under a cohort
    filter, summed over the chosen sign-up weeks (and over the channels for "all")."""
    if cohort.everyone:
        model: Any = BiDailyLifecycle
        where = [col(model.segment) == segment]
    else:
        model = BiDailyCohortLifecycle
        where = [*_in_segment(model, segment), *cohort.where(model.cohort_week)]
    return _sums(
        session,
        model,
        p,
        (col(model.day), col(model.state)),
        (col(model.learners), col(model.prev_learners), col(model.prev_active_today)),
        *where,
    )


def week1_retention(*, session: Session, cohort_week: date, segment: str = ALL) -> float | None:
    """Share of a sign-up week's learners active in the following week (the "D7" retention of alerts)."""
    row = session.get(BiCohortWeek, (cohort_week, cohort_week + timedelta(days=7), segment))
    return share(row.active_learners, row.cohort_size) if row else None


# --- learning effectiveness --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Learning:
    curve: Table
    """Tone accuracy by take number (rows) and tone (columns)."""
    cohort_curve: Table
    tone_pairs: Table
    mastery: Table
    speaker_profile: Table
    content: Table
    kpis: list[Kpi]


def _accuracy(judged: int, correct: int) -> float | None:
    return ratio(correct, judged, base=judged)


ToneSums = dict[Any, list[int]]


def rolled_up_sums(
    session: Session,
    rollup: Rollup,
    p: Period,
    keys: Sequence[str],
    where: Callable[[Any], list[Any]] = lambda _model: [],
) -> dict[tuple[Any, ...], list[float]]:
    """SUM(values) by `keys` over a range: its whole calendar months from the monthly table, the days
    of the partial months at its ends from the daily one. `where(model)` adds filters to both."""
    out: dict[tuple[Any, ...], list[float]] = {}
    months, edges = split_months(p)
    reads: list[tuple[Any, Any, Any]] = [
        (rollup.daily, col(rollup.daily.day) >= e.start, col(rollup.daily.day) <= e.end) for e in edges
    ]
    if months is not None:
        reads.append(
            (
                rollup.monthly,
                col(rollup.monthly.month) >= months.start,
                col(rollup.monthly.month) <= months.end,
            )
        )
    for model, after, before in reads:
        columns = [col(getattr(model, k)) for k in keys]
        rows = session.execute(
            sa_select(*columns, *(func.coalesce(func.sum(getattr(model, v)), 0) for v in rollup.values))
            .where(after, before, *where(model))
            .group_by(*columns)
        ).all()
        for row in rows:
            acc = out.setdefault(tuple(row[: len(keys)]), [0.0] * len(rollup.values))
            for i, value in enumerate(row[len(keys) :]):
                acc[i] += value
    return out


def tone_sums(
    session: Session, p: Period, segment: str, cohort: Cohorts
) -> tuple[ToneSums, ToneSums, ToneSums, ToneSums]:
    """Judged and correct syllables by (take bucket, tone), (sign-up week, take bucket), (previous tone,
    tone) and speaker profile, from the monthly roll-ups and the days around them."""
    by_bucket: ToneSums = defaultdict(lambda: [0, 0])
    by_cohort: ToneSums = defaultdict(lambda: [0, 0])
    pairs: ToneSums = defaultdict(lambda: [0, 0])
    profile: ToneSums = defaultdict(lambda: [0, 0])

    def where(model: Any) -> list[Any]:
        return [*_in_segment(model, segment), *cohort.where(model.cohort_week)]

    def add(target: ToneSums, key: Any, judged: float, correct: float) -> None:
        target[key][0] += int(judged)
        target[key][1] += int(correct)

    for (bucket, tone, week), (judged, correct) in rolled_up_sums(
        session, TONE_BY_BUCKET, p, ("take_bucket", "tone", "cohort_week"), where
    ).items():
        add(by_bucket, (bucket, tone), judged, correct)
        add(by_cohort, (week, bucket), judged, correct)
    for (prev, tone, with_profile), (judged, correct) in rolled_up_sums(
        session, TONE_BY_PAIR, p, ("prev_tone", "tone", "speaker_profile"), where
    ).items():
        add(pairs, (prev, tone), judged, correct)
        add(profile, bool(with_profile), judged, correct)
    return by_bucket, by_cohort, pairs, profile


def split_months(p: Period) -> tuple[Period | None, list[Period]]:
    """The whole calendar months inside a range (as the first days of the first and the last month) and
    the one or two runs of days outside them."""
    first = p.start if p.start.day == 1 else month_end(p.start) + timedelta(days=1)
    last = month_start(p.end + timedelta(days=1)) - timedelta(days=1)
    if first > last:
        return None, [p]
    edges = [
        *([Period(p.start, first - timedelta(days=1))] if p.start < first else []),
        *([Period(last + timedelta(days=1), p.end)] if last < p.end else []),
    ]
    return Period(first, month_start(last)), edges


def learning(
    *,
    session: Session,
    start: date,
    end: date,
    limit: int = 20,
    segment: str = ALL,
    cohort: Cohorts = ALL_COHORTS,
) -> Learning:
    """Tone tables, time to mastery, content performance and review retention honour the segment and
    cohort filters; engine disagreement (support feedback, not per learner) neither."""
    p = period(start, end)
    by_bucket, by_cohort, pairs, profile = tone_sums(session, p, segment, cohort)
    buckets = [label for _upper, label in TAKE_BUCKETS] + ["51+"]
    tone_ids = TONES
    curve = Table(
        "tone_curve",
        "Tone accuracy by take number",
        ("takes", *(f"tone_{t}" for t in tone_ids)),
        [(b, *(_accuracy(*by_bucket[(b, t)]) for t in tone_ids)) for b in buckets],
    )
    cohorts = sorted({c for c, _b in by_cohort})
    cohort_curve = Table(
        "cohort_curve",
        "Tone accuracy by sign-up week and take number",
        ("cohort_week", *buckets),
        [(c.isoformat(), *(_accuracy(*by_cohort[(c, b)]) for b in buckets)) for c in cohorts],
    )
    tone_pairs = Table(
        "tone_pairs",
        "Accuracy by tone pair (previous → this)",
        ("previous_tone", "tone", "judged", "accuracy"),
        [(prev, tone, suppress(v[0]), _accuracy(*v)) for (prev, tone), v in sorted(pairs.items())],
    )
    mastery = time_to_mastery(session=session, end=p.end, segment=segment, cohort=cohort)
    speaker = Table(
        "speaker_profile",
        "Effect of the speaker profile",
        ("speaker_profile", "judged", "accuracy"),
        [
            ("with" if k else "without", suppress(profile[k][0]), _accuracy(*profile[k]))
            for k in (True, False)
        ],
    )
    items: dict[str, list[float]]
    if cohort.everyone:  # the per-channel rows: whole months from their monthly roll-up
        items = {
            item_id: sums
            for (item_id,), sums in rolled_up_sums(
                session, CONTENT, p, ("item_id",), lambda model: _in_segment(model, segment)
            ).items()
        }
    else:
        content_values = [
            col(getattr(BiDailyCohortContent, name))
            for name in ("takes", "failed_takes", "learners", "gave_up", "repeated", "improvement_sum")
        ]
        by_item = _sums(
            session,
            BiDailyCohortContent,
            p,
            (col(BiDailyCohortContent.item_id),),
            content_values,
            *_in_segment(BiDailyCohortContent, segment),
            *cohort.where(BiDailyCohortContent.cohort_week),
        )
        items = {item_id: [float(v) for v in sums] for item_id, *sums in by_item}
    content_rows: list[tuple[Cell, ...]] = []
    for item_id, (takes, failed, learners, gave_up, repeated, improvement) in items.items():
        if suppress(int(learners)) is None:
            continue  # items practised by fewer than 5 learner-days are left out entirely
        content_rows.append(
            (
                item_id,
                int(takes),
                int(learners),
                failed / takes,
                gave_up / learners,
                improvement / repeated if suppress(int(repeated)) is not None and repeated else None,
            )
        )
    content_rows.sort(key=lambda r: (-float(r[3] or 0), r[0] or ""))
    content = Table(
        "content",
        "Content performance (hardest first)",
        ("item", "takes", "learner_days", "failure_rate", "abandonment_rate", "mean_improvement"),
        content_rows[: max(1, limit) * 5],
    )
    review_takes, review_passed = _review_sums(session, p, segment, cohort)
    support = _rows(session, BiDailySupport, p)
    answers = sum(r.verdict_answers for r in support)
    return Learning(
        curve,
        cohort_curve,
        tone_pairs,
        mastery,
        speaker,
        content,
        [
            Kpi(
                "review_retention",
                "Review retention",
                ratio(review_passed, review_takes),
                None,
                "percent",
            ),
            Kpi(
                "engine_disagreement",
                "Engine disagreement (support feedback)",
                ratio(sum(r.verdict_disputed for r in support), answers),
                None,
                "percent",
            ),
        ],
    )


def _review_sums(session: Session, p: Period, segment: str, cohort: Cohorts) -> tuple[int, int]:
    """Review takes and passed ones in the period: the segment's activity rows, or under a cohort filter
    the per-sign-up-week rows of the chosen weeks."""
    if cohort.everyone:
        model: Any = BiDailyActivity
        where = [col(model.segment) == segment]
    else:
        model = BiDailyCohortReview
        where = [*_in_segment(model, segment), *cohort.where(model.cohort_week)]
    ((takes, passed),) = [
        tuple(r)
        for r in _sums(session, model, p, (), (col(model.review_takes), col(model.review_passed)), *where)
    ]
    return int(takes), int(passed)


def percentile(histogram: dict[int, int], q: float) -> int | None:
    """Nearest rank: the smallest value with at least q of the counted learners at or below it."""
    n = sum(histogram.values())
    if n <= 0:
        return None
    rank, seen = max(1, math.ceil(q * n)), 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value
    return None


def time_to_mastery(
    *, session: Session, end: date, segment: str = ALL, cohort: Cohorts = ALL_COHORTS
) -> Table:
    """Per tone, for the chosen cohorts together ("all") and for each cohort: learners who had taken
    the tone by `end`, how many of them had mastered it, the share not yet mastered, and the median
    and 75th percentile of their days and takes to mastery. Cumulative up to the range's last day."""
    started: dict[tuple[str, int], int] = defaultdict(int)
    days: dict[tuple[str, int], dict[int, int]] = defaultdict(lambda: defaultdict(int))
    takes: dict[tuple[str, int], dict[int, int]] = defaultdict(lambda: defaultdict(int))
    until_end = Period(EARLIEST, end)

    def where(model: Any) -> list[Any]:
        return [*_in_segment(model, segment), *cohort.where(model.cohort_week)]

    for (week, tone), (n,) in rolled_up_sums(
        session, TONE_STARTS, until_end, ("cohort_week", "tone"), where
    ).items():
        for key in (ALL, week.isoformat()):
            started[(key, tone)] += int(n)
    for (week, tone, n_days, n_takes), (n,) in rolled_up_sums(
        session, MASTERY, until_end, ("cohort_week", "tone", "days", "takes"), where
    ).items():
        for key in (ALL, week.isoformat()):
            days[(key, tone)][int(n_days)] += int(n)
            takes[(key, tone)][int(n_takes)] += int(n)
    weeks = sorted(({k for k, _t in started} | {k for k, _t in days}) - {ALL})
    rows: list[tuple[Cell, ...]] = []
    for key in [ALL, *weeks]:
        for tone in TONES:
            begun, reached = started.get((key, tone), 0), sum(days[(key, tone)].values())
            if key != ALL and not begun and not reached:
                continue
            figures: list[Cell] = ["—"] * 4
            if reached and suppress(reached) is None:
                figures = [None] * 4
            elif reached:
                figures = [
                    percentile(days[(key, tone)], 0.5),
                    percentile(days[(key, tone)], 0.75),
                    percentile(takes[(key, tone)], 0.5),
                    percentile(takes[(key, tone)], 0.75),
                ]
            not_yet = max(0, begun - reached)
            rows.append(
                (
                    key,
                    tone,
                    suppress(begun),
                    suppress(reached),
                    share(not_yet, begun) if begun else "—",
                    *figures,
                )
            )
    return Table(
        "mastery",
        f"Time to mastery per learner (≥ {MASTERY_ACCURACY:.0%} right over the last {MASTERY_WINDOW} "
        "judged syllables of a tone)",
        (
            "cohort_week",
            "tone",
            "learners_started",
            "learners_mastered",
            "not_yet_mastered",
            "median_days",
            "p75_days",
            "median_takes",
            "p75_takes",
        ),
        rows,
    )


# --- revenue -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Revenue:
    kpis: list[Kpi]
    movements: Table
    daily: Table
    ltv: float | None
    currency: str


def _revenue_rows(session: Session, p: Period, segment: str = ALL) -> list[tuple[date, RevenueFigures]]:
    """(day, figures) per aggregated day of the period: the whole business, or the segment's figures
    (zeros on aggregated days where the segment had no customer)."""
    days = _rows(session, BiDailyRevenue, p)
    if segment == ALL:
        return [(r.day, r) for r in days]
    found = {
        r.day: r for r in _rows(session, BiDailySegmentRevenue, p, BiDailySegmentRevenue.segment == segment)
    }
    return [(r.day, found.get(r.day) or RevenueFigures(currency=r.currency)) for r in days]


def _payers(row: RevenueFigures, segment: str) -> int | None:
    """Paying learners of a row; in a segment, fewer than 5 hide the row's figures (they would describe
    those few learners' plans)."""
    return row.paying if segment == ALL else suppress(row.paying)


def _revenue_values(session: Session, p: Period, segment: str = ALL) -> dict[str, float | None]:
    rows = [r for _day, r in _revenue_rows(session, p, segment)]
    eve = p.start - timedelta(days=1)
    start_row = next((r for _day, r in _revenue_rows(session, Period(eve, eve), segment)), None)
    if not rows:
        return {}
    end = rows[-1]
    if _payers(end, segment) is None or (start_row is not None and _payers(start_row, segment) is None):
        return {}  # a segment with 1–4 paying learners: every figure would describe them
    mrr0, paying0 = (start_row.mrr, start_row.paying) if start_row else (0, 0)
    churned = sum(r.churned_paying for r in rows)
    logo_churn = ratio(churned, paying0)
    revenue_churn = ratio(sum(r.churned_mrr + r.contraction_mrr for r in rows), mrr0)
    arpu = ratio(end.mrr, end.paying)
    monthly_churn = logo_churn * 30 / p.days if logo_churn is not None else None
    failures = sum(r.payment_failures for r in rows)
    paid = sum(r.invoices_paid for r in rows)
    return {
        "mrr": end.mrr,
        "arpu": arpu,
        "trial_to_paid": ratio(sum(r.trials_converted for r in rows), sum(r.trials_started for r in rows)),
        "logo_churn": logo_churn,
        "revenue_churn": revenue_churn,
        "ltv": arpu / monthly_churn if arpu is not None and monthly_churn else None,
        "net_revenue": sum(r.invoiced_amount - r.refunded_amount for r in rows),
        "payment_failure_rate": ratio(failures, failures + paid),
    }


def revenue(*, session: Session, start: date, end: date, segment: str = ALL) -> Revenue:
    """The whole business, or one segment (its customers' learners' sign-up channel); in a segment,
    figures resting on 1–4 paying learners are hidden."""
    p = period(start, end)
    now, before = _revenue_values(session, p, segment), _revenue_values(session, p.previous(), segment)
    labels = (
        ("mrr", "MRR", "money"),
        ("arpu", "ARPU (MRR per paying learner)", "money"),
        ("trial_to_paid", "Trial → paid", "percent"),
        ("logo_churn", "Logo churn", "percent"),
        ("revenue_churn", "Revenue churn", "percent"),
        ("ltv", "LTV", "money"),
        ("net_revenue", "Invoiced minus refunds", "money"),
        ("payment_failure_rate", "Payment failures", "percent"),
    )
    dated = _revenue_rows(session, p, segment)
    rows = [r for _day, r in dated]
    keys = ("new_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr", "reactivation_mrr")
    sums = {k: sum(getattr(r, k) for r in rows) for k in keys}
    hidden = segment != ALL and bool(rows) and not now  # the segment's end (or start) has 1–4 paying learners
    movements = Table(
        "mrr_movements",
        "MRR movements",
        ("movement", "amount"),
        [(name, None) for name in ("new", "expansion", "contraction", "churn", "reactivation", "net_new")]
        if hidden
        else [
            ("new", sums["new_mrr"]),
            ("expansion", sums["expansion_mrr"]),
            ("contraction", -sums["contraction_mrr"]),
            ("churn", -sums["churned_mrr"]),
            ("reactivation", sums["reactivation_mrr"]),
            (
                "net_new",
                sums["new_mrr"]
                + sums["expansion_mrr"]
                + sums["reactivation_mrr"]
                - sums["contraction_mrr"]
                - sums["churned_mrr"],
            ),
        ],
    )
    daily = Table(
        "revenue_daily",
        "Daily revenue",
        ("day", "mrr", "paying", "trialing", "invoices_paid", "invoiced", "refunded", "payment_failures"),
        [
            (day.isoformat(), *figures)
            for day, r in dated
            for figures in [
                (
                    r.mrr,
                    r.paying,
                    r.trialing,
                    r.invoices_paid,
                    r.invoiced_amount,
                    r.refunded_amount,
                    r.payment_failures,
                )
                if _payers(r, segment) is not None
                else (None,) * 7
            ]
        ],
    )
    return Revenue(
        [Kpi(k, label, now.get(k), before.get(k), unit) for k, label, unit in labels],
        movements,
        daily,
        now.get("ltv"),
        rows[-1].currency if rows else "eur",
    )


# --- freshness and spend entry -------------------------------------------------------------------


def add_campaign_spend(
    *,
    session: Session,
    actor: Any,
    month: date,
    channel: str,
    campaign: str,
    amount: int,
    currency: str = "eur",
) -> None:
    """Marketing enters what a channel/campaign cost in a month (replaces an earlier entry); audited
    as `bi.campaign_spend_saved` with the amount before and after."""
    from sayzhong.accounts.access import BI_EDITORS, require_role
    from sayzhong.audit import record_audit

    require_role(actor, *BI_EDITORS)
    channel, campaign = channel.strip().lower()[:80], campaign.strip().lower()[:80]
    if not channel:
        raise ValidationError("Name the channel the money was spent on.", code="bi_spend_no_channel")
    if not 0 <= amount <= 10**12:
        raise ValidationError("Enter the spend as a positive amount.", code="bi_spend_bad_amount")
    month = month.replace(day=1)
    before = None
    for old in session.exec(
        select(BiCampaignSpend).where(
            BiCampaignSpend.month == month,
            BiCampaignSpend.channel == channel,
            BiCampaignSpend.campaign == campaign,
        )
    ).all():
        before = {"amount": old.amount, "currency": old.currency}
        session.delete(old)
    currency = currency.lower()[:3]
    session.add(
        BiCampaignSpend(month=month, channel=channel, campaign=campaign, amount=amount, currency=currency)
    )
    session.flush()
    record_audit(
        session=session,
        action="bi.campaign_spend_saved",
        actor_id=getattr(actor, "id", None),
        target=f"bi_campaign_spend:{month:%Y-%m}/{channel}/{campaign}"[:320],
        detail={
            "month": f"{month:%Y-%m}",
            "channel": channel,
            "campaign": campaign,
            "before": before,
            "after": {"amount": amount, "currency": currency},
        },
    )


def data_range(*, session: Session) -> tuple[date, date] | None:
    """First and last aggregated day."""
    lo, hi = session.exec(select(func.min(BiDailyActivity.day), func.max(BiDailyActivity.day))).one()
    return (lo, hi) if lo and hi else None


def last_computed_at(*, session: Session) -> datetime | None:
    """When the aggregates were last computed (data freshness)."""
    return last_computed(session)
