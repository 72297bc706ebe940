"""Segment and cohort filters on every dashboard, and the time-to-mastery distribution, against
hand-written aggregate rows: every expected figure is worked out in the comments here."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import Session

from sayzhong.bi import aggregate, metrics, views
from sayzhong.bi.models import (
    BiCohortWeek,
    BiDailyActivity,
    BiDailyContent,
    BiDailyMastery,
    BiDailyRevenue,
    BiDailySegmentRevenue,
    BiDailyTone,
    BiDailyToneStart,
)
from sayzhong.errors import ValidationError

MAR1, MAR10 = date(2026, 3, 1), date(2026, 3, 10)
W1, W2 = date(2026, 2, 16), date(2026, 2, 23)  # two sign-up weeks (Mondays)
ADS, ORGANIC = "channel:ads", "channel:organic"


class _Analyst:
    role, two_factor_enabled = "analyst", True


def _tone(session: Session, cohort: date, segment: str, judged: int, correct: int) -> None:
    session.add(
        BiDailyTone(
            day=MAR1,
            cohort_week=cohort,
            segment=segment,
            tone=3,
            prev_tone=0,
            speaker_profile=False,
            take_bucket="1",
            judged=judged,
            correct=correct,
        )
    )


def _learning_rows(session: Session) -> None:
    _tone(session, W1, ADS, 10, 8)
    _tone(session, W2, ADS, 10, 4)
    _tone(session, W2, ORGANIC, 20, 10)
    for segment, takes, failed, learners, gave_up in ((ADS, 10, 2, 5, 1), (ORGANIC, 6, 3, 4, 2)):
        session.add(
            BiDailyContent(
                day=MAR1,
                item_id="u1.p1",
                segment=segment,
                takes=takes,
                failed_takes=failed,
                learners=learners,
                gave_up=gave_up,
            )
        )
    session.add(BiDailyActivity(day=MAR1, segment="all", review_takes=10, review_passed=5))
    session.add(BiDailyActivity(day=MAR1, segment=ADS, review_takes=4, review_passed=3))
    session.flush()


def test_learning_tables_follow_the_segment_and_cohort_filters(db_session: Session) -> None:
    _learning_rows(db_session)

    def tone3(**filters: object) -> object:
        result = metrics.learning(session=db_session, start=MAR1, end=MAR1, **filters)  # type: ignore[arg-type]
        return result.curve.row("1")[3]

    assert tone3() == pytest.approx((8 + 4 + 10) / 40)  # "all" = every channel's rows summed
    assert tone3(segment=ADS) == pytest.approx((8 + 4) / 20)
    assert tone3(segment=ORGANIC) == pytest.approx(10 / 20)
    assert tone3(cohort=metrics.cohorts(W2, W2)) == pytest.approx((4 + 10) / 30)
    assert tone3(segment=ADS, cohort=metrics.cohorts(W1, W1)) == pytest.approx(8 / 10)
    assert tone3(segment="channel:nobody") is None  # nothing judged: no accuracy
    every = metrics.learning(session=db_session, start=MAR1, end=MAR1)
    # Content, all channels: 16 takes, 5 failed, 9 learner-days, 3 gave up.
    assert every.content.rows == [("u1.p1", 16, 9, 5 / 16, 3 / 9, None)]
    ads = metrics.learning(session=db_session, start=MAR1, end=MAR1, segment=ADS)
    assert ads.content.rows == [("u1.p1", 10, 5, 2 / 10, 1 / 5, None)]
    organic = metrics.learning(session=db_session, start=MAR1, end=MAR1, segment=ORGANIC)
    assert organic.content.rows == []  # 4 learner-days: left out
    assert {k.key: k.value for k in every.kpis}["review_retention"] == 5 / 10
    assert {k.key: k.value for k in ads.kpis}["review_retention"] == 3 / 4


def _mastery_rows(session: Session) -> None:
    for day, cohort, segment, n in (
        (MAR1, W1, ADS, 6),
        (date(2026, 3, 2), W1, ORGANIC, 4),
        (date(2026, 3, 2), W2, ADS, 5),
        (date(2026, 3, 20), W2, ADS, 3),  # after the range's end
    ):
        session.add(BiDailyToneStart(day=day, cohort_week=cohort, segment=segment, tone=3, learners=n))
    for day, cohort, segment, days, takes, n in (
        (date(2026, 3, 3), W1, ADS, 2, 3, 2),
        (date(2026, 3, 5), W1, ADS, 4, 6, 1),
        (date(2026, 3, 5), W1, ORGANIC, 3, 4, 2),
        (date(2026, 3, 8), W2, ADS, 6, 9, 1),
        (date(2026, 3, 9), W2, ADS, 1, 2, 1),
        (date(2026, 3, 15), W2, ADS, 12, 20, 4),  # after the range's end
    ):
        session.add(
            BiDailyMastery(
                day=day, cohort_week=cohort, segment=segment, tone=3, days=days, takes=takes, learners=n
            )
        )
    session.flush()
    aggregate.refresh_month(session, MAR1)  # as the job does after the days it computed


def test_time_to_mastery_distribution_per_tone_and_cohort(db_session: Session) -> None:
    _mastery_rows(db_session)
    table = metrics.time_to_mastery(session=db_session, end=MAR10)
    rows = {(r[0], r[1]): r[2:] for r in table.rows}
    # Up to 03-10: 6 + 4 + 5 = 15 started tone 3, 2 + 1 + 2 + 1 + 1 = 7 mastered, 8 of 15 not yet.
    # Days of the 7, sorted: 1, 2, 2, 3, 3, 4, 6 → median (4th) 3, p75 (6th of 7: ⌈5.25⌉) 4.
    # Takes sorted: 2, 3, 3, 4, 4, 6, 9 → median 4, p75 6.
    assert rows[("all", 3)] == (15, 7, pytest.approx(8 / 15), 3, 4, 4, 6)
    # Cohort W1: 10 started, 5 mastered; days 2, 2, 3, 3, 4 → median (3rd) 3, p75 (4th) 3;
    # takes 3, 3, 4, 4, 6 → median 4, p75 4.
    assert rows[(W1.isoformat(), 3)] == (10, 5, 0.5, 3, 3, 4, 4)
    # Cohort W2: 5 started, 2 mastered → a small cell: hidden, and so is everything resting on it.
    assert rows[(W2.isoformat(), 3)] == (5, None, None, None, None, None, None)
    assert rows[("all", 1)] == (0, 0, "—", "—", "—", "—", "—")  # nobody took tone 1
    assert (W1.isoformat(), 1) not in rows  # cohorts list only the tones their learners took

    ads = {
        (r[0], r[1]): r[2:] for r in metrics.time_to_mastery(session=db_session, end=MAR10, segment=ADS).rows
    }
    # ads: 6 + 5 = 11 started, 2 + 1 + 1 + 1 = 5 mastered; days 1, 2, 2, 4, 6 → median 2, p75 4;
    # takes 2, 3, 3, 6, 9 → median 3, p75 6.
    assert ads[("all", 3)] == (11, 5, pytest.approx(6 / 11), 2, 4, 3, 6)

    later = metrics.time_to_mastery(session=db_session, end=date(2026, 3, 31), cohort=metrics.cohorts(W2, W2))
    cells = {(r[0], r[1]): r[2:] for r in later.rows}
    # W2 by 03-31: 5 + 3 = 8 started, 1 + 1 + 4 = 6 mastered (2 not yet: a small cell, hidden);
    # days 1, 6, 12, 12, 12, 12 → median (3rd) 12, p75 (5th) 12; takes 2, 9, 20 × 4 → 20, 20.
    assert cells[("all", 3)] == (8, 6, None, 12, 12, 20, 20)
    assert set(cells) == {("all", 1), ("all", 2), ("all", 3), ("all", 4), (W2.isoformat(), 3)}
    # The learning page shows the same table, as of the range's last day.
    learning = metrics.learning(session=db_session, start=MAR1, end=MAR10)
    assert learning.mastery.rows == table.rows


def test_percentile_is_the_nearest_rank() -> None:
    assert metrics.percentile({5: 1}, 0.5) == 5
    assert metrics.percentile({1: 1, 2: 1, 3: 1, 4: 1}, 0.5) == 2  # rank ⌈2⌉ = 2
    assert metrics.percentile({1: 1, 2: 1, 3: 1, 4: 1}, 0.75) == 3  # rank ⌈3⌉ = 3
    assert metrics.percentile({0: 3, 9: 1}, 0.75) == 0  # rank 3 of 4: still 0
    assert metrics.percentile({}, 0.5) is None


def _revenue_rows(session: Session) -> None:
    session.add(BiDailyRevenue(day=date(2026, 2, 28), mrr=10000, paying=10))
    for day in (MAR1, date(2026, 3, 2), date(2026, 3, 3)):
        session.add(BiDailyRevenue(day=day, mrr=11000, paying=11))
        session.add(BiDailySegmentRevenue(day=day, segment=ORGANIC, mrr=3000, paying=3))
    session.add(BiDailySegmentRevenue(day=date(2026, 2, 28), segment=ADS, mrr=5000, paying=5))
    session.add(BiDailySegmentRevenue(day=date(2026, 2, 28), segment=ORGANIC, mrr=2000, paying=2))
    session.add(BiDailySegmentRevenue(day=MAR1, segment=ADS, mrr=6000, paying=6, new_mrr=1000, new_paying=1))
    # 03-02: no ads row (nothing moved? the job writes a row whenever a customer pays, so 0 paying)
    session.add(
        BiDailySegmentRevenue(
            day=date(2026, 3, 3),
            segment=ADS,
            mrr=6000,
            paying=6,
            invoices_paid=2,
            invoiced_amount=2000,
            payment_failures=1,
        )
    )
    session.flush()


def test_revenue_follows_the_segment_and_hides_small_paying_groups(db_session: Session) -> None:
    _revenue_rows(db_session)
    end = date(2026, 3, 3)
    ads = metrics.revenue(session=db_session, start=MAR1, end=end, segment=ADS)
    kpi = {k.key: k.value for k in ads.kpis}
    assert kpi["mrr"] == 6000 and kpi["arpu"] == 1000  # 6000 over 6 paying learners
    assert kpi["logo_churn"] == 0  # nobody of the 5 paying on 02-28 churned
    assert kpi["payment_failure_rate"] == pytest.approx(1 / 3)  # 1 failure, 2 paid invoices
    assert kpi["net_revenue"] == 2000
    assert ads.movements.row("new") == ("new", 1000)
    # Every aggregated day has a row; 03-02 had no ads row: zeros.
    assert ads.daily.column("mrr") == [6000, 0, 6000]
    # The overview's paying learners and MRR follow the segment as well (small groups hidden).
    for day in (MAR1, date(2026, 3, 2), end):
        db_session.add(BiDailyActivity(day=day, segment=ADS, dau=1))
        db_session.add(BiDailyActivity(day=day, segment=ORGANIC, dau=1))
    db_session.flush()
    overview = {
        k.key: k.value for k in metrics.overview(session=db_session, start=MAR1, end=end, segment=ADS).kpis
    }
    assert (overview["paying"], overview["mrr"]) == (6, 6000)
    small = metrics.overview(session=db_session, start=MAR1, end=end, segment=ORGANIC).kpis
    assert {k.key: k.value for k in small}["paying"] is None and {k.key: k.value for k in small}[
        "mrr"
    ] is None
    whole = metrics.revenue(session=db_session, start=MAR1, end=end)
    assert {k.key: k.value for k in whole.kpis}["mrr"] == 11000  # "all" reads the whole-business rows
    # organic: 3 paying learners (2 at the start) — every figure would describe them.
    organic = metrics.revenue(session=db_session, start=MAR1, end=end, segment=ORGANIC)
    assert all(k.value is None for k in organic.kpis)
    assert organic.movements.column("amount") == [None] * 6
    assert organic.daily.rows[0] == ("2026-03-01", *([None] * 7))


def test_retention_triangle_follows_the_cohort_filter(db_session: Session) -> None:
    for cohort, size, active in ((W1, 10, 6), (W2, 8, 5)):
        db_session.add(
            BiCohortWeek(
                cohort_week=cohort,
                activity_week=cohort,
                segment="all",
                cohort_size=size,
                active_learners=active,
            )
        )
    db_session.flush()
    start, end = W1, W2 + timedelta(days=6)

    def weeks(cohort: metrics.Cohorts) -> list[object]:
        return metrics.retention(
            session=db_session, start=start, end=end, cohort=cohort, weeks=1
        ).cohorts.column("cohort_week")

    assert weeks(metrics.ALL_COHORTS) == [W1.isoformat(), W2.isoformat()]
    assert weeks(metrics.cohorts(W2 + timedelta(days=2), None)) == [W2.isoformat()]  # a Wednesday: its week
    assert weeks(metrics.cohorts(None, W1 + timedelta(days=6))) == [W1.isoformat()]
    assert metrics.cohort_weeks(session=db_session) == [W2, W1]  # newest first, for the filter


def test_a_cohort_range_the_wrong_way_round_is_refused_in_plain_words() -> None:
    with pytest.raises(ValidationError, match="before the first"):
        metrics.cohorts(W2, W1)
    assert metrics.cohorts(W1 + timedelta(days=3), W1 + timedelta(days=3)) == metrics.Cohorts(W1, W1)


def test_csv_export_honours_the_segment_and_cohort_filters(db_session: Session) -> None:
    _learning_rows(db_session)

    def csv_lines(segment: str, cohort: metrics.Cohorts = metrics.ALL_COHORTS) -> list[str]:
        _, text = views.table_csv(
            session=db_session,
            actor=_Analyst(),
            section="learning",
            table="cohort_curve",
            start=MAR1,
            end=MAR1,
            segment=segment,
            cohort=cohort,
        )
        return text.splitlines()

    # Only the ads learners of week W1: 8 of 10 right on their first take (no later takes: "<5").
    empty = ",<5" * 5
    assert csv_lines(ADS, metrics.cohorts(W1, W1)) == [
        "cohort_week,1,2-5,6-10,11-20,21-50,51+",
        "2026-02-16,0.8" + empty,
    ]
    assert csv_lines("all")[1:] == ["2026-02-16,0.8" + empty, f"2026-02-23,{14 / 30}" + empty]
