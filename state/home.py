"""Learner home: continue where you left off, reviews due, streak, accuracy per tone over time."""

from __future__ import annotations

from typing import Any

import reflex as rx

from sayzhong import routes
from sayzhong.practice import service as practice
from state.session import SessionState, run_in_session


class HomeState(rx.State):
    loaded: bool = False
    onboarding_finished: bool = True
    continue_title: str = ""
    continue_hanzi: str = ""
    continue_href: str = ""
    reviews_due: int = 0
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
        session_state = await self.get_state(SessionState)
        user = await session_state.current_user()
        if user is None:
            return None

        def _load(session):
            summary = practice.home_summary(session=session, user_id=user.id, user_timezone=user.timezone)
            stats = practice.tone_stats(session=session, user_id=user.id)
            points = practice.accuracy_over_time(
                session=session, user_id=user.id, days=30, user_timezone=user.timezone
            )
            return summary, stats, points

        summary, stats, points = await run_in_session(_load)
        self.onboarding_finished = summary.onboarding_finished
        item = summary.continue_item
        if item is not None:
            self.continue_hanzi = item.hanzi
            if item.dialogue_id:
                self.continue_title = "Conversation"
                self.continue_href = f"{routes.DIALOGUE}?id={item.dialogue_id}"
            else:
                self.continue_title = item.unit_title or "Lesson"
                self.continue_href = (
                    f"{routes.PRACTICE}?unit={item.unit_id}" if item.unit_id else routes.LEARN
                )
        elif summary.recommended_unit_id:
            self.continue_title, self.continue_hanzi = "Your recommended unit", ""
            self.continue_href = f"{routes.PRACTICE}?unit={summary.recommended_unit_id}"
        else:
            self.continue_title, self.continue_hanzi, self.continue_href = (
                "Start with the first unit",
                "",
                routes.LEARN,
            )
        self.reviews_due = summary.reviews_due
        self.streak_days = summary.streak_days
        self.xp_today, self.xp_total = summary.xp_today, summary.xp_total
        self.goal_minutes = summary.goal_minutes
        self.minutes_today = round(summary.minutes_today)
        self.goal_percent = min(100, round(100 * summary.minutes_today / max(1, summary.goal_minutes)))
        weakest = summary.weakest_tone
        self.weakest_tone = f"Tone {weakest.tone}" if weakest is not None else ""
        self.tone_rows = [
            {
                "tone": f"Tone {t.tone}",
                "accuracy": "–" if t.accuracy is None else f"{round(100 * t.accuracy)}%",
                "count": str(t.total),
            }
            for t in stats.tones
        ]
        self.pair_rows = [
            {
                "pair": f"Tone {p.first} → tone {p.second}",
                "accuracy": "–" if p.accuracy is None else f"{round(100 * p.accuracy)}%",
                "count": str(p.total),
            }
            for p in stats.weakest_pairs
        ]
        by_day: dict[str, dict[str, Any]] = {}
        for p in points:
            row = by_day.setdefault(p.date.isoformat(), {"date": p.date.strftime("%d %b")})
            row[f"t{p.tone}"] = round(100 * p.accuracy)
        self.chart = [by_day[k] for k in sorted(by_day)]
        self.loaded = True
        return None
