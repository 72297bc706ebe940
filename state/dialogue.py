"""Role-play dialogues: partner lines appear and play, the learner speaks their lines (scored like
practice), chooses a branch where offered, and gets a summary with the weakest syllables."""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from sayzhong.curriculum import service as curriculum
from sayzhong.curriculum.models import LearnerTurn, PartnerTurn
from sayzhong.errors import SayZhongError
from sayzhong.practice import service as practice
from state.practice import PinyinSyllable, ScoringState, guard_plan_page, pinyin_syllables, reference_url
from state.session import SessionState, run_in_session

MAX_TURNS = 40  # guards against a malformed graph looping forever


@dataclasses.dataclass
class TranscriptLine:
    speaker: str
    hanzi: str
    english: str
    syllables: list[PinyinSyllable]
    audio: str
    score: str


@dataclasses.dataclass
class WeakSyllable:
    grapheme: str
    pinyin: str
    expected: str
    heard: str
    hint: str


LINE_SAID = ("ok", "extra_speech")
"""Takes that said the whole line (perhaps with more): the conversation moves on by itself."""


class DialogueState(ScoringState):
    dialogue_id: str = ""
    title: str = ""
    scenario: str = ""
    not_found: bool = False
    transcript: list[TranscriptLine] = []
    options: rx.Field[list[dict[str, Any]]] = rx.field(default_factory=list)
    hint: str = ""
    chosen: str = ""
    chosen_hanzi: str = ""
    chosen_english: str = ""
    chosen_syllables: list[PinyinSyllable] = []
    chosen_next: str = ""
    finished: bool = False
    attempt_ids: list[int] = []
    summary_pron: int = 0
    summary_tone: int = 0
    summary_scored: int = 0
    held_attempt: int = 0
    """A take that did not say the whole line: the learner retries, or keeps it and moves on."""
    holding: bool = False
    held_score: str = ""
    weakest: rx.Field[list[WeakSyllable]] = rx.field(default_factory=list)

    def _advance(self, turn_id: str | None) -> None:
        """Show partner turns until the learner must speak, or the dialogue ends."""
        dialogue = curriculum.get_dialogue(self.dialogue_id)
        steps = 0
        self.options, self.chosen, self.item_id = [], "", ""
        self.holding, self.held_attempt, self.held_score = False, 0, ""
        while turn_id and steps < MAX_TURNS:
            steps += 1
            turn = curriculum.get_turn(dialogue.id, turn_id)
            if isinstance(turn, PartnerTurn):
                self.transcript.append(
                    TranscriptLine(
                        speaker="partner",
                        hanzi=turn.hanzi,
                        english=turn.english,
                        syllables=pinyin_syllables(turn.pinyin),
                        audio=reference_url(f"{dialogue.id}.{turn.id}"),
                        score="",
                    )
                )
                turn_id = turn.next
                continue
            assert isinstance(turn, LearnerTurn)
            self.hint = turn.hint
            self.options = [
                {
                    "id": option.id,
                    "item_id": f"{dialogue.id}.{option.id}",
                    "hanzi": option.hanzi,
                    "pinyin": option.pinyin,
                    "english": option.english,
                    "next": option.next or "",
                }
                for option in turn.options
            ]
            if len(self.options) == 1:
                self._choose(self.options[0]["id"])
            return
        self.finished = True

    def _choose(self, option_id: str) -> None:
        option = next((o for o in self.options if o["id"] == option_id), None)
        if option is None:
            return
        self.chosen = option["id"]
        self.item_id = option["item_id"]
        self.chosen_hanzi = option["hanzi"]
        self.chosen_english = option["english"]
        self.chosen_syllables = pinyin_syllables(option["pinyin"])
        self.chosen_next = option["next"]
        self.holding, self.held_attempt, self.held_score = False, 0, ""
        self.clear_result()

    @rx.event
    async def load(self):
        """The role-play page's only on-load handler, its guard too (`loader_guards`, as the lesson
        pages'): the sign-in check, the privacy gate and the plan in one statement."""
        redirect, locked = await guard_plan_page(self)
        if locked is None:
            return redirect
        dialogue_id = str(self.router.url.query_parameters.get("id", ""))[:80]
        self.transcript, self.attempt_ids, self.weakest = [], [], []
        self.finished = False
        self.clear_result()
        try:
            dialogue = curriculum.get_dialogue(dialogue_id)
        except SayZhongError:
            self.not_found = True
            return None
        self.not_found = False
        self.dialogue_id, self.title, self.scenario = dialogue.id, dialogue.title, dialogue.scenario
        self._advance(dialogue.start)
        self._say_if_locked(dialogue.unit, locked)  # a Plus role-play: the same message and upgrade path
        return None

    @rx.event
    def choose(self, option_id: str) -> None:
        self._choose(str(option_id)[:80])

    @rx.event
    async def on_scored(self, attempt_id: str):
        view = await self._load_attempt(attempt_id)
        if view is None:
            return
        if view.said_status not in LINE_SAID:
            # Part of the line, another phrase, or nothing: the result card says which. The learner
            # stays on this turn to try again, or moves on by choice (keeping a partial take's score),
            # instead of the story moving on as if they had answered.
            self.holding = True
            self.held_attempt = view.id if view.counted else 0
            self.held_score = str(round(view.pron)) if view.counted else ""
            return
        self.attempt_ids.append(view.id)
        await self._say_line(score=str(round(view.pron)))

    @rx.event
    async def move_on(self):
        """Leave a line the learner did not fully say: keep the partial take, or skip the line."""
        if self.finished or not self.chosen or not self.holding:
            return
        if self.held_attempt:
            self.attempt_ids.append(self.held_attempt)
        await self._say_line(score=self.held_score)

    async def _say_line(self, *, score: str) -> None:
        self.transcript.append(
            TranscriptLine(
                speaker="learner",
                hanzi=self.chosen_hanzi,
                english=self.chosen_english,
                syllables=list(self.chosen_syllables),
                audio="",
                score=score,
            )
        )
        self._advance(self.chosen_next or None)
        if self.finished:
            await self._summarise()

    async def _summarise(self) -> None:
        session_state = await self.get_state(SessionState)
        user = await session_state.current_user()
        self.summary_scored = 0
        if user is None or not self.attempt_ids:
            return
        ids = list(self.attempt_ids)
        summary = await run_in_session(
            lambda session: practice.dialogue_summary(session=session, user_id=user.id, attempt_ids=ids)
        )
        self.summary_scored = summary.attempts
        self.summary_pron = round(summary.average_pron or 0)
        self.summary_tone = round(summary.average_tone or 0)
        self.weakest = [
            WeakSyllable(
                grapheme=w.grapheme,
                pinyin=w.pinyin,
                expected=str(w.expected_tone),
                heard=str(w.detected_tone) if w.detected_tone else "unclear",
                hint=w.hint,
            )
            for w in summary.weakest
        ]

    @rx.event
    def restart(self) -> None:
        self.transcript, self.attempt_ids, self.weakest = [], [], []
        self.finished = False
        self.clear_result()
        self._advance(curriculum.get_dialogue(self.dialogue_id).start)
