"""The learner home: continue where you left off, reviews due, streak, XP and daily goal."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from sayzhong.accounts import users
from sayzhong.accounts.models import User
from sayzhong.accounts.schemas import UserInfo
from sayzhong.accounts.sessions import PageReads
from sayzhong.curriculum import service as curriculum
from sayzhong.curriculum.models import SpeakableItem
from sayzhong.db import utcnow
from sayzhong.errors import NotFoundError
from sayzhong.practice import progress, review
from sayzhong.practice.models import LearnerProfile
from sayzhong.practice.review import review_counts
from sayzhong.practice.schemas import ContinueItem, DailyTonePoint, HomeSummary, ToneStats
from sayzhong.practice.stats import accuracy_over_time, tally_total_column, tone_stats


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
    profile = progress.get_profile(session, user_id)
    stats = stats or tone_stats(session=session, user_id=user_id)
    return _summary(
        session=session,
        user_id=user_id,
        user_timezone=user_timezone or (user.timezone if user else "UTC"),
        goal_minutes=user.daily_goal_minutes if user else 10,
        profile=profile,
        stats=stats,
        now=utcnow(),
    )


def _summary(
    *,
    session: Session,
    user_id: int,
    user_timezone: str,
    goal_minutes: int,
    profile: LearnerProfile | None,
    stats: ToneStats,
    now: datetime,
    reviews: tuple[int, int] | None = None,
) -> HomeSummary:
    today = progress.local_date(now, progress.zone(user_timezone))
    xp_today, attempts_today, seconds_today = progress.today_counters(profile, today)
    minutes_today = round(seconds_today / 60, 1)
    last_item_id = profile.last_item_id if profile else None
    reviews_due, also_worth_another_go = reviews or review_counts(session=session, user_id=user_id, now=now)
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


@dataclass(frozen=True, slots=True)
class _Figures:
    tally_total: int
    stats: ToneStats
    points: tuple[DailyTonePoint, ...]


class FigureCache:
    """The home page's tone statistics and daily chart per learner, kept by each worker.

    Both are functions of the learner's stored syllables and the local calendar: an entry is keyed
    by (database, learner, account creation, time zone, today, window) and holds the learner's
    tally total it was computed at. The total grows with every stored syllable either figure counts
    (takes are only ever added; erasure removes the account), so an entry whose total still matches
    the one read beside the profile is exactly what the two queries would return — from any worker,
    with no invalidation messages. A new day, a new time zone or a new take reads afresh.
    """

    def __init__(self, maxsize: int = 4096) -> None:
        self.maxsize = maxsize
        self._entries: OrderedDict[tuple[object, ...], _Figures] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[object, ...], tally_total: int) -> _Figures | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None or found.tally_total != tally_total:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return found

    def put(self, key: tuple[object, ...], figures: _Figures) -> None:
        with self._lock:
            self._entries[key] = figures
            self._entries.move_to_end(key)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.hits = self.misses = 0


FIGURES = FigureCache()


_HOME_ROW = select(
    LearnerProfile, tally_total_column(bindparam("user_id")), review.DUE_IDS, review.MISSED_IDS
).where(col(LearnerProfile.user_id) == bindparam("user_id"))
"""The home page's read on its own: the profile, the tally total and the review cards' ids, one
statement, built once (compiled and hashed once)."""

_NO_PROFILE_ROW = sa_select(tally_total_column(bindparam("user_id")), review.DUE_IDS, review.MISSED_IDS)

_USER_ID = cast(ColumnElement[int], col(User.id))
"""The account's id in the guard's statement: the columns below are correlated to it."""

HOME_READS = PageReads(
    joined=(LearnerProfile,),
    columns=(
        tally_total_column(_USER_ID),
        review.due_ids_column(_USER_ID),
        review.missed_ids_column(_USER_ID),
    ),
)
"""The same read made in the page guard's session lookup (`resolve_page_load`, bound with
`home_params`): a home page load is one statement."""

HomeRow = tuple[LearnerProfile | None, int | None, str | None, str | None]
"""What `HOME_READS` (or `_HOME_ROW`) read: the profile, the tally total, the due and missed ids."""


def home_params(now: datetime) -> dict[str, Any]:
    """The values `HOME_READS` is bound with, for a load at `now`."""
    return review.count_params(now=now)


def home_page(
    *,
    session: Session,
    user: UserInfo,
    days: int = 30,
    now: datetime | None = None,
    row: HomeRow | Sequence[Any] | None = None,
) -> tuple[HomeSummary, ToneStats, list[DailyTonePoint]]:
    """What the home page loads for the signed-in `user` (as the page's guard read them): the
    summary, the tone statistics and the daily chart, in the account's time zone.

    The profile, the learner's tally total and the review counts are one read, bound with this
    `now`: `row` when the guard made it (`HOME_READS`), else one statement here. The statistics and
    chart come from `FIGURES` while that total is unchanged (a learner coming back to the page
    without a new take), else from their two queries."""
    now = now or utcnow()
    if row is None:
        params = review.count_params(user_id=user.id, now=now)
        found = session.exec(_HOME_ROW, params=params).first()
        if found is None:  # no profile yet (a new account)
            found = (None, *session.execute(_NO_PROFILE_ROW, params).one())
        row = tuple(found)
    profile, total, due_ids, missed_ids = row
    tally_total = int(total or 0)
    reviews = review.counts_from(due_ids, missed_ids)
    today = progress.local_date(now, progress.zone(user.timezone))
    # The database is part of the key: tests (and tools) open several in one process.
    key = (str(session.get_bind().engine.url), user.id, user.created_at, user.timezone, today, days)
    figures = FIGURES.get(key, tally_total)
    if figures is None:
        stats = tone_stats(session=session, user_id=user.id)
        points = accuracy_over_time(
            session=session, user_id=user.id, days=days, user_timezone=user.timezone, now=now
        )
        # Kept under the total read first: the two reads after it see at least that much, so a
        # take stored in between makes the next load read again, never keep figures that miss it.
        figures = _Figures(tally_total=tally_total, stats=stats, points=tuple(points))
        FIGURES.put(key, figures)
    summary = _summary(
        session=session,
        user_id=user.id,
        user_timezone=user.timezone,
        goal_minutes=user.daily_goal_minutes,
        profile=profile,
        stats=figures.stats,
        now=now,
        reviews=reviews,
    )
    return summary, figures.stats, list(figures.points)
