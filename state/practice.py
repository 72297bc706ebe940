"""Speaking practice: the lesson list, phrase practice and the shared scoring result handling.

The browser uploads a take straight to the cookie-authenticated route `/practice/attempts`; the
recorder then fires `on_scored(attempt_id)` and these handlers load the stored result.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import reflex as rx
from reflex.event import EventSpec

from sayzhong import routes
from sayzhong.curriculum import service as curriculum
from sayzhong.curriculum.pinyin import tones_of, with_tone_marks
from sayzhong.errors import SayZhongError
from sayzhong.http.practice import UPLOAD_ATTEMPT
from sayzhong.ops.warmup import startup_load
from sayzhong.practice import service as practice
from sayzhong.practice.hints import NEUTRAL, heard_phrase, phrase_tone_changes, result_announcement
from sayzhong.settings import get_settings
from state.fields import assign_changed
from state.session import GuardedRead, SessionState, run_in_session

MIC_CODES = frozenset({"mic_denied", "mic_missing", "mic_busy", "mic_unsupported", "mic_error"})
TONE_NAMES = {1: "1 (high)", 2: "2 (rising)", 3: "3 (dipping)", 4: "4 (falling)", 5: "neutral"}
VERDICT_LABELS = {
    "correct": "Correct",
    "wrong_tone": "Wrong tone",
    "unclear": "Not sure",
    "neutral": "Neutral",
    "not_said": "Not heard",
}
WARNING_TEXT = {
    "clipped": "Your take was a little too loud (distorted), so some pitch may be off. "
    "Move back from the microphone a bit.",
}


@dataclasses.dataclass
class PinyinSyllable:
    text: str
    tone: int


@dataclasses.dataclass
class SyllableCard:
    grapheme: str
    pinyin: str
    verdict: str
    verdict_label: str
    expected_label: str
    heard_label: str
    hint: str
    score: int
    tone_changes: list[str]
    """The same tone-change note the phrase card shows, for this syllable only ([] when none)."""
    points: list[dict[str, float | None]]
    """Chart rows {"x", "learner", "target"} on the Chao scale."""
    attempt_id: int = 0
    position: int = 0
    """Which syllable of which attempt ("Was this right?" feedback, support centre issue 13)."""


def pinyin_syllables(pinyin: str) -> list[PinyinSyllable]:
    marked = with_tone_marks(pinyin).split()
    try:
        tones = tones_of(pinyin)
    except SayZhongError:
        tones = []
    if len(tones) != len(marked):
        tones = [5] * len(marked)
    return [PinyinSyllable(text=text, tone=tone) for text, tone in zip(marked, tones, strict=True)]


def backend(path: str) -> str:
    return get_settings().backend_url.rstrip("/") + path


def reference_url(item_id: str) -> str:
    return backend(f"/practice/reference/{item_id}") if item_id else ""


CHART_POINTS = 24


def resample(values: list[float | None], n: int = CHART_POINTS) -> list[float | None]:
    """Spread a contour over `n` points across the syllable (linear; gaps stay gaps)."""
    if not values:
        return [None] * n
    if len(values) == 1:
        return [values[0]] * n
    out: list[float | None] = []
    last = len(values) - 1
    for i in range(n):
        pos = i * last / (n - 1)
        lo = int(pos)
        hi = min(lo + 1, last)
        a, b = values[lo], values[hi]
        if a is None or b is None:
            out.append(a if b is None else b if a is None else None)
            continue
        out.append(round(a + (b - a) * (pos - lo), 2))
    return out


def syllable_cards(view: practice.AttemptView) -> list[SyllableCard]:
    cards = []
    for position, syl in enumerate(view.syllables):
        # Both contours cover the syllable from start to end; put them on one time axis.
        learner = resample(list(syl.learner_contour))
        target = resample(list(syl.target_contour))
        points: list[dict[str, float | None]] = [
            {"x": float(i), "learner": learner[i], "target": target[i]} for i in range(CHART_POINTS)
        ]
        if syl.verdict == "neutral" or syl.expected_tone == NEUTRAL:
            expected = "Neutral tone: light and short"
        else:
            expected = f"Expected tone {TONE_NAMES.get(syl.expected_tone, str(syl.expected_tone))}"
        said_tone = syl.expected_tone if syl.verdict == "correct" else syl.detected_tone
        if syl.verdict in ("correct", "wrong_tone") and said_tone in TONE_NAMES:
            heard = f"you said {TONE_NAMES[said_tone]}"
        else:
            heard = heard_phrase(syl.verdict, syl.expected_tone, syl.detected_tone, syl.neutral_check)
        cards.append(
            SyllableCard(
                grapheme=syl.grapheme,
                pinyin=with_tone_marks(syl.pinyin) if syl.pinyin else "",
                verdict=syl.verdict,
                verdict_label=VERDICT_LABELS.get(syl.verdict, syl.verdict),
                expected_label=expected,
                heard_label=heard,
                hint=syl.hint,
                score=round(syl.tone_score),
                tone_changes=[syl.tone_change] if syl.tone_change else [],
                points=points,
                attempt_id=view.id,
                position=position,
            )
        )
    return cards


class ScoringState(rx.State):
    """Result handling shared by practice, dialogues, review and onboarding."""

    item_id: str = ""
    status: str = "idle"
    error: str = ""
    mic_error: str = ""
    plan_limited: bool = False
    """The last refusal was a plan limit (402): the page offers the upgrade path."""
    has_result: bool = False
    attempt_id: int = 0
    pron: int = 0
    said: int = 0
    """How much of the phrase was heard (the completeness score), 0-100."""
    fluency: int = 0
    tone: int = 0
    engine_note: str = ""
    said_message: str = ""
    """Set when the phrase was not (fully) said: shown above the result in plain words."""
    not_said: bool = False
    result_syllables: list[SyllableCard] = []
    announcement: str = ""
    """Read out by the polite live region when a result arrives ("3 of 4 syllables right; …")."""

    @rx.var
    def result_key(self) -> str:
        """Changes once per shown result: the result region takes focus when it does."""
        return str(self.attempt_id) if self.has_result else ""

    @rx.var
    def share_href(self) -> str:
        """Issue 14: "Share this result" opens the invite-and-share page with this take picked."""
        if not self.has_result or self.not_said or not self.attempt_id:
            return ""
        return f"{routes.INVITE}?attempt={self.attempt_id}"

    @rx.var
    def upload_url(self) -> str:
        return backend(UPLOAD_ATTEMPT)

    @rx.var
    def reference_audio_url(self) -> str:
        return reference_url(self.item_id)

    @rx.var
    def attempt_audio_url(self) -> str:
        return backend(f"/practice/attempts/{self.attempt_id}/audio") if self.attempt_id else ""

    def clear_result(self) -> None:
        # Only what differs: every page load clears the panel, and each assignment is re-sent.
        assign_changed(
            self,
            {
                "has_result": False,
                "error": "",
                "plan_limited": False,  # goes with `error` (the upgrade path shown under it)
                "mic_error": "",
                "attempt_id": 0,
                "result_syllables": [],
                "said_message": "",
                "not_said": False,
                "announcement": "",
            },
        )

    def _say_if_locked(self, unit_id: str, locked: frozenset[str]) -> bool:
        """Billing (issue 12): a unit the learner's plan does not include (`locked`, as the page's
        guard read it: `guard_plan_page`) says so before any recording, with the upgrade path
        (`scoring_feedback` shows it under the message)."""
        if unit_id not in locked:
            return False
        from sayzhong.billing.entitlements import locked_unit_message

        self.error, self.plan_limited = locked_unit_message(unit_id), True
        return True

    async def _load_attempt(self, attempt_id: str) -> practice.AttemptView | None:
        session_state = await self.get_state(SessionState)
        user = await session_state.current_user()
        if user is None:
            self.error = "Your session has ended. Please sign in again."
            return None
        try:
            ident = int(attempt_id)
            view = await run_in_session(
                lambda session: practice.get_attempt(session=session, user_id=user.id, attempt_id=ident)
            )
        except (ValueError, SayZhongError):
            self.error = "We could not load that result. Please try again."
            return None
        self.attempt_id = view.id
        self.pron, self.said = round(view.pron), round(view.completeness)
        self.fluency, self.tone = round(view.fluency), round(view.tone or 0)
        self.result_syllables = syllable_cards(view)
        notes = [f"Scored by the {view.engine} engine"]
        notes.append(
            "calibrated to your voice" if view.speaker_profile_used else "not yet calibrated to your voice"
        )
        self.engine_note = ", ".join(notes) + "."
        self.not_said = not view.counted
        extra = [WARNING_TEXT[w] for w in view.warnings if w in WARNING_TEXT]
        self.said_message = " ".join([*([view.said_message] if view.said_message else []), *extra])
        self.announcement = (
            self.said_message
            if self.not_said
            else result_announcement(view.syllables, said_message=self.said_message)
        )
        self.has_result = True
        self.error = ""
        return view

    @rx.event
    async def on_scored(self, attempt_id: str) -> None:
        await self._load_attempt(attempt_id)

    @rx.event
    def on_error(self, message: str, code: str) -> None:
        code = str(code)[:40]
        if code in MIC_CODES:
            self.mic_error = code
            self.error = ""
            return
        self.plan_limited = code in ("daily_limit", "plan_required")  # billing (issue 12)
        self.error = str(message)[:400] or "Something went wrong while scoring. Your take is kept; try again."

    @rx.event
    def on_status(self, status: str) -> None:
        self.status = str(status)[:20]
        if self.status == "recording":
            self.error = ""
            self.mic_error = ""


class LearnState(rx.State):
    units: list[dict[str, Any]] = []
    dialogues: list[dict[str, Any]] = []

    @rx.event
    async def load(self):
        """The lesson list's only on-load handler, its guard too (`loader_guards`): the sign-in
        check, the privacy gate and the plan (issue 12: mark what needs Plus) in one statement."""
        redirect, locked = await guard_plan_page(self)
        if locked is None:
            return redirect
        units = [
            {
                "id": unit.id,
                "title": unit.title,
                "description": unit.description,
                "count": len(unit.phrases),
                "href": f"{routes.PRACTICE}?unit={unit.id}",
                "locked": unit.id in locked,
            }
            for unit in curriculum.list_units()
        ]
        dialogues = [
            {
                "id": d.id,
                "title": d.title,
                "scenario": d.scenario,
                "href": f"{routes.DIALOGUE}?id={d.id}",
                "locked": d.unit in locked,
            }
            for d in curriculum.list_dialogues()
        ]
        # The same lists on every return to the page: assigned (and sent) only when they change.
        assign_changed(self, {"units": units, "dialogues": dialogues})
        return None


def _plan_from_row(_session: Any, _user: Any, row: tuple[Any, ...]) -> frozenset[str]:
    from sayzhong.billing.entitlements import locked_units_for

    return locked_units_for(bool(row[0]))


async def guard_plan_page(state: rx.State) -> tuple[EventSpec | None, frozenset[str] | None]:
    """A lesson page's guard, whose plan check rides in the session lookup (`PLUS_READS`, issue
    16: one statement per load): (where to send the browser instead, None) or (None, the units
    the learner's plan does not include)."""
    session_state = await state.get_state(SessionState)
    return await session_state._guard_page(plan_guard())


def plan_guard() -> GuardedRead[frozenset[str]]:
    """The lesson pages' reads in their guard's statement: whether the plan includes Plus
    (`PLUS_READS`), as the units it locks. Immutable, so a worker's guard cache may serve it ("plan")."""
    from sayzhong.billing.entitlements import PLUS_READS, plus_params
    from sayzhong.db import utcnow

    return GuardedRead(_plan_from_row, page=PLUS_READS, params=plus_params(utcnow()), cache_as="plan")


DRILL_UNITS = {
    "drills-syllables": ("Tone drills: single syllables", "Each of the four tones on its own."),
    "drills-pairs": (
        "Tone drills: two-syllable pairs",
        "All 20 tone combinations, third-tone sandhi included.",
    ),
}


def _unit_items(unit_id: str) -> tuple[str, list[dict[str, Any]]]:
    drills = curriculum.tone_drills()
    if unit_id == "drills-syllables":
        items = [
            {"id": d.id, "hanzi": d.hanzi, "pinyin": d.pinyin, "english": d.english, "note": ""}
            for d in drills.syllables
        ]
        return DRILL_UNITS[unit_id][0], items
    if unit_id == "drills-pairs":
        items = [
            {"id": d.id, "hanzi": d.hanzi, "pinyin": d.pinyin, "english": d.english, "note": d.note}
            for d in (*drills.pairs, *drills.sandhi)
        ]
        return DRILL_UNITS[unit_id][0], items
    unit = curriculum.get_unit(unit_id)
    items = [
        {"id": p.id, "hanzi": p.hanzi, "pinyin": p.pinyin, "english": p.english, "note": p.note}
        for p in unit.phrases
    ]
    return unit.title, items


async def with_tone_changes(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each item with its "tone_changes" notes; text analysis runs in a worker thread (the first
    call loads the word dictionaries)."""

    def _work() -> list[dict[str, Any]]:
        return [{**item, "tone_changes": phrase_tone_changes(item["hanzi"])} for item in items]

    return await asyncio.to_thread(_work)


async def warm_up_tone_notes() -> None:
    """Lifespan task: load the text-analysis dictionaries once at start, not on a learner's click.
    Readiness waits for it (`startup_load`)."""
    with startup_load("tone-notes"):
        await asyncio.to_thread(phrase_tone_changes, "你好")


class PracticeState(ScoringState):
    unit_id: str = ""
    unit_title: str = ""
    items: list[dict[str, Any]] = []
    index: int = 0
    not_found: bool = False
    loaded: bool = False
    """False until `load` has run: the page shows a skeleton, never an empty card."""

    @rx.var
    def total(self) -> int:
        return len(self.items)

    @rx.var
    def position(self) -> str:
        return f"{self.index + 1} of {len(self.items)}" if self.items else ""

    @rx.var
    def hanzi(self) -> str:
        return self.items[self.index]["hanzi"] if self.items else ""

    @rx.var
    def english(self) -> str:
        return self.items[self.index]["english"] if self.items else ""

    @rx.var
    def note(self) -> str:
        return self.items[self.index]["note"] if self.items else ""

    @rx.var
    def syllables(self) -> list[PinyinSyllable]:
        return pinyin_syllables(self.items[self.index]["pinyin"]) if self.items else []

    @rx.var
    def tone_changes(self) -> list[str]:
        """Worked out in `load` (off the event loop) for every item of the unit."""
        return list(self.items[self.index].get("tone_changes", [])) if self.items else []

    @rx.var
    def next_label(self) -> str:
        """ "Next" for single syllables (tone drills), "Next phrase" for phrases."""
        if self.items and len(self.items[self.index]["pinyin"].split()) == 1:
            return "Next"
        return "Next phrase"

    @rx.var
    def is_last(self) -> bool:
        return self.index >= len(self.items) - 1

    def _show(self, index: int) -> None:
        index = max(0, min(index, len(self.items) - 1))
        assign_changed(self, {"index": index, "item_id": self.items[index]["id"] if self.items else ""})
        self.clear_result()

    @rx.event
    async def load(self):
        """The lesson page's only on-load handler, its guard too (`loader_guards`, as the lesson
        list's): one statement per load."""
        redirect, locked = await guard_plan_page(self)
        if locked is None:
            return redirect
        params = self.router.url.query_parameters
        unit_id = str(params.get("unit", ""))[:80]
        try:
            start = int(params.get("i", "0"))
        except ValueError:
            start = 0
        try:
            title, items = _unit_items(unit_id)
        except SayZhongError:
            self.not_found, self.items, self.unit_title, self.loaded = True, [], "", True
            return None
        values = {"not_found": False, "loaded": True, "unit_id": unit_id, "unit_title": title}
        assign_changed(self, values | {"items": await with_tone_changes(items)})
        wanted = str(params.get("item", ""))
        if wanted:
            start = next((i for i, item in enumerate(items) if item["id"] == wanted), start)
        self._show(start)
        self._say_if_locked(unit_id, locked)
        return None

    @rx.event
    def next_item(self) -> None:
        self._show(self.index + 1)

    @rx.event
    def previous_item(self) -> None:
        self._show(self.index - 1)

    @rx.event
    def retry(self) -> None:
        self.clear_result()


class ReviewState(PracticeState):
    """The review queue, practised with the same panel as a lesson: items due now first, then
    items missed recently that are not due yet ("also worth another go")."""

    empty: bool = False
    due_count: int = 0
    """Same number as on Home: `practice.reviews_due_count`."""

    @rx.var
    def due_label(self) -> str:
        return f"{self.due_count} due now"

    @rx.var
    def due_items(self) -> list[dict[str, Any]]:
        return [item for item in self.items if item.get("due_now", True)]

    @rx.var
    def also_items(self) -> list[dict[str, Any]]:
        return [item for item in self.items if not item.get("due_now", True)]

    @rx.event
    async def load(self) -> None:
        session_state = await self.get_state(SessionState)
        user = await session_state.current_user()
        if user is None:
            return

        def _load(session):
            queue = practice.review_queue(session=session, user_id=user.id, limit=20)
            return queue, practice.reviews_due_count(session=session, user_id=user.id)

        queue, self.due_count = await run_in_session(_load)
        self.unit_id, self.unit_title, self.not_found = "review", "Review", False
        self.items = [
            {
                "id": r.item_id,
                "hanzi": r.hanzi,
                "pinyin": r.pinyin,
                "english": r.english,
                "note": r.reason,
                "due_now": r.due_now,
            }
            for r in queue
        ]
        self.items = await with_tone_changes(self.items)
        self.empty = not self.items
        self.loaded = True
        if self.items:
            self._show(0)
