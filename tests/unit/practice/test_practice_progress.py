"""XP, streak across days and time zones, daily goal, and the learner home."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, select

from sayzhong.practice import progress, service
from sayzhong.practice.models import LearnerProfile
from sayzhong.practice.results import parse_result
from tests.factories import AttemptFactory, UserFactory
from tests.support.practice_fakes import result, syllable

ALL_RIGHT = result([syllable("你", "ni3", 2, 2), syllable("好", "hao3", 3, 3)], pron=85)
ONE_WRONG = result([syllable("你", "ni3", 2, 2), syllable("好", "hao3", 3, 2)], pron=60)


def _at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _practise(profile: LearnerProfile, moments: list[datetime], tz: str) -> None:
    for moment in moments:
        progress.record_practice(profile, now=moment, tz=progress.zone(tz), xp=10)


def test_xp_rewards_speaking_score_and_all_tones_right() -> None:
    assert progress.xp_for(parse_result(ALL_RIGHT), "practice") == 5 + 4 + 5
    assert progress.xp_for(parse_result(ONE_WRONG), "practice") == 5 + 3
    assert progress.xp_for(parse_result(ALL_RIGHT), "calibration") == 0


def test_streak_grows_on_consecutive_days_and_restarts_after_a_gap() -> None:
    profile = LearnerProfile(user_id=1)
    _practise(
        profile, [_at(2026, 11, 1, 9), _at(2026, 11, 1, 18), _at(2026, 11, 2, 9), _at(2026, 11, 3, 9)], "UTC"
    )
    assert profile.streak_days == 3 and profile.last_practice_date == date(2026, 11, 3)
    _practise(profile, [_at(2026, 11, 5, 9)], "UTC")
    assert profile.streak_days == 1 and profile.longest_streak_days == 3


@pytest.mark.parametrize(
    ("tz", "moments", "streak"),
    [
        # 23:30 and 00:10 the next morning in Shanghai (UTC+8): two local days.
        ("Asia/Shanghai", [_at(2026, 11, 20, 15, 30), _at(2026, 11, 20, 16, 10)], 2),
        ("UTC", [_at(2026, 11, 20, 15, 30), _at(2026, 11, 20, 16, 10)], 1),
        # 23:00 and 01:00 in Los Angeles are one UTC day but two local days.
        ("America/Los_Angeles", [_at(2026, 11, 21, 7, 0), _at(2026, 11, 21, 9, 0)], 2),
        ("UTC", [_at(2026, 11, 21, 7, 0), _at(2026, 11, 21, 9, 0)], 1),
        # Two UTC days that are one Los Angeles day.
        ("America/Los_Angeles", [_at(2026, 11, 20, 20, 0), _at(2026, 11, 21, 3, 0)], 1),
    ],
)
def test_streak_days_are_the_learners_local_days(tz: str, moments: list[datetime], streak: int) -> None:
    profile = LearnerProfile(user_id=1)
    _practise(profile, moments, tz)
    assert profile.streak_days == streak


def test_unknown_time_zone_falls_back_to_utc() -> None:
    assert progress.zone("Not/AZone").key == "UTC"


def test_current_streak_is_zero_once_a_day_is_missed() -> None:
    profile = LearnerProfile(user_id=1)
    _practise(profile, [_at(2026, 11, 1, 9), _at(2026, 11, 2, 9)], "UTC")
    assert progress.current_streak(profile, date(2026, 11, 2)) == 2
    assert progress.current_streak(profile, date(2026, 11, 3)) == 2  # today not practised yet
    assert progress.current_streak(profile, date(2026, 11, 4)) == 0


def test_today_counters_and_active_time_reset_on_a_new_local_day() -> None:
    profile = LearnerProfile(user_id=1)
    start = _at(2026, 11, 1, 9)
    _practise(profile, [start, start + timedelta(seconds=60), start + timedelta(minutes=20)], "UTC")
    assert profile.today_attempts == 3 and profile.today_xp == 30
    assert profile.today_active_seconds == 30 + 60 + 30  # first take, a 60 s gap, a new sitting
    assert progress.today_counters(profile, date(2026, 11, 1)) == (30, 3, 120.0)
    assert progress.today_counters(profile, date(2026, 11, 2)) == (0, 0, 0.0)
    _practise(profile, [_at(2026, 11, 2, 9)], "UTC")
    assert profile.today_attempts == 1 and profile.xp_total == 40


def test_scored_attempts_update_xp_streak_and_last_item(
    db_session: Session, make_user: UserFactory, make_attempt: AttemptFactory
) -> None:
    user = make_user(timezone="Asia/Shanghai").id
    for item, res in (("greetings.hello", ALL_RIGHT), ("greetings.hello-polite", ONE_WRONG)):
        at = _at(2026, 11, 20, 15, 30) if item == "greetings.hello" else _at(2026, 11, 20, 16, 10)
        make_attempt(user, res, item_id=item, now=at)
    profile = db_session.exec(select(LearnerProfile).where(LearnerProfile.user_id == user)).one()
    assert profile.xp_total == 14 + 8
    assert profile.streak_days == 2  # local midnight in Shanghai fell between the takes
    assert profile.last_item_id == "greetings.hello-polite"


def test_placement_takes_do_not_move_continue_where_you_left_off(
    db_session: Session, make_user: UserFactory, make_attempt: AttemptFactory
) -> None:
    user = make_user().id
    for item, mode in (("greetings.hello", "practice"), ("directions.take-me-here", "placement")):
        make_attempt(user, ALL_RIGHT, item_id=item, mode=mode)
    profile = db_session.exec(select(LearnerProfile).where(LearnerProfile.user_id == user)).one()
    assert profile.last_item_id == "greetings.hello"


def test_home_summary_for_a_new_learner(db_session: Session, make_user: UserFactory) -> None:
    user = make_user(goal_minutes=15).id
    home = service.home_summary(session=db_session, user_id=user, user_timezone="Europe/Berlin")
    assert home.continue_item is not None and home.continue_item.item_id == "greetings.hello"
    assert home.continue_item.unit_id == "greetings"
    assert (home.streak_days, home.xp_total, home.reviews_due, home.goal_minutes) == (0, 0, 0, 15)
    assert not home.onboarding_finished and home.weakest_tone is None


def test_home_summary_after_practice(
    db_session: Session, make_user: UserFactory, make_attempt: AttemptFactory
) -> None:
    user = make_user(goal_minutes=1).id
    for _ in range(2):
        make_attempt(user, ALL_RIGHT, item_id="greetings.hello")
    home = service.home_summary(session=db_session, user_id=user, user_timezone="UTC")
    assert home.continue_item is not None and home.continue_item.item_id == "greetings.hello-polite"
    assert home.last_item_id == "greetings.hello"
    assert home.streak_days == 1 and home.practised_today
    assert home.xp_today == home.xp_total == 28 and home.attempts_today == 2
    assert home.minutes_today >= 0.5
    assert home.to_dict()["continue_item"]["unit_title"] == "Greetings and introductions"


def test_continue_after_the_last_phrase_of_a_unit_moves_to_the_next_unit() -> None:
    from sayzhong.curriculum import service as curriculum
    from sayzhong.practice.home import continue_item

    first, second = curriculum.list_units()[:2]
    nxt = continue_item(first.phrases[-1].id, None)
    assert nxt is not None and nxt.item_id == second.phrases[0].id and nxt.unit_id == second.id
    line = next(i for i in curriculum.all_items() if i.kind == "dialogue_line")
    resumed = continue_item(line.id, None)
    assert resumed is not None and resumed.dialogue_id == line.id.split(".")[0]
