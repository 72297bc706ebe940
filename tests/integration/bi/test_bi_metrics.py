"""Dashboard metrics against hand-written aggregate rows: every expected figure is worked out here."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlmodel import Session

from sayzhong.bi import aggregate, metrics
from sayzhong.bi.models import (
    BiCohortWeek,
    BiDailyAcquisition,
    BiDailyActivity,
    BiDailyContent,
    BiDailyLifecycle,
    BiDailyRevenue,
    BiDailySupport,
    BiDailyTone,
)
from sayzhong.errors import ValidationError
from tests.support.bi_scenario import build_billing, build_learners

MAR1 = date(2026, 3, 1)
MARKETER = SimpleNamespace(
    id=None, role="marketing", two_factor_enabled=True
)  # spend is audited with its actor


def _days(start: date, n: int) -> list[date]:
    return [start + timedelta(days=i) for i in range(n)]


def _kpis(kpis: list[metrics.Kpi]) -> dict[str, metrics.Kpi]:
    return {k.key: k for k in kpis}


def test_overview_kpis_and_change_against_the_previous_period(db_session: Session) -> None:
    # Previous period 02-25…02-28: DAU 5 each day; this period 03-01…03-04: DAU 10, 20, 30, 40.
    for day in _days(date(2026, 2, 25), 4):
        db_session.add(
            BiDailyActivity(day=day, segment="all", dau=5, wau=20, mau=50, new_learners=1, takes=10)
        )
    for day, dau in zip(_days(MAR1, 4), (10, 20, 30, 40), strict=True):
        db_session.add(
            BiDailyActivity(day=day, segment="all", dau=dau, wau=60, mau=100, new_learners=3, takes=dau * 4)
        )
    db_session.add(BiDailyRevenue(day=date(2026, 3, 4), mrr=49950, paying=50))
    db_session.add(BiDailySupport(day=date(2026, 3, 4), open_tickets=7))
    db_session.flush()
    kpi = _kpis(metrics.overview(session=db_session, start=MAR1, end=date(2026, 3, 4)).kpis)
    assert kpi["dau"].value == (10 + 20 + 30 + 40) / 4 == 25
    assert kpi["dau"].previous == 5
    assert kpi["dau"].change == pytest.approx((25 - 5) / 5)
    assert kpi["stickiness"].value == pytest.approx(25 / 100)
    assert kpi["stickiness"].previous == pytest.approx(5 / 50)
    assert (kpi["wau"].value, kpi["mau"].value) == (60, 100)
    assert (kpi["new"].value, kpi["new"].previous) == (12, 4)
    assert kpi["takes"].value == 4 * 25
    assert (kpi["paying"].value, kpi["mrr"].value, kpi["tickets"].value) == (50, 49950, 7)
    assert kpi["mrr"].previous is None and kpi["mrr"].change is None


def test_cohort_triangle_suppresses_small_cohorts_and_small_cells(db_session: Session) -> None:
    w0, w1 = date(2026, 3, 2), date(2026, 3, 9)
    db_session.add(
        BiCohortWeek(cohort_week=w0, activity_week=w0, segment="all", cohort_size=10, active_learners=10)
    )
    db_session.add(
        BiCohortWeek(cohort_week=w0, activity_week=w1, segment="all", cohort_size=10, active_learners=6)
    )
    db_session.add(
        BiCohortWeek(cohort_week=w1, activity_week=w1, segment="all", cohort_size=3, active_learners=3)
    )
    db_session.add(
        BiCohortWeek(
            cohort_week=w0, activity_week=w0, segment="channel:ads", cohort_size=10, active_learners=4
        )
    )
    db_session.flush()
    result = metrics.retention(session=db_session, start=w0, end=date(2026, 3, 15), weeks=3)
    assert result.cohorts.row("2026-03-02") == ("2026-03-02", 10, 1.0, 0.6, None)
    assert result.cohorts.row("2026-03-09") == ("2026-03-09", None, None, None, None)  # 3 learners: hidden
    ads = metrics.retention(
        session=db_session, start=w0, end=date(2026, 3, 15), segment="channel:ads", weeks=1
    )
    assert ads.cohorts.row("2026-03-02") == ("2026-03-02", 10, None)  # 4 active of 10: hidden
    assert "<5" in metrics.to_csv(ads.cohorts)
    assert metrics.week1_retention(session=db_session, cohort_week=w0) == 0.6


def test_lifecycle_transition_rates_pool_the_days(db_session: Session) -> None:
    # Current yesterday → active today: 7 of 10 on 03-01, 5 of 10 on 03-02 → CURR 12/20.
    db_session.add(
        BiDailyLifecycle(
            day=MAR1, segment="all", state="current", learners=9, prev_learners=10, prev_active_today=7
        )
    )
    db_session.add(
        BiDailyLifecycle(
            day=date(2026, 3, 2),
            segment="all",
            state="current",
            learners=8,
            prev_learners=10,
            prev_active_today=5,
        )
    )
    db_session.add(
        BiDailyLifecycle(
            day=MAR1, segment="all", state="new", learners=6, prev_learners=8, prev_active_today=3
        )
    )
    db_session.flush()
    result = metrics.retention(session=db_session, start=MAR1, end=date(2026, 3, 2))
    curr = result.transitions.row("CURR")
    assert curr[1:] == ("current", 20, 12, 12 / 20)
    assert result.transitions.row("NURR")[1:] == ("new", 8, None, None)  # 3 learners: hidden
    assert result.lifecycle.row("2026-03-01")[1:3] == (6, 9)  # new, current


def test_acquisition_conversion_spend_proration_and_cac(db_session: Session) -> None:
    for day in _days(MAR1, 10):
        db_session.add(
            BiDailyAcquisition(day=day, channel="ads", campaign="spring", visits=4, signups=1, first_paid=1)
        )
    db_session.add(BiDailyAcquisition(day=MAR1, channel="organic", campaign="unknown", visits=2, signups=1))
    metrics.add_campaign_spend(
        session=db_session,
        actor=MARKETER,
        month=date(2026, 3, 15),
        channel="Ads",
        campaign="Spring",
        amount=3100,
    )
    metrics.add_campaign_spend(
        session=db_session, actor=MARKETER, month=MAR1, channel="ads", campaign="spring", amount=6200
    )  # replaces
    result = metrics.acquisition(session=db_session, start=MAR1, end=date(2026, 3, 10))
    ads = result.by_campaign.row("ads")
    spend = 6200 * 10 / 31  # ten of March's 31 days
    assert ads == (
        "ads",
        "spring",
        40,
        10,
        0,
        10,
        10 / 40,
        10 / 10,
        round(spend),
        round(spend / 10),
        round(spend / 10),
    )
    organic = result.by_campaign.row("organic")
    assert organic[2:4] == (None, None) and organic[6] is None  # 2 visits, 1 sign-up: hidden
    kpi = _kpis(result.kpis)
    assert kpi["cac"].value == pytest.approx(spend / 10)
    assert kpi["signups"].value == 11
    with pytest.raises(ValidationError, match="channel"):
        metrics.add_campaign_spend(
            session=db_session, actor=MARKETER, month=MAR1, channel=" ", campaign="", amount=1
        )
    with pytest.raises(ValidationError, match="positive"):
        metrics.add_campaign_spend(
            session=db_session, actor=MARKETER, month=MAR1, channel="ads", campaign="", amount=-5
        )


def test_revenue_arpu_churn_ltv_and_payment_failures(db_session: Session) -> None:
    db_session.add(BiDailyRevenue(day=date(2026, 2, 28), mrr=10000, paying=10))
    for day in _days(MAR1, 30):
        db_session.add(BiDailyRevenue(day=day, mrr=11000, paying=11))
    last = date(2026, 3, 30)
    db_session.add(BiDailyRevenue(day=date(2026, 3, 31), mrr=12000, paying=12))
    db_session.flush()
    row = db_session.get(BiDailyRevenue, MAR1)
    assert row is not None
    row.new_mrr, row.churned_mrr, row.churned_paying, row.contraction_mrr = 4500, 2000, 2, 500
    row.trials_started, row.trials_converted, row.invoices_paid, row.payment_failures = 6, 3, 9, 1
    row.invoiced_amount, row.refunded_amount = 9000, 1000
    db_session.flush()
    result = metrics.revenue(session=db_session, start=MAR1, end=last)  # 30 days
    kpi = _kpis(result.kpis)
    assert kpi["mrr"].value == 11000
    assert kpi["arpu"].value == 1000
    assert kpi["logo_churn"].value == pytest.approx(2 / 10)
    assert kpi["revenue_churn"].value == pytest.approx((2000 + 500) / 10000)
    assert kpi["ltv"].value == pytest.approx(1000 / (2 / 10))  # 30-day period: monthly churn 20 %
    assert kpi["trial_to_paid"].value == pytest.approx(3 / 6)
    assert kpi["payment_failure_rate"].value == pytest.approx(1 / 10)
    assert kpi["net_revenue"].value == 8000
    assert result.movements.row("net_new") == ("net_new", 4500 - 500 - 2000)


def test_learning_curve_tone_pairs_mastery_profile_and_content(db_session: Session) -> None:
    cohort = date(2026, 2, 23)
    for bucket, tone, judged, correct in (("1", 3, 10, 4), ("2-5", 3, 10, 9), ("1", 2, 3, 3)):
        db_session.add(
            BiDailyTone(
                day=MAR1,
                cohort_week=cohort,
                segment="channel:ads",
                tone=tone,
                prev_tone=3,
                speaker_profile=bucket == "2-5",
                take_bucket=bucket,
                judged=judged,
                correct=correct,
            )
        )
    db_session.add(
        BiDailyContent(
            day=MAR1,
            item_id="u1.p1",
            segment="channel:ads",
            takes=20,
            failed_takes=5,
            learners=10,
            gave_up=2,
            repeated=5,
            improvement_sum=50.0,
        )
    )
    db_session.add(
        BiDailyContent(
            day=MAR1, item_id="u2.p9", segment="channel:ads", takes=4, failed_takes=4, learners=2, gave_up=2
        )
    )
    db_session.add(BiDailyActivity(day=MAR1, segment="all", review_takes=8, review_passed=6))
    db_session.add(BiDailySupport(day=MAR1, verdict_answers=20, verdict_disputed=3))
    db_session.flush()
    result = metrics.learning(session=db_session, start=MAR1, end=MAR1)
    assert result.curve.row("1")[3] == 0.4  # tone 3, first take: 4 of 10
    assert result.curve.row("2-5")[3] == 0.9
    assert result.curve.row("1")[2] is None  # tone 2: only 3 judged — hidden
    assert result.tone_pairs.row(3) == (3, 2, None, None)
    assert result.speaker_profile.row("with") == ("with", 10, 0.9)
    assert result.speaker_profile.row("without") == ("without", 13, pytest.approx(7 / 13))
    assert result.content.rows == [("u1.p1", 20, 10, 5 / 20, 2 / 10, 50.0 / 5)]  # u2.p9 (2 learners) left out
    kpi = _kpis(result.kpis)
    assert kpi["review_retention"].value == 6 / 8
    assert kpi["engine_disagreement"].value == 3 / 20


def test_csv_export_neutralises_spreadsheet_formulas() -> None:
    table = metrics.Table("t", "T", ("item", "n"), [("=HYPERLINK(1)", 3), ("u1", None)])
    assert metrics.to_csv(table) == "item,n\n'=HYPERLINK(1),3\nu1,<5\n"


def test_dashboard_totals_equal_direct_counts_on_the_scenario(db_session: Session) -> None:
    ids = build_learners(db_session)
    build_billing(db_session, ids)
    aggregate.aggregate(session=db_session, start=date(2026, 3, 2), end=date(2026, 3, 8), timezone="UTC")
    kpi = _kpis(metrics.overview(session=db_session, start=date(2026, 3, 2), end=date(2026, 3, 2)).kpis)
    assert kpi["dau"].value == 3  # A, B, C took takes on 03-02
    assert kpi["new"].value == 1
    week = _kpis(metrics.overview(session=db_session, start=date(2026, 3, 2), end=date(2026, 3, 8)).kpis)
    assert week["mrr"].value == 999 + 667 and week["paying"].value == 2


def test_a_range_ending_before_it_starts_is_refused(db_session: Session) -> None:
    with pytest.raises(ValidationError):
        metrics.overview(session=db_session, start=MAR1, end=MAR1 - timedelta(days=1))
