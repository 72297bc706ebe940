"""Onboarding: goal and level, a microphone check that calibrates scoring to the learner's voice,
a five-phrase spoken placement, and a recommended starting unit."""

from __future__ import annotations

import asyncio
import shutil
from typing import Any

import reflex as rx

from sayzhong import routes
from sayzhong.errors import SayZhongError
from sayzhong.http.practice import CALIBRATION_TAKE, calibration_dir
from sayzhong.practice import service as practice
from sayzhong.practice.schemas import GOALS, LEVELS
from state.practice import PinyinSyllable, ScoringState, backend, pinyin_syllables
from state.session import SessionState, run_in_session

GOAL_LABELS = {
    "travel": "Travel and getting around",
    "work": "Work and business",
    "heritage": "Family and heritage",
    "fun": "Fun and culture",
    "study": "Study or an exam",
}
LEVEL_LABELS = {
    "new": "I'm brand new to Mandarin",
    "some": "I know some words and phrases",
    "intermediate": "I can hold simple conversations",
}


class OnboardingState(ScoringState):
    step: str = "questions"
    goal: str = ""
    level: str = ""
    form_error: str = ""
    prompt_index: int = 0
    prompt_count: int = 0
    prompt_text: str = ""
    prompt_pinyin: str = ""
    prompt_english: str = ""
    prompt_syllables: list[PinyinSyllable] = []
    profile_note: str = ""
    placement: list[dict[str, Any]] = []
    placement_attempts: list[int] = []
    recommended_title: str = ""
    recommended_reason: str = ""
    recommended_href: str = ""

    @rx.var
    def calibration_url(self) -> str:
        return backend(CALIBRATION_TAKE)

    async def _user_id(self) -> int | None:
        session_state = await self.get_state(SessionState)
        user = await session_state.current_user()
        return user.id if user else None

    def _show_calibration_prompt(self) -> None:
        prompts = practice.calibration_prompts()
        self.prompt_count = len(prompts)
        prompt = prompts[self.prompt_index]
        self.item_id = str(self.prompt_index)
        self.prompt_text, self.prompt_english = prompt.text, prompt.english
        self.prompt_pinyin = prompt.pinyin
        self.prompt_syllables = [
            PinyinSyllable(text=text, tone=tone)
            for text, tone in zip(prompt.pinyin.split(), prompt.tones, strict=False)
        ]
        self.clear_result()

    def _show_placement_prompt(self) -> None:
        self.prompt_count = len(self.placement)
        item = self.placement[self.prompt_index]
        self.item_id = item["id"]
        self.prompt_text, self.prompt_english, self.prompt_pinyin = (
            item["hanzi"],
            item["english"],
            item["pinyin"],
        )
        self.prompt_syllables = pinyin_syllables(item["pinyin"])
        self.clear_result()

    def _enter(self, step: str) -> None:
        self.step = step
        self.prompt_index = 0
        if step == "mic_check":
            self._show_calibration_prompt()
        elif step == "placement":
            self.placement = [
                {"id": p.id, "hanzi": p.hanzi, "pinyin": p.pinyin, "english": p.english}
                for p in practice.placement_prompts()
            ]
            self.placement_attempts = []
            self._show_placement_prompt()

    @rx.event
    async def load(self) -> None:
        user_id = await self._user_id()
        if user_id is None:
            return
        state = await run_in_session(
            lambda session: practice.start_onboarding(session=session, user_id=user_id)
        )
        self.goal, self.level = state.goal or "", state.level or ""
        self.form_error = self.profile_note = ""
        redo = self.router.url.query_parameters.get("step") == "mic"
        self._enter("mic_check" if redo else ("questions" if state.next_step == "done" else state.next_step))

    @rx.event
    async def save_answers(self, form: dict[str, Any]) -> None:
        goal, level = str(form.get("goal", ""))[:20], str(form.get("level", ""))[:20]
        if goal not in GOALS or level not in LEVELS:
            self.form_error = "Please choose a goal and your level."
            return
        user_id = await self._user_id()
        if user_id is None:
            return
        try:
            await run_in_session(
                lambda session: practice.save_onboarding_answers(
                    session=session, user_id=user_id, goal=goal, level=level
                )
            )
        except SayZhongError as exc:
            self.form_error = exc.user_message
            return
        self.goal, self.level, self.form_error = goal, level, ""
        self._enter("mic_check")

    @rx.event
    async def on_scored(self, attempt_id: str) -> None:
        if self.step == "mic_check":
            if self.prompt_index + 1 < self.prompt_count:
                self.prompt_index += 1
                self._show_calibration_prompt()
                return
            await self._build_profile()
            return
        if self.step == "placement":
            view = await self._load_attempt(attempt_id)
            if view is None:
                return
            self.placement_attempts.append(view.id)

    @rx.event
    def next_placement(self) -> None:
        if self.prompt_index + 1 < len(self.placement):
            self.prompt_index += 1
            self._show_placement_prompt()

    async def _build_profile(self) -> None:
        user_id = await self._user_id()
        if user_id is None:
            return
        prompts = practice.calibration_prompts()
        folder = calibration_dir(user_id)

        def _samples() -> list[tuple[bytes, str]]:
            return [
                ((folder / f"{i}.take").read_bytes(), p.text)
                for i, p in enumerate(prompts)
                if (folder / f"{i}.take").exists()
            ]

        samples = await asyncio.to_thread(_samples)
        try:
            summary = await run_in_session(
                lambda session: practice.save_speaker_profile(
                    session=session, user_id=user_id, samples=samples
                )
            )
        except SayZhongError as exc:
            self.error = exc.user_message + " Let's try the microphone check again."
            self._enter("mic_check")
            return
        finally:
            await asyncio.to_thread(shutil.rmtree, folder, True)
        self.profile_note = (
            f"Your voice centres around {round(summary.median_hz)} Hz with a range of "
            f"{summary.range_semitones:.0f} semitones. From now on every score is judged against "
            "your own voice."
        )
        self.step = "mic_done"

    @rx.event
    def start_placement(self) -> None:
        self._enter("placement")

    @rx.event
    async def skip_mic_check(self) -> None:
        self._enter("placement")

    @rx.event
    async def finish_placement(self) -> None:
        user_id = await self._user_id()
        if user_id is None:
            return
        ids = list(self.placement_attempts)
        rec = await run_in_session(
            lambda session: practice.recommend_unit(
                session=session, user_id=user_id, placement_attempt_ids=ids
            )
        )
        self.recommended_title, self.recommended_reason = rec.title, rec.reason
        self.recommended_href = f"{routes.PRACTICE}?unit={rec.unit_id}"
        self.step = "done"

    @rx.event
    async def finish(self):
        user_id = await self._user_id()
        if user_id is None:
            return None
        await run_in_session(lambda session: practice.finish_onboarding(session=session, user_id=user_id))
        return rx.redirect(self.recommended_href or routes.LEARN)
