"""SLA clocks on a frozen clock: business hours, pauses while waiting on the learner, warnings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sayzhong.support import sla

CAL = sla.Calendar("UTC")
MONDAY_10 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # a Monday


def _ticket(priority: str = "high", **kw) -> sla.TicketClock:  # type: ignore[no-untyped-def]
    base = {
        "priority": priority,
        "created_at": MONDAY_10,
        "first_response_at": None,
        "resolved_at": None,
        "paused_since": None,
        "paused_seconds": 0,
    }
    return sla.TicketClock(**(base | kw))


def test_business_seconds_skip_nights_and_weekends() -> None:
    friday_16 = datetime(2026, 12, 4, 16, 0, tzinfo=UTC)
    monday_10 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    assert CAL.business_seconds(friday_16, monday_10) == 2 * 3600
    assert CAL.business_seconds(MONDAY_10, MONDAY_10 + timedelta(hours=3)) == 3 * 3600
    assert CAL.business_seconds(MONDAY_10, MONDAY_10 - timedelta(hours=1)) == 0
    saturday = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
    assert CAL.business_seconds(saturday, saturday + timedelta(hours=5)) == 0


def test_business_hours_follow_the_support_time_zone() -> None:
    shanghai = sla.Calendar("Asia/Shanghai")  # 09:00–17:00 there is 01:00–09:00 UTC
    start = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
    assert shanghai.business_seconds(start, start + timedelta(hours=12)) == 8 * 3600


def test_a_ticket_filed_friday_evening_is_not_late_on_saturday() -> None:
    friday_18 = datetime(2026, 12, 4, 18, 0, tzinfo=UTC)
    ticket = _ticket("urgent", created_at=friday_18)
    assert sla.first_response_clock(ticket, friday_18 + timedelta(hours=30), CAL).state == "ok"
    monday_0945 = datetime(2026, 12, 7, 9, 45, tzinfo=UTC)
    assert sla.first_response_clock(ticket, monday_0945, CAL).state == "breached"


def test_warning_at_80_percent_then_breach() -> None:
    ticket = _ticket("high")  # resolution target 4 business hours
    assert sla.resolution_clock(ticket, MONDAY_10 + timedelta(hours=3), CAL).state == "ok"
    assert sla.resolution_clock(ticket, MONDAY_10 + timedelta(hours=3, minutes=15), CAL).state == "warning"
    assert sla.resolution_clock(ticket, MONDAY_10 + timedelta(hours=4, minutes=1), CAL).state == "breached"


def test_waiting_on_the_learner_pauses_the_resolution_clock() -> None:
    # Answered at 10:30, waiting on the learner since then; at 16:00 only 30 minutes have counted.
    paused = _ticket(
        "high",
        first_response_at=MONDAY_10 + timedelta(minutes=30),
        paused_since=MONDAY_10 + timedelta(minutes=30),
    )
    clock = sla.resolution_clock(paused, MONDAY_10 + timedelta(hours=6), CAL)
    assert clock.elapsed_s == 30 * 60 and clock.state == "ok"
    # The learner answered after 5 hours of waiting: those are added to the paused total.
    resumed = _ticket(
        "high",
        paused_seconds=sla.pause_seconds_to_add(
            MONDAY_10 + timedelta(minutes=30), MONDAY_10 + timedelta(hours=5, minutes=30), CAL
        ),
    )
    assert sla.resolution_clock(resumed, MONDAY_10 + timedelta(hours=6), CAL).elapsed_s == 60 * 60


def test_a_met_target_stays_met() -> None:
    ticket = _ticket("urgent", first_response_at=MONDAY_10 + timedelta(minutes=20))
    clock = sla.first_response_clock(ticket, MONDAY_10 + timedelta(days=3), CAL)
    assert clock.done and clock.state == "ok" and clock.remaining_s == 10 * 60
