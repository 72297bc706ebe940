"""The learner home: continue where you left off, reviews due, streak, XP and daily goal."""

from __future__ import annotations

from sqlmodel import Session

from sayzhong.accounts import users
from sayzhong.accounts.schemas import UserInfo
from sayzhong.curriculum import service as curriculum
from sayzhong.curriculum.models import SpeakableItem
from sayzhong.db import utcnow
from sayzhong.errors import NotFoundError
from sayzhong.practice import progress
from sayzhong.practice.review import review_counts
from sayzhong.practice.schemas import ContinueItem, DailyTonePoint, HomeSummary, ToneStats
from sayzhong.practice.stats import accuracy_over_time, tone_stats


def _continue_item(
    item: SpeakableItem, *, unit_id: str | None, dialogue_id: str | None = None
) -> ContinueItem:
    title = None
    if unit_id is not None:
        try:
            title = curriculum.get_unit(unit_id).title
        except NotFoundError:
            unit_id = None
    return ContinueItem(
        item_id=item.id,
        kind=item.kind,
        hanzi=item.hanzi,
        pinyin=item.pinyin,
        english=item.english,
        unit_id=unit_id,
        unit_title=title,
        dialogue_id=dialogue_id,
    )


def _first_phrase_of(unit_id: str | None) -> ContinueItem | None:
    units = curriculum.list_units()
    try:
        unit = curriculum.get_unit(unit_id) if unit_id else units[0]
    except NotFoundError:
        unit = units[0]
    if not unit.phrases:
        return None
    return _continue_item(curriculum.get_item(unit.phrases[0].id), unit_id=unit.id)


def continue_item(last_item_id: str | None, recommended_unit_id: str | None) -> ContinueItem | None:
    """The next phrase after the last one practised (into the next unit at a unit's end); a dialogue
    line resumes its dialogue; a drill is offered again; with no history, the recommended unit."""
    if last_item_id is None:
        return _first_phrase_of(recommended_unit_id)
    try:
        item = curriculum.get_item(last_item_id)
    except NotFoundError:
        return _first_phrase_of(recommended_unit_id)
    if item.kind == "phrase":
        unit = curriculum.unit_of_phrase(item.id)
        ids = [p.id for p in unit.phrases]
        position = ids.index(item.id)
        if position + 1 < len(ids):
            return _continue_item(curriculum.get_item(ids[position + 1]), unit_id=unit.id)
        units = curriculum.list_units()
        later = [u for u in units if u.order > unit.order and u.phrases]
        if later:
            return _continue_item(curriculum.get_item(later[0].phrases[0].id), unit_id=later[0].id)
        return _continue_item(item, unit_id=unit.id)
    if item.kind == "dialogue_line":
        dialogue_id = item.id.split(".", 1)[0]
        try:
            dialogue = curriculum.get_dialogue(dialogue_id)
        except NotFoundError:
            return _continue_item(item, unit_id=None)
        return _continue_item(item, unit_id=dialogue.unit, dialogue_id=dialogue.id)
    return _continue_item(item, unit_id=None)


def home_summary(
    *,
    session: Session,
    user_id: int,
    user_timezone: str | None = None,
    stats: ToneStats | None = None,
    user: UserInfo | None = None,
) -> HomeSummary:
    """Everything the learner home shows, in the learner's time zone (default: their account's).

    `stats`: the learner's tone statistics when the caller already has them (read once per page).
    `user`: the account as the caller just read it (the page's guard), instead of reading it again.
    """
    if user is None:
        user = users.find_user(session=session, user_id=user_id)
    if user_timezone is None:
        user_timezone = user.timezone if user else "UTC"
    goal_minutes = user.daily_goal_minutes if user else 10
    tz = progress.zone(user_timezone)
    now = utcnow()
    today = progress.local_date(now, tz)
    profile = progress.get_profile(session, user_id)
    xp_today, attempts_today, seconds_today = progress.today_counters(profile, today)
    minutes_today = round(seconds_today / 60, 1)
    stats = stats or tone_stats(session=session, user_id=user_id)
    last_item_id = profile.last_item_id if profile else None
    reviews_due, also_worth_another_go = review_counts(session=session, user_id=user_id, now=now)
    recommended = profile.recommended_unit_id if profile else None
    return HomeSummary(
        continue_item=continue_item(last_item_id, recommended),
        last_item_id=last_item_id,
        recommended_unit_id=recommended,
        reviews_due=reviews_due,
        streak_days=progress.current_streak(profile, today),
        longest_streak_days=profile.longest_streak_days if profile else 0,
        practised_today=attempts_today > 0,
        xp_today=xp_today,
        xp_total=profile.xp_total if profile else 0,
        goal_minutes=goal_minutes,
        minutes_today=minutes_today,
        attempts_today=attempts_today,
        goal_met=goal_minutes > 0 and minutes_today >= goal_minutes,
        weakest_tone=stats.weakest_tones[0] if stats.weakest_tones else None,
        onboarding_finished=bool(profile and profile.onboarding_finished_at),
        also_worth_another_go=also_worth_another_go,
    )


def home_page(
    *, session: Session, user: UserInfo, days: int = 30
) -> tuple[HomeSummary, ToneStats, list[DailyTonePoint]]:
    """What the home page loads for the signed-in `user` (as the page's guard read them): the
    summary, the tone statistics (read once) and the daily chart, in the account's time zone."""
    stats = tone_stats(session=session, user_id=user.id)
    summary = home_summary(session=session, user_id=user.id, stats=stats, user=user)
    points = accuracy_over_time(session=session, user_id=user.id, days=days, user_timezone=user.timezone)
    return summary, stats, points
