"""Learner home: continue where you left off, reviews due, streak, accuracy per tone over time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from functools import lru_cache
from typing import Any

import reflex as rx
from sqlmodel import Session

from sayzhong import routes
from sayzhong.accounts.schemas import UserInfo
from sayzhong.curriculum import service as curriculum
from sayzhong.curriculum.pinyin import with_tone_marks
from sayzhong.db import utcnow
from sayzhong.errors import SayZhongError
from sayzhong.practice import service as practice
from sayzhong.practice.schemas import DailyTonePoint, HomeSummary, ToneStats
from sayzhong.support import feedback
from state.fields import assign_changed
from state.practice import DRILL_UNITS
from state.session import GuardedRead, SessionState
from state.support import NpsState


def _continue_target(item: practice.ContinueItem) -> tuple[str, str]:
    """(title naming the unit or conversation, link that opens that very phrase)."""
    if item.dialogue_id:
        try:
            title = curriculum.get_dialogue(item.dialogue_id).title
        except SayZhongError:
            title = "Conversation"
        return f"Conversation: {title}", f"{routes.DIALOGUE}?id={item.dialogue_id}"
    if item.unit_id:
        return item.unit_title or "Lesson", f"{routes.PRACTICE}?unit={item.unit_id}&item={item.item_id}"
    if item.kind == "drill":
        single = any(d.id == item.item_id for d in curriculum.tone_drills().syllables)
        unit_id = "drills-syllables" if single else "drills-pairs"
        return DRILL_UNITS[unit_id][0], f"{routes.PRACTICE}?unit={unit_id}&item={item.item_id}"
    return "Lessons", routes.LEARN


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_TONE_KEYS = {tone: f"t{tone}" for tone in range(1, 5)}


@lru_cache(maxsize=512)
def _day_label(day: date) -> str:
    """ "05 Nov": a chart axis label, without strftime (every home load labels 30 days)."""
    return f"{day.day:02d} {_MONTHS[day.month - 1]}"


def _chart_rows(points: Sequence[DailyTonePoint]) -> list[dict[str, Any]]:
    """One row per day ("05 Nov", accuracy per tone as t1..t4), oldest first; empty with fewer than
    3 days (a line needs points to join: the table alone says more)."""
    by_day: dict[date, dict[str, Any]] = {}
    for p in points:
        row = by_day.get(p.date)
        if row is None:
            row = by_day[p.date] = {"date": _day_label(p.date)}
        row[_TONE_KEYS.get(p.tone) or f"t{p.tone}"] = round(100 * p.accuracy)
    return [by_day[d] for d in sorted(by_day)] if len(by_day) >= 3 else []


HomeData = tuple[HomeSummary, ToneStats, tuple[DailyTonePoint, ...], bool]


def home_guard(now: datetime) -> GuardedRead[HomeData]:
    """The home page's reads in its guard's unit of work: its figures (the guard's statement reads
    most of them: `practice.HOME_READS`) and whether to ask the NPS question. Immutable values, so
    a worker's guard cache may serve them again ("home")."""

    def _read(session: Session, user: UserInfo, row: tuple[Any, ...]) -> HomeData:
        summary, stats, points = practice.home_page(session=session, user=user, now=now, row=row)
        nps_due = feedback.should_ask_nps(session=session, user_id=user.id, signed_up_at=user.created_at)
        return summary, stats, tuple(points), nps_due

    return GuardedRead(_read, page=practice.HOME_READS, params=practice.home_params(now), cache_as="home")


class HomeState(rx.State):
    loaded: bool = False
    onboarding_finished: bool = True
    continue_title: str = ""
    continue_hanzi: str = ""
    continue_detail: str = ""
    """The phrase's pinyin and meaning, under its characters."""
    continue_href: str = ""
    reviews_due: int = 0
    also_worth_another_go: int = 0
    streak_days: int = 0
    xp_today: int = 0
    xp_total: int = 0
    goal_minutes: int = 10
    minutes_today: int = 0
    goal_percent: int = 0
    weakest_tone: str = ""
    tone_rows: list[dict[str, Any]] = []
    pair_rows: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    chart: rx.Field[list[dict[str, Any]]] = rx.field(default_factory=list)

    @rx.event
    async def load(self):
        """The home page's only on-load handler: it is the page's guard too (`loader_guards`), so
        the sign-in check, the privacy gate and the page's figures are one event and one unit of
        work per load."""

        session_state = await self.get_state(SessionState)
        redirect, data = await session_state._guard_page(home_guard(utcnow()))
        if redirect is not None or data is None:
            return redirect
        summary, stats, points, nps_due = data
        nps = await self.get_state(NpsState)
        if nps.due != nps_due or nps.thanks:
            nps.show(nps_due)
        values: dict[str, Any] = {"onboarding_finished": summary.onboarding_finished}
        item = summary.continue_item
        if item is not None:
            title, href = _continue_target(item)
            values |= {
                "continue_title": title,
                "continue_hanzi": item.hanzi,
                "continue_detail": f"{with_tone_marks(item.pinyin)} — {item.english}",
                "continue_href": href,
            }
        elif summary.recommended_unit_id:
            values |= {
                "continue_title": "Your recommended unit",
                "continue_hanzi": "",
                "continue_detail": "",
                "continue_href": f"{routes.PRACTICE}?unit={summary.recommended_unit_id}",
            }
        else:
            values |= {
                "continue_title": "Start with the first unit",
                "continue_hanzi": "",
                "continue_detail": "",
                "continue_href": routes.LEARN,
            }
        weakest = summary.weakest_tone
        values |= {
            "reviews_due": summary.reviews_due,
            "also_worth_another_go": summary.also_worth_another_go,
            "streak_days": summary.streak_days,
            "xp_today": summary.xp_today,
            "xp_total": summary.xp_total,
            "goal_minutes": summary.goal_minutes,
            "minutes_today": round(summary.minutes_today),
            "goal_percent": min(100, round(100 * summary.minutes_today / max(1, summary.goal_minutes))),
            "weakest_tone": f"Tone {weakest.tone}" if weakest is not None else "",
            "tone_rows": [
                {
                    "tone": f"Tone {t.tone}",
                    "accuracy": "–" if t.accuracy is None else f"{round(100 * t.accuracy)}%",
                    "count": str(t.total),
                }
                for t in stats.tones
            ],
            "pair_rows": [
                {
                    "pair": f"Tone {p.first} → tone {p.second}",
                    "accuracy": "–" if p.accuracy is None else f"{round(100 * p.accuracy)}%",
                    "count": str(p.total),
                }
                for p in stats.weakest_pairs
            ],
        }
        values["chart"] = _chart_rows(points)
        values["loaded"] = True
        # Only what changed since the last load is sent (a return visit: usually nothing).
        assign_changed(self, values)
        return None
