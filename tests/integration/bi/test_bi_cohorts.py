"""The cohort filter (sign-up weeks) on lifecycle states, transitions, content performance and review
retention, and revenue attributed through subscriptions and invoices. Every expected number is
worked out by hand in the comments, from tests/support/bi_scenario.py or from rows written here.

Sign-up weeks (Mondays) of the scenario's learners: A and E 2026-01-05, C and D 2026-02-02, B 2026-03-02.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session, select

from sayzhong.bi import aggregate, metrics
from sayzhong.bi.models import (
    BiDailyCohortContent,
    BiDailyCohortLifecycle,
    BiDailyCohortReview,
    BiDailyContent,
    BiDailyLifecycle,
    BiDailyRevenue,
    BiDailySegmentRevenue,
)
from sayzhong.billing.models import BillingCustomer, BillingSubscription
from tests.support.bi_scenario import MONTHLY, at, build_learners, stripe_event, sub

MAR1, MAR2 = date(2026, 3, 1), date(2026, 3, 2)
JAN5, FEB2 = date(2026, 1, 5), date(2026, 2, 2)  # sign-up weeks of A/E and C/D
W1, W2 = date(2026, 2, 16), date(2026, 2, 23)
ADS, ORGANIC, UNKNOWN = "channel:ads", "channel:organic", "channel:unknown"


# --- the job -------------------------------------------------------------------------------------


def test_lifecycle_rows_per_sign_up_week(db_session: Session) -> None:
    build_learners(db_session)
    aggregate.aggregate(session=db_session, start=MAR2, end=MAR2, timezone="UTC")
    rows = {
        (r.cohort_week, r.segment, r.state): (r.learners, r.prev_learners, r.prev_active_today)
        for r in db_session.exec(select(BiDailyCohortLifecycle).where(BiDailyCohortLifecycle.day == MAR2))
    }
    # 03-02: A (01-05, ads) current — resurrected on 03-01 and back; E (01-05, organic) dormant on both
    # days; C (02-02, unknown) reactivated — at risk monthly on 03-01 and back; D (02-02, ads) at risk
    # weekly on both days; B (03-02, organic) new (no state yesterday).
    assert rows == {
        (JAN5, ADS, "current"): (1, 0, 0),
        (JAN5, ADS, "resurrected"): (0, 1, 1),
        (JAN5, ORGANIC, "dormant"): (1, 1, 0),
        (FEB2, UNKNOWN, "reactivated"): (1, 0, 0),
        (FEB2, UNKNOWN, "at_risk_mau"): (0, 1, 1),
        (FEB2, ADS, "at_risk_wau"): (1, 1, 0),
        (MAR2, ORGANIC, "new"): (1, 0, 0),
    }
    # The weeks of a channel add up to the channel's own rows.
    for r in db_session.exec(select(BiDailyLifecycle).where(BiDailyLifecycle.day == MAR2)).all():
        if r.segment == "all":
            continue
        parts = [v for (_w, s, state), v in rows.items() if s == r.segment and state == r.state]
        assert tuple(map(sum, zip(*parts, strict=True))) == (r.learners, r.prev_learners, r.prev_active_today)


def test_content_and_review_rows_per_sign_up_week(db_session: Session) -> None:
    build_learners(db_session)
    aggregate.aggregate(session=db_session, start=MAR2, end=MAR2, timezone="UTC")
    content = {
        (r.cohort_week, r.segment): (
            r.takes,
            r.failed_takes,
            r.learners,
            r.gave_up,
            r.repeated,
            r.improvement_sum,
        )
        for r in db_session.exec(select(BiDailyCohortContent).where(BiDailyCohortContent.item_id == "u1.p1"))
    }
    # u1.p1 on 03-02: A's review scored 90; B 40 (failed) then 70, improved by 30; C 50, failed, stopped.
    assert content == {
        (JAN5, ADS): (1, 0, 1, 0, 0, 0.0),
        (MAR2, ORGANIC): (2, 1, 1, 0, 1, 30.0),
        (FEB2, UNKNOWN): (1, 1, 1, 1, 0, 0.0),
    }
    per_channel = db_session.exec(select(BiDailyContent).where(BiDailyContent.day == MAR2)).all()
    assert sum(r.takes for r in per_channel) == 4  # the same takes, summed over the weeks
    review = {
        (r.cohort_week, r.segment): (r.review_takes, r.review_passed)
        for r in db_session.exec(select(BiDailyCohortReview))
    }
    assert review == {(JAN5, ADS): (1, 1)}  # A's review take (90 ≥ the pass mark 60)


def test_the_cohort_filter_reads_the_aggregated_rows_end_to_end(db_session: Session) -> None:
    build_learners(db_session)
    aggregate.aggregate(session=db_session, start=MAR1, end=MAR2, timezone="UTC")
    feb = metrics.cohorts(FEB2, FEB2)
    result = metrics.retention(session=db_session, start=MAR2, end=MAR2, cohort=feb)
    # Week 02-02 (C and D) on 03-02: one reactivated, one at risk weekly — both small cells ("<5").
    columns = result.lifecycle.columns
    day = dict(zip(columns, result.lifecycle.row("2026-03-02"), strict=True))
    assert (day["reactivated"], day["at_risk_wau"], day["current"]) == (None, None, 0)
    # 03-01 → 03-02: C (at risk monthly) came back, D (at risk weekly) did not — 1 learner each: hidden.
    assert result.transitions.row("iMAURR")[2:] == (None, None, None)
    assert result.transitions.row("CURR")[2:] == (0, 0, None)
    # Review retention: A's review is in week 01-05, so week 02-02 has none (no rate) and 01-05 has 1 of 1.
    assert _review(db_session, MAR2, feb) is None
    assert _review(db_session, MAR2, metrics.cohorts(JAN5, JAN5)) == 1.0


def _review(session: Session, day: date, cohort: metrics.Cohorts, segment: str = "all") -> float | None:
    learning = metrics.learning(session=session, start=day, end=day, segment=segment, cohort=cohort)
    return {k.key: k.value for k in learning.kpis}["review_retention"]


# --- the pages' figures from hand-written rows -----------------------------------------------------


def _lifecycle(session: Session) -> None:
    for week, segment, learners, prev, kept in (
        (W1, ADS, 6, 7, 5),
        (W2, ADS, 4, 5, 3),
        (W2, ORGANIC, 3, 2, 2),
    ):
        session.add(
            BiDailyCohortLifecycle(
                day=MAR1,
                cohort_week=week,
                segment=segment,
                state="current",
                learners=learners,
                prev_learners=prev,
                prev_active_today=kept,
            )
        )
    # The per-segment row the unfiltered page reads (a different number, to tell the two apart).
    session.add(
        BiDailyLifecycle(
            day=MAR1, segment="all", state="current", learners=40, prev_learners=50, prev_active_today=30
        )
    )
    session.flush()


def test_lifecycle_and_transitions_follow_the_cohort_filter(db_session: Session) -> None:
    _lifecycle(db_session)

    def current(**filters: object) -> tuple[object, object]:
        r = metrics.retention(session=db_session, start=MAR1, end=MAR1, **filters)  # type: ignore[arg-type]
        return r.lifecycle.row("2026-03-01")[2], r.transitions.row("CURR")[2:]

    # No cohort: the segment's own row, 40 current; 30 of 50 came back.
    assert current() == (40, (50, 30, 30 / 50))
    # Week W2: 4 + 3 = 7 current; yesterday 5 + 2 = 7 current, 3 + 2 = 5 of them active today.
    assert current(cohort=metrics.cohorts(W2, W2)) == (7, (7, 5, 5 / 7))
    # Both weeks: 6 + 4 + 3 = 13; yesterday 7 + 5 + 2 = 14, of whom 5 + 3 + 2 = 10 came back.
    assert current(cohort=metrics.cohorts(W1, W2)) == (13, (14, 10, 10 / 14))
    # Week W2, ads only: 4 current (a small cell); 5 yesterday of whom 3 came back — hidden, no rate.
    assert current(cohort=metrics.cohorts(W2, W2), segment=ADS) == (None, (5, None, None))
    # From W2 on (open-ended), organic only: 3 current, 2 yesterday, 2 back — all hidden.
    assert current(cohort=metrics.cohorts(W2, None), segment=ORGANIC) == (None, (None, None, None))


def _content(session: Session) -> None:
    for week, segment, takes, failed, learners, gave_up, repeated, improvement in (
        (W1, ADS, 10, 2, 5, 1, 0, 0.0),
        (W2, ADS, 8, 4, 3, 1, 2, 10.0),
        (W2, ORGANIC, 6, 3, 4, 2, 3, 45.0),
    ):
        session.add(
            BiDailyCohortContent(
                day=MAR1,
                cohort_week=week,
                item_id="u1.p1",
                segment=segment,
                takes=takes,
                failed_takes=failed,
                learners=learners,
                gave_up=gave_up,
                repeated=repeated,
                improvement_sum=improvement,
            )
        )
    session.add(BiDailyContent(day=MAR1, item_id="u1.p1", segment=ADS, takes=99, failed_takes=9, learners=9))
    for week, segment, takes, passed in ((W1, ADS, 6, 3), (W2, ORGANIC, 4, 4)):
        session.add(
            BiDailyCohortReview(
                day=MAR1, cohort_week=week, segment=segment, review_takes=takes, review_passed=passed
            )
        )
    session.flush()


def test_content_and_review_retention_follow_the_cohort_filter(db_session: Session) -> None:
    _content(db_session)

    def content(**filters: object) -> list[tuple[object, ...]]:
        r = metrics.learning(session=db_session, start=MAR1, end=MAR1, **filters)  # type: ignore[arg-type]
        return r.content.rows

    assert content() == [("u1.p1", 99, 9, 9 / 99, 0.0, None)]  # no cohort: the per-channel rows
    # Week W2, every channel: 8 + 6 = 14 takes, 4 + 3 = 7 failed, 3 + 4 = 7 learner-days, 1 + 2 = 3 gave
    # up, 2 + 3 = 5 repeated with 10 + 45 = 55 points of improvement → 11 a learner.
    assert content(cohort=metrics.cohorts(W2, W2)) == [("u1.p1", 14, 7, 7 / 14, 3 / 7, 55 / 5)]
    # Week W1: 10 takes, 2 failed, 5 learner-days, 1 gave up; nobody repeated (no improvement).
    assert content(cohort=metrics.cohorts(W1, W1)) == [("u1.p1", 10, 5, 2 / 10, 1 / 5, None)]
    # Week W2, ads: 3 learner-days — a small cell: the item is left out.
    assert content(cohort=metrics.cohorts(W2, W2), segment=ADS) == []
    # Review retention: W1 3 of 6, W2 4 of 4, both 7 of 10; W1 has no organic review takes.
    assert _review(db_session, MAR1, metrics.cohorts(W1, W1)) == pytest.approx(3 / 6)
    assert _review(db_session, MAR1, metrics.cohorts(W2, W2)) == 1.0
    assert _review(db_session, MAR1, metrics.cohorts(W1, W2)) == pytest.approx(7 / 10)
    assert _review(db_session, MAR1, metrics.cohorts(W1, W1), segment=ORGANIC) is None


# --- revenue attribution ---------------------------------------------------------------------------


def test_invoices_and_refunds_without_a_customer_count_for_their_subscriptions_channel(
    db_session: Session,
) -> None:
    ids = build_learners(db_session)  # A signed up through ads, E organically
    db_session.add(BillingCustomer(user_id=ids["A"], stripe_customer_id="cus_a"))
    db_session.add(BillingCustomer(user_id=ids["E"], stripe_customer_id="cus_e"))
    stripe_event(
        db_session,
        "e1",
        "customer.subscription.created",
        "2026-03-05 10:00",
        sub("sub_a", "cus_a", "active", MONTHLY),
    )
    # E's subscription is known only from the local copy, which names its latest invoice.
    db_session.add(
        BillingSubscription(
            user_id=ids["E"],
            stripe_subscription_id="sub_e",
            plan_id=MONTHLY,
            status="active",
            latest_invoice_id="in_e1",
            created_at=at("2026-03-05 11:00"),
            synced_at=at("2026-03-05 11:00"),
        )
    )
    # 03-05: A's invoice names only its subscription; E's invoice names nothing at all.
    paid = {"amount_paid": 999, "currency": "eur"}
    stripe_event(
        db_session, "e2", "invoice.paid", "2026-03-05 10:01", {"id": "in_a1", "subscription": "sub_a", **paid}
    )
    stripe_event(db_session, "e3", "invoice.paid", "2026-03-05 11:01", {"id": "in_e1", **paid})
    # 03-06: A's next invoice fails, 500 of A's first invoice is refunded (the charge names the invoice
    # only), and an invoice nobody can be traced to is paid (1500).
    stripe_event(
        db_session,
        "e4",
        "invoice.payment_failed",
        "2026-03-06 09:00",
        {"id": "in_a2", "subscription": "sub_a"},
    )
    stripe_event(
        db_session,
        "e5",
        "charge.refunded",
        "2026-03-06 10:00",
        {"id": "ch_a1", "invoice": "in_a1", "amount_refunded": 500},
    )
    stripe_event(db_session, "e6", "invoice.paid", "2026-03-06 11:00", {"id": "in_x", "amount_paid": 1500})
    db_session.flush()
    aggregate.aggregate(session=db_session, start=date(2026, 3, 5), end=date(2026, 3, 6), timezone="UTC")

    def seg(day: int, segment: str) -> tuple[int, int, int, int]:
        row = db_session.get(BiDailySegmentRevenue, (date(2026, 3, day), segment))
        if row is None:
            return (0, 0, 0, 0)
        return (row.invoices_paid, row.invoiced_amount, row.payment_failures, row.refunded_amount)

    assert seg(5, ADS) == (1, 999, 0, 0)
    assert seg(5, ORGANIC) == (1, 999, 0, 0)  # through sub_e's latest invoice
    assert seg(5, UNKNOWN) == (0, 0, 0, 0)
    assert seg(6, ADS) == (0, 0, 1, 500)  # the failure through its subscription, the refund its invoice
    assert seg(6, UNKNOWN) == (1, 1500, 0, 0)  # only the untraceable invoice is left unknown
    for day in (5, 6):
        whole = db_session.get(BiDailyRevenue, date(2026, 3, day))
        assert whole is not None
        parts = [seg(day, s) for s in (ADS, ORGANIC, UNKNOWN)]
        total = (whole.invoices_paid, whole.invoiced_amount, whole.payment_failures, whole.refunded_amount)
        assert tuple(map(sum, zip(*parts, strict=True))) == total
    ads = metrics.revenue(session=db_session, start=date(2026, 3, 5), end=date(2026, 3, 6), segment=ADS)
    # (A is one paying learner: a segment that small hides its figures on the page; the rows above are
    # what the segment adds up from.)
    assert all(k.value is None for k in ads.kpis)
