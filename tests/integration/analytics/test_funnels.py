"""Funnel figures from the local event store against a hand-computed fixture (SQLite and PostgreSQL).

The people (distinct ids) and their events, days counted from 1 Nov 2026; the period is 1–8 Nov:

  id   visit (channel/device)     then                                                       variant
  1    d0 paid_search/mobile      signed_up d0, onboarded d0, first take d0, returned day1 d1,   b
                                  returned day6 d6, trial d6, paid d13
  2    d1 paid_search/desktop     signed_up d1, onboarded d1, first take d1, returned day1 d2,   a
                                  trial d3 (no seventh-day return, so the trial step is not reached)
  3    d2 direct/desktop          signed_up d2, onboarded d2                                     a
  4    d2 direct/mobile           signed_up d40 (outside the 30-day window)                      b
  v5   d3 direct/desktop          —
  v6   d3 referral/desktop        —
  7    d4 paid_search/desktop     signed_up d4
  8    first visit 25 Oct (before the period) and d1 → not an entrant
  9    first visit d9 (after the period) → not an entrant
  10   d5 email/desktop           signed_up d0 (before the visit, does not count)
  11   d5 direct/desktop          returned day6 d6 without signing up (not counted: no sign-up)

Entrants 9. Sign-up 4 (1, 2, 3, 7) = 4/9; onboarded 3 (1, 2, 3) = 3/4; first take 2 (1, 2);
second-day return 2 (1, 2); seventh-day return 1 (1); trial 1 (1); paid 1 (1).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from sayzhong.analytics import funnels
from sayzhong.analytics.models import AnalyticsEvent
from sayzhong.errors import ValidationError

DAY0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
START, END = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 8, tzinfo=UTC)


def _add(session: Session, who: str, event: str, at: float, **props: object) -> None:
    session.add(
        AnalyticsEvent(
            event=event, distinct_id=who, properties=dict(props), created_at=DAY0 + timedelta(days=at)
        )
    )


def _visit(session: Session, who: str, day: float, channel: str, device: str, campaign: str = "") -> None:
    props: dict[str, object] = {"path": "/", "channel": channel, "device": device}
    if campaign:
        props["campaign"] = campaign
    _add(session, who, "page_viewed", day, **props)


@pytest.fixture
def fixture_events(db_session: Session) -> Session:
    s = db_session
    _visit(s, "1", 0, "paid_search", "mobile", "spring")
    for event, day in (("signed_up", 0.01), ("onboarding_finished", 0.02), ("first_attempt_scored", 0.03)):
        _add(s, "1", event, day)
    _add(s, "1", "returned", 1, day=1)
    _add(s, "1", "returned", 6, day=6)
    _add(s, "1", "trial_started", 6.1, plan="monthly")
    _add(s, "1", "subscription_paid", 13, plan="monthly", amount_minor=999)
    _add(s, "1", "experiment_exposed", 0, key="headline", variant="b")

    _visit(s, "2", 1, "paid_search", "desktop", "spring")
    for event, day in (("signed_up", 1.01), ("onboarding_finished", 1.02), ("first_attempt_scored", 1.03)):
        _add(s, "2", event, day)
    _add(s, "2", "returned", 2, day=1)
    _add(s, "2", "trial_started", 3)
    _add(s, "2", "experiment_exposed", 1, key="headline", variant="a")
    _add(s, "2", "experiment_exposed", 1, key="other_test", variant="b")

    _visit(s, "3", 2, "direct", "desktop")
    _add(s, "3", "signed_up", 2.01)
    _add(s, "3", "onboarding_finished", 2.02)
    _add(s, "3", "experiment_exposed", 2, key="headline", variant="a")

    _visit(s, "4", 2, "direct", "mobile")
    _add(s, "4", "signed_up", 40)
    _add(s, "4", "experiment_exposed", 2, key="headline", variant="b")

    _visit(s, "v5", 3, "direct", "desktop")
    _visit(s, "v6", 3, "referral", "desktop")
    _visit(s, "7", 4, "paid_search", "desktop", "spring")
    _add(s, "7", "signed_up", 4.01)
    _visit(s, "8", -7, "direct", "desktop")
    _visit(s, "8", 1, "direct", "desktop")
    _add(s, "8", "signed_up", 1.01)
    _visit(s, "9", 9, "direct", "desktop")
    _add(s, "10", "signed_up", 0)
    _visit(s, "10", 5, "email", "desktop")
    _visit(s, "11", 5, "direct", "desktop")
    _add(s, "11", "returned", 6, day=6)
    s.flush()
    return s


def _people(segment: funnels.Segment) -> list[int]:
    return [step.people for step in segment.steps]


def test_funnel_counts_each_step_as_worked_out_by_hand(fixture_events: Session) -> None:
    report = funnels.compute_funnel(session=fixture_events, start=START, end=END, window_days=30)
    assert [s.key for s in report.total.steps] == [
        "visit",
        "signed_up",
        "onboarded",
        "first_take",
        "day2",
        "day7",
        "trial",
        "paid",
    ]
    assert _people(report.total) == [9, 4, 3, 2, 2, 1, 1, 1]
    signed, onboarded = report.total.steps[1], report.total.steps[2]
    assert signed.from_previous == pytest.approx(4 / 9)
    assert signed.target == 0.15 and signed.meets_target is True
    assert onboarded.from_previous == pytest.approx(3 / 4)
    assert onboarded.target == 0.90 and onboarded.meets_target is False
    assert report.total.steps[7].overall == pytest.approx(1 / 9)


def test_the_conversion_window_cuts_late_steps(fixture_events: Session) -> None:
    report = funnels.compute_funnel(session=fixture_events, start=START, end=END, window_days=7)
    # Person 1 paid on day 13: outside a 7-day window from their visit.
    assert _people(report.total) == [9, 4, 3, 2, 2, 1, 1, 0]


def test_split_by_channel(fixture_events: Session) -> None:
    report = funnels.compute_funnel(session=fixture_events, start=START, end=END, split="channel")
    by = {seg.value: _people(seg) for seg in report.segments}
    assert by == {
        "direct": [4, 1, 1, 0, 0, 0, 0, 0],
        "email": [1, 0, 0, 0, 0, 0, 0, 0],
        "paid_search": [3, 3, 2, 2, 2, 1, 1, 1],
        "referral": [1, 0, 0, 0, 0, 0, 0, 0],
    }


def test_split_by_campaign_and_device(fixture_events: Session) -> None:
    campaign = funnels.compute_funnel(session=fixture_events, start=START, end=END, split="campaign")
    assert {seg.value: _people(seg)[:3] for seg in campaign.segments} == {
        "(none)": [6, 1, 1],
        "spring": [3, 3, 2],
    }
    device = funnels.compute_funnel(session=fixture_events, start=START, end=END, split="device")
    assert {seg.value: _people(seg)[:3] for seg in device.segments} == {
        "desktop": [7, 3, 2],
        "mobile": [2, 1, 1],
    }


def test_split_by_experiment_variant_from_exposure_events(fixture_events: Session) -> None:
    report = funnels.compute_funnel(
        session=fixture_events, start=START, end=END, split="variant", experiment="headline"
    )
    assert {seg.value: _people(seg) for seg in report.segments} == {
        "(none)": [5, 1, 0, 0, 0, 0, 0, 0],
        "a": [2, 2, 2, 1, 1, 0, 0, 0],
        "b": [2, 1, 1, 1, 1, 1, 1, 1],
    }


def test_drop_off_lists_are_counts_and_anonymised_ids(fixture_events: Session) -> None:
    report = funnels.compute_funnel(session=fixture_events, start=START, end=END, secret="k")
    counts = {d.step_key: d.count for d in report.drop_offs}
    assert counts == {
        "signed_up": 5,
        "onboarded": 1,
        "first_take": 1,
        "day2": 0,
        "day7": 1,
        "trial": 0,
        "paid": 0,
    }
    lost = {d.step_key: d.sample for d in report.drop_offs}
    assert lost["onboarded"] == [funnels.anonymise("7", "k")]
    assert sorted(lost["signed_up"]) == sorted(
        funnels.anonymise(i, "k") for i in ("4", "v5", "v6", "10", "11")
    )
    assert all(len(x) == 10 and x not in {"4", "v5", "v6", "10", "11"} for x in lost["signed_up"])


def test_bad_requests_are_refused_in_plain_words(fixture_events: Session) -> None:
    with pytest.raises(ValidationError):
        funnels.compute_funnel(session=fixture_events, start=START, end=END, split="email")
    with pytest.raises(ValidationError):
        funnels.compute_funnel(session=fixture_events, start=START, end=END, split="variant")
    with pytest.raises(ValidationError):
        funnels.compute_funnel(session=fixture_events, start=END, end=START)


def test_posthog_link_describes_the_same_funnel() -> None:
    import json
    from urllib.parse import unquote

    url = funnels.posthog_funnel_url(
        ui_host="https://eu.posthog.com/", project_id="12", window_days=14, split="channel"
    )
    assert url.startswith("https://eu.posthog.com/project/12/insights/new#q=")
    query = json.loads(unquote(url.split("#q=", 1)[1]))
    source = query["source"]
    assert [n["event"] for n in source["series"]] == [s.event for s in funnels.STEPS]
    assert source["series"][5]["properties"][0] == {
        "key": "day",
        "value": 6,
        "operator": "gte",
        "type": "event",
    }
    assert source["funnelsFilter"]["funnelWindowInterval"] == 14
    assert source["breakdownFilter"] == {"breakdown": "channel", "breakdown_type": "event"}
