"""Page loaders assign only what changed (issue 16: a return visit to a page sends nothing)."""

from __future__ import annotations

from datetime import UTC, datetime

from reflex.state import State

from state.fields import assign_changed
from state.home import HomeState
from state.session import SessionState


def _substate(cls: type[State]) -> State:
    return State(_reflex_internal_init=True).get_substate(cls.get_full_name().split(".")[1:])


def test_equal_values_leave_the_state_clean_and_changes_are_sent() -> None:
    home = _substate(HomeState)
    rows = [{"tone": "Tone 1", "accuracy": "80%", "count": "5"}]
    assign_changed(home, {"reviews_due": 0, "tone_rows": [], "weakest_tone": ""})  # the defaults
    assert home.dirty_vars == set()
    assign_changed(home, {"reviews_due": 3, "tone_rows": rows, "weakest_tone": ""})
    assert home.dirty_vars == {"reviews_due", "tone_rows"}
    assert home.reviews_due == 3 and home.tone_rows == rows
    home._clean()
    # The same figures again (a new list of equal rows): nothing to send.
    assign_changed(home, {"reviews_due": 3, "tone_rows": [dict(r) for r in rows], "weakest_tone": ""})
    assert home.dirty_vars == set()
    assign_changed(home, {"tone_rows": [{**rows[0], "count": "6"}]})
    assert home.dirty_vars == {"tone_rows"} and home.tone_rows[0]["count"] == "6"


def test_the_session_guard_sends_the_signed_in_user_once() -> None:
    from sayzhong.accounts.schemas import UserInfo

    session = _substate(SessionState)
    assert isinstance(session, SessionState)
    user = UserInfo(
        id=7,
        email="mei@example.org",
        display_name="Mei",
        role="learner",
        email_verified=True,
        two_factor_enabled=False,
        timezone="UTC",
        daily_goal_minutes=10,
        has_password=True,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    session._apply(user)
    assert {"user_id", "email", "display_name", "role"} <= session.dirty_vars
    session._clean()
    session._apply(user)
    assert session.dirty_vars == set()
    session._apply(None)
    assert {"user_id", "email", "display_name", "role"} <= session.dirty_vars and session.user_id == 0


def test_the_home_chart_has_one_row_per_day_labelled_like_strftime() -> None:
    from datetime import date, timedelta

    from sayzhong.practice.schemas import DailyTonePoint
    from state.home import _chart_rows

    days = [date(2026, 12, 30) + timedelta(days=i) for i in range(4)]  # across a year's end
    points = [DailyTonePoint(date=d, tone=t, accuracy=0.5 + 0.1 * t, count=3) for d in days for t in (1, 3)]
    rows = _chart_rows(list(reversed(points)))
    assert [r["date"] for r in rows] == [d.strftime("%d %b") for d in days]  # oldest first
    assert rows[0] == {"date": "30 Dec", "t1": 60, "t3": 80}
    assert _chart_rows(points[:4]) == []  # two days: no line to draw
