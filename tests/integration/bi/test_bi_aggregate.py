"""The daily aggregates against the hand-made history in tests/support/bi_scenario.py."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from sayzhong.accounts.models import User
from sayzhong.bi import aggregate
from sayzhong.bi.models import (
    BiCohortWeek,
    BiDailyAcquisition,
    BiDailyActivity,
    BiDailyContent,
    BiDailyLifecycle,
    BiDailyRevenue,
    BiDailyTone,
)
from sayzhong.errors import ValidationError
from tests.support.bi_scenario import build_billing, build_learners

MAR2 = date(2026, 3, 2)


def _activity(session: Session, day: date, segment: str = "all") -> BiDailyActivity:
    row = session.get(BiDailyActivity, (day, segment))
    assert row is not None, f"no activity row for {day} {segment}"
    return row


def _revenue(session: Session, day: date) -> BiDailyRevenue:
    row = session.get(BiDailyRevenue, day)
    assert row is not None
    return row


def test_activity_counts_learners_only_and_splits_by_sign_up_channel(db_session: Session) -> None:
    build_learners(db_session)
    aggregate.aggregate(session=db_session, start=MAR2, end=MAR2, timezone="UTC")
    row = _activity(db_session, MAR2)
    # A, B and C took a take on 03-02 (the staff member S does not count); D's 02-27 is within 7 days.
    assert (row.dau, row.wau, row.mau) == (3, 4, 4)
    assert row.new_learners == 1  # B
    assert row.takes == 1 + 2 + 1  # A, B twice, C
    assert (row.review_takes, row.review_passed) == (1, 1)  # A's review scored 90
    ads = _activity(db_session, MAR2, "channel:ads")  # A and D
    assert (ads.dau, ads.wau) == (1, 2)
    assert _activity(db_session, MAR2, "channel:unknown").dau == 1  # C has no sign-up event


def test_a_take_counts_on_the_reporting_time_zone_day(db_session: Session) -> None:
    build_learners(db_session)
    # Shanghai is UTC+8: C's take at 03-02 23:30 UTC is 03-03 07:30 there.
    aggregate.aggregate(session=db_session, start=MAR2, end=MAR2, timezone="Asia/Shanghai")
    assert _activity(db_session, MAR2).dau == 2
    aggregate.aggregate(
        session=db_session,
        start=MAR2 + timedelta(days=1),
        end=MAR2 + timedelta(days=1),
        timezone="Asia/Shanghai",
    )
    assert _activity(db_session, MAR2 + timedelta(days=1)).dau == 1


def test_day_bounds_follow_daylight_saving_time() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    start, end = aggregate.day_bounds(date(2026, 3, 29), berlin)  # clocks go forward: a 23-hour day
    assert end - start == timedelta(hours=23)
    assert start.isoformat() == "2026-03-28T23:00:00+00:00"


def test_lifecycle_states_and_yesterdays_transitions(db_session: Session) -> None:
    build_learners(db_session)
    aggregate.aggregate(session=db_session, start=MAR2, end=MAR2, timezone="UTC")
    rows = {
        r.state: r
        for r in db_session.exec(
            select(BiDailyLifecycle).where(BiDailyLifecycle.day == MAR2, BiDailyLifecycle.segment == "all")
        )
    }
    today = {state: r.learners for state, r in rows.items() if r.learners}
    # A current (03-01), B new, C reactivated (02-20), D at risk weekly (02-27), E dormant (01-10).
    assert today == {"current": 1, "new": 1, "reactivated": 1, "at_risk_wau": 1, "dormant": 1}
    # On 03-01: A resurrected, C at risk monthly, D at risk weekly, E dormant; A and C came back on 03-02.
    yesterday = {
        state: (r.prev_learners, r.prev_active_today) for state, r in rows.items() if r.prev_learners
    }
    assert yesterday == {
        "resurrected": (1, 1),
        "at_risk_mau": (1, 1),
        "at_risk_wau": (1, 0),
        "dormant": (1, 0),
    }
    assert sum(today[s] for s in ("new", "current", "reactivated")) == _activity(db_session, MAR2).dau


def test_tone_rows_by_take_number_tone_pair_and_speaker_profile(db_session: Session) -> None:
    build_learners(db_session)
    aggregate.aggregate(session=db_session, start=MAR2, end=MAR2, timezone="UTC")
    rows = {
        (r.tone, r.prev_tone, r.take_bucket, r.speaker_profile): (r.judged, r.correct)
        for r in db_session.exec(select(BiDailyTone).where(BiDailyTone.day == MAR2))
    }
    segments = set(db_session.exec(select(BiDailyTone.segment).where(BiDailyTone.day == MAR2)))
    assert segments == {"channel:organic"}  # B's sign-up channel; tone rows are stored per channel
    # B's first take: 3 (correct), 3-3 (wrong), neutral not judged; second take with the profile: 3 correct.
    assert rows == {(3, 0, "1", False): (1, 1), (3, 3, "1", False): (1, 0), (3, 0, "2-5", True): (1, 1)}
    cohort = db_session.exec(select(BiDailyTone.cohort_week).where(BiDailyTone.day == MAR2)).first()
    assert cohort == date(2026, 3, 2)  # B signed up on a Monday


def test_content_failures_give_ups_and_improvement(db_session: Session) -> None:
    build_learners(db_session)
    aggregate.aggregate(session=db_session, start=MAR2, end=MAR2, timezone="UTC")
    rows = {
        r.segment: (r.takes, r.failed_takes, r.learners, r.gave_up, r.repeated, r.improvement_sum)
        for r in db_session.exec(select(BiDailyContent).where(BiDailyContent.item_id == "u1.p1"))
    }
    # Per sign-up channel: A (ads) 90; B (organic) 40 then 70 (improved by 30); C (unknown) 50, fails, stops.
    assert rows == {
        "channel:ads": (1, 0, 1, 0, 0, 0.0),
        "channel:organic": (2, 1, 1, 0, 1, 30.0),
        "channel:unknown": (1, 1, 1, 1, 0, 0.0),
    }


def test_revenue_movements_trials_invoices_refunds_and_plan_change(db_session: Session) -> None:
    ids = build_learners(db_session)
    build_billing(db_session, ids)
    aggregate.aggregate(session=db_session, start=date(2026, 3, 1), end=date(2026, 4, 2), timezone="UTC")
    mar1 = _revenue(db_session, date(2026, 3, 1))
    assert (mar1.trials_started, mar1.trialing, mar1.mrr) == (1, 1, 0)
    mar8 = _revenue(db_session, date(2026, 3, 8))
    assert (mar8.mrr, mar8.paying, mar8.new_mrr, mar8.new_paying) == (999 + 667, 2, 999 + 667, 2)
    assert mar8.trials_converted == 1
    assert (mar8.invoices_paid, mar8.invoiced_amount, mar8.payment_failures) == (2, 999 + 7999, 1)
    assert _revenue(db_session, date(2026, 3, 10)).refunded_amount == 2000
    assert _revenue(db_session, date(2026, 3, 12)).refunded_amount == 7999 - 2000
    mar15 = _revenue(db_session, date(2026, 3, 15))  # monthly → annual: 999 → 667 a month
    assert (mar15.contraction_mrr, mar15.mrr) == (999 - 667, 667 + 667)
    mar20 = _revenue(db_session, date(2026, 3, 20))
    assert (mar20.churned_mrr, mar20.churned_paying, mar20.mrr, mar20.paying) == (667, 1, 667, 1)
    apr2 = _revenue(db_session, date(2026, 4, 2))  # A comes back: reactivation, not new
    assert (apr2.reactivation_mrr, apr2.reactivated_paying, apr2.new_mrr, apr2.mrr) == (999, 1, 0, 999 + 667)


def test_acquisition_sign_ups_referrals_and_first_payments_by_channel(db_session: Session) -> None:
    ids = build_learners(db_session)
    build_billing(db_session, ids)
    aggregate.aggregate(session=db_session, start=MAR2, end=date(2026, 3, 8), timezone="UTC")
    organic = db_session.get(BiDailyAcquisition, (MAR2, "organic", "unknown"))
    assert organic is not None and (organic.signups, organic.referred_signups) == (1, 1)
    ads = db_session.get(BiDailyAcquisition, (date(2026, 3, 8), "ads", "spring"))
    assert ads is not None and ads.first_paid == 2  # A (cus_a) and D (cus_d)


def test_cohort_week_counts_active_learners_per_sign_up_week(db_session: Session) -> None:
    build_learners(db_session)
    aggregate.aggregate(session=db_session, start=MAR2, end=MAR2, timezone="UTC")
    rows = {
        r.cohort_week: (r.cohort_size, r.active_learners)
        for r in db_session.exec(select(BiCohortWeek).where(BiCohortWeek.segment == "all"))
    }
    # Week of 01-05: A and E, A active; week of 02-02: C and D, C active; week of 03-02: B, active.
    assert rows == {date(2026, 1, 5): (2, 1), date(2026, 2, 2): (2, 1), date(2026, 3, 2): (1, 1)}


def test_rerunning_a_day_replaces_it_and_drops_erased_learners(db_session: Session) -> None:
    ids = build_learners(db_session)
    aggregate.aggregate(session=db_session, start=MAR2, end=MAR2, timezone="UTC")
    aggregate.aggregate(session=db_session, start=MAR2, end=MAR2, timezone="UTC")
    assert (
        len(
            db_session.exec(
                select(BiDailyActivity).where(BiDailyActivity.day == MAR2, BiDailyActivity.segment == "all")
            ).all()
        )
        == 1
    )
    assert _activity(db_session, MAR2).dau == 3
    learner = db_session.get(User, ids["C"])
    db_session.delete(learner)  # erasure deletes the account; its takes go with it
    db_session.flush()
    db_session.expire_all()
    assert _activity(db_session, MAR2).dau == 3  # stored anonymous counts stay until recomputed
    aggregate.aggregate(session=db_session, start=MAR2, end=MAR2, timezone="UTC")
    db_session.expire_all()
    assert _activity(db_session, MAR2).dau == 2


def test_bad_ranges_and_time_zones_are_refused_in_plain_words() -> None:
    with pytest.raises(ValidationError, match="before the start"):
        aggregate.parse_range(MAR2, MAR2 - timedelta(days=1))
    with pytest.raises(ValidationError, match="at most"):
        aggregate.parse_range(MAR2, MAR2 + timedelta(days=5000))
    with pytest.raises(ValidationError, match="IANA"):
        aggregate.reporting_zone("Mars/Olympus")


def test_lifecycle_states_add_up_to_dau_wau_and_mau_every_day(db_session: Session) -> None:
    build_learners(db_session)
    aggregate.aggregate(session=db_session, start=date(2026, 1, 4), end=date(2026, 3, 4), timezone="UTC")
    for day in (date(2026, 1, 4) + timedelta(days=n) for n in range(60)):
        rows = db_session.exec(
            select(BiDailyLifecycle).where(BiDailyLifecycle.day == day, BiDailyLifecycle.segment == "all")
        ).all()
        n = {r.state: r.learners for r in rows}
        act = _activity(db_session, day)
        active_today = (
            n.get("new", 0) + n.get("current", 0) + n.get("reactivated", 0) + n.get("resurrected", 0)
        )
        assert active_today == act.dau, day
        assert active_today + n.get("at_risk_wau", 0) == act.wau, day
        assert active_today + n.get("at_risk_wau", 0) + n.get("at_risk_mau", 0) == act.mau, day

    # E's only take was on 01-10: at risk weekly until 01-16, at risk monthly until 02-08, then dormant.
    def state_of_e(day: date) -> set[str]:
        return {
            r.state
            for r in db_session.exec(
                select(BiDailyLifecycle).where(
                    BiDailyLifecycle.day == day, BiDailyLifecycle.segment == "channel:organic"
                )
            )
            if r.learners
        }

    assert state_of_e(date(2026, 1, 16)) == {"at_risk_wau"}
    assert state_of_e(date(2026, 1, 17)) == {"at_risk_mau"}
    assert state_of_e(date(2026, 2, 8)) == {"at_risk_mau"}
    assert state_of_e(date(2026, 2, 9)) == {"dormant"}


def test_onboarding_starts_and_finishes_count_on_their_day(db_session: Session) -> None:
    from sayzhong.practice.models import LearnerProfile
    from tests.support.bi_scenario import at

    ids = build_learners(db_session)
    db_session.add(
        LearnerProfile(
            user_id=ids["B"],
            onboarding_started_at=at("2026-03-02 08:01"),
            onboarding_finished_at=at("2026-03-02 08:10"),
        )
    )
    db_session.add(LearnerProfile(user_id=ids["D"], onboarding_started_at=at("2026-03-02 23:59")))
    db_session.add(LearnerProfile(user_id=ids["S"], onboarding_started_at=at("2026-03-02 09:00")))  # staff
    db_session.flush()
    aggregate.aggregate(session=db_session, start=MAR2, end=MAR2, timezone="UTC")
    row = _activity(db_session, MAR2)
    assert (row.onboarding_started, row.onboarding_finished) == (2, 1)
    assert _activity(db_session, MAR2, "channel:ads").onboarding_started == 1  # D
