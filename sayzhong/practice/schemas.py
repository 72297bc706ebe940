"""Plain, frozen data the practice services hand to pages, the JSON API and jobs (never ORM objects).

Every view has `to_dict()` giving JSON-ready values (ISO 8601 timestamps, lists for tuples).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any

from sayzhong.db import as_utc
from sayzhong.practice.hints import neutral_feedback, tone_change_note, tone_hint
from sayzhong.practice.models import Attempt
from sayzhong.practice.results import ParsedSyllable, parse_result

MODES = ("practice", "dialogue", "placement", "calibration", "review")
IDEMPOTENCY_KEY_PATTERN = "^[A-Za-z0-9._:-]{8,128}$"
"""A client-chosen key that makes resubmitting the same take return the stored attempt."""
ITEM_ID_PATTERN = "^[a-z0-9][a-z0-9._-]{0,199}$"
GOALS = ("travel", "work", "heritage", "fun", "study")
LEVELS = ("new", "some", "intermediate")


def _jsonable(value: Any) -> Any:
    if isinstance(value, _ToDict):
        return value.to_dict()
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


class _ToDict:
    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        return {f.name: _jsonable(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class SyllableView(_ToDict):
    grapheme: str
    pinyin: str
    """Numbered pinyin with the dictionary tone, e.g. "hao3"."""
    expected_tone: int
    """Surface tone the learner should say: 1-4, or 5 for neutral (not judged)."""
    detected_tone: int | None
    tone_score: float
    """0-100: how clearly the expected tone was heard."""
    confidence: float
    """0-1: how sure the engine is about `detected_tone`."""
    verdict: str
    """correct | wrong_tone | unclear | neutral | not_said"""
    hint: str
    learner_contour: tuple[float, ...]
    """The learner's pitch on the Chao scale (1 low … 5 high)."""
    target_contour: tuple[float, ...]
    learner_times_ms: tuple[float, ...] = ()
    """Time of each learner point from the start of the take (empty if the engine gave none)."""
    target_times_ms: tuple[float, ...] = ()
    neutral_check: str | None = None
    """Neutral-tone syllables: "light" (fine) or "long" (stressed); None when not checked."""
    tone_change: str = ""
    """Plain note when sandhi changes the dictionary tone ("你 nǐ is said ní here …"), else ""."""

    @classmethod
    def from_parsed(cls, syl: ParsedSyllable) -> SyllableView:
        if syl.verdict == "correct":
            hint = tone_hint(syl.expected_tone, syl.expected_tone)
        elif syl.verdict == "wrong_tone" and syl.detected_tone not in (None, syl.expected_tone):
            hint = tone_hint(syl.expected_tone, syl.detected_tone)
        elif syl.verdict == "neutral":
            hint = neutral_feedback(syl.neutral_check)
        elif syl.verdict == "not_said":
            hint = "We didn't hear this syllable. Say the whole phrase."
        else:
            hint = tone_hint(syl.expected_tone, None)
        return cls(
            grapheme=syl.grapheme,
            pinyin=syl.pinyin,
            expected_tone=syl.expected_tone,
            detected_tone=syl.detected_tone,
            tone_score=syl.tone_score,
            confidence=syl.confidence,
            verdict=syl.verdict,
            hint=hint,
            learner_contour=syl.learner_contour,
            target_contour=syl.target_contour,
            learner_times_ms=syl.learner_times_ms,
            target_times_ms=syl.target_times_ms,
            neutral_check=syl.neutral_check,
            tone_change=tone_change_note(syl.grapheme, syl.pinyin, syl.expected_tone),
        )


@dataclass(frozen=True, slots=True)
class AttemptView(_ToDict):
    id: int
    item_id: str
    text: str
    mode: str
    engine: str
    created_at: datetime
    accuracy: float
    fluency: float
    completeness: float
    pron: float
    tone: float | None
    """Mean tone score of the judged syllables; None when nothing could be judged."""
    speaker_profile_used: bool
    syllables: tuple[SyllableView, ...]
    has_audio: bool = False
    duration_s: float | None = None
    xp_awarded: int = 0
    """XP this submission earned (0 when an idempotent retry returned an existing attempt)."""
    replayed: bool = False
    """True when `score_attempt` returned an attempt already stored under the idempotency key."""
    said_status: str = "ok"
    """Whether the phrase was said: ok | no_speech | different_text | partial | extra_speech."""
    said_message: str | None = None
    """A plain sentence when it was not (or only partly) said, e.g. "We didn't hear 你好 — try again"."""
    counted: bool = True
    """False when the phrase was not said: kept for replay, not counted in statistics or review."""
    warnings: tuple[str, ...] = ()
    """Problems that did not stop scoring, e.g. "clipped"."""

    @property
    def wrong_tones(self) -> tuple[SyllableView, ...]:
        return tuple(s for s in self.syllables if s.verdict == "wrong_tone")

    @classmethod
    def from_row(cls, row: Attempt, *, xp_awarded: int = 0, replayed: bool = False) -> AttemptView:
        assert row.id is not None
        parsed = parse_result(row.result_json or {})
        return cls(
            id=row.id,
            item_id=row.item_id,
            text=row.text,
            mode=row.mode,
            engine=row.engine,
            created_at=as_utc(row.created_at),
            accuracy=row.accuracy_score,
            fluency=row.fluency_score,
            completeness=row.completeness_score,
            pron=row.pron_score,
            tone=row.tone_score,
            speaker_profile_used=row.speaker_profile_used,
            syllables=tuple(SyllableView.from_parsed(s) for s in parsed.syllables),
            has_audio=row.audio_path is not None,
            duration_s=row.duration_s,
            xp_awarded=xp_awarded,
            replayed=replayed,
            said_status=parsed.said_status,
            said_message=parsed.said_message,
            counted=parsed.counted,
            warnings=parsed.warnings,
        )


@dataclass(frozen=True, slots=True)
class AttemptSummary(_ToDict):
    """One line of the attempt history (no syllables)."""

    id: int
    item_id: str
    text: str
    mode: str
    engine: str
    created_at: datetime
    pron: float
    tone: float | None

    @classmethod
    def from_row(cls, row: Attempt) -> AttemptSummary:
        assert row.id is not None
        return cls(
            id=row.id,
            item_id=row.item_id,
            text=row.text,
            mode=row.mode,
            engine=row.engine,
            created_at=as_utc(row.created_at),
            pron=row.pron_score,
            tone=row.tone_score,
        )


@dataclass(frozen=True, slots=True)
class ToneAccuracy(_ToDict):
    tone: int
    correct: int
    total: int
    """Syllables with a decision (correct or wrong tone); unclear ones are counted separately."""
    unclear: int
    accuracy: float | None
    """correct / total, None without data."""


@dataclass(frozen=True, slots=True)
class TonePairAccuracy(_ToDict):
    first: int
    second: int
    correct: int
    """Pairs where both syllables were said in the right tone."""
    total: int
    accuracy: float | None


@dataclass(frozen=True, slots=True)
class ToneStats(_ToDict):
    tones: tuple[ToneAccuracy, ...]
    """Tones 1-4, always all four."""
    pairs: tuple[TonePairAccuracy, ...]
    """Every pair seen at least once, ordered (first, second)."""
    weakest_tones: tuple[ToneAccuracy, ...]
    """Below-target tones with enough samples, weakest first."""
    weakest_pairs: tuple[TonePairAccuracy, ...]
    min_samples: int
    total_syllables: int


@dataclass(frozen=True, slots=True)
class DailyTonePoint(_ToDict):
    date: date
    """Calendar day in the learner's time zone."""
    tone: int
    accuracy: float
    count: int


@dataclass(frozen=True, slots=True)
class ReviewItemView(_ToDict):
    item_id: str
    kind: str
    hanzi: str
    pinyin: str
    english: str
    due: datetime
    reason: str
    due_now: bool = True
    """False for an item missed recently but not yet due ("also worth another go")."""


@dataclass(frozen=True, slots=True)
class ContinueItem(_ToDict):
    item_id: str
    kind: str
    hanzi: str
    pinyin: str
    english: str
    unit_id: str | None
    unit_title: str | None
    dialogue_id: str | None = None


@dataclass(frozen=True, slots=True)
class HomeSummary(_ToDict):
    continue_item: ContinueItem | None
    """The next thing to practise: after the last phrase practised, else the recommended unit's first."""
    last_item_id: str | None
    recommended_unit_id: str | None
    reviews_due: int
    streak_days: int
    """Current streak: 0 once a whole local day was missed."""
    longest_streak_days: int
    practised_today: bool
    xp_today: int
    xp_total: int
    goal_minutes: int
    minutes_today: float
    attempts_today: int
    goal_met: bool
    weakest_tone: ToneAccuracy | None
    onboarding_finished: bool
    also_worth_another_go: int = 0
    """Items missed in the last week that are not due yet (the review page lists them apart)."""


@dataclass(frozen=True, slots=True)
class OnboardingState(_ToDict):
    started: bool
    goal: str | None
    level: str | None
    mic_check_passed: bool
    placement_done: bool
    recommended_unit_id: str | None
    finished: bool
    next_step: str
    """questions | mic_check | placement | done"""


@dataclass(frozen=True, slots=True)
class SpeakerProfileSummary(_ToDict):
    median_hz: float
    range_semitones: float
    recordings: int
    syllables: int
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class CalibrationPrompt(_ToDict):
    text: str
    pinyin: str
    english: str
    tones: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class UnitRecommendation(_ToDict):
    unit_id: str
    title: str
    reason: str


@dataclass(frozen=True, slots=True)
class WeakSyllable(_ToDict):
    attempt_id: int
    item_id: str
    grapheme: str
    pinyin: str
    expected_tone: int
    detected_tone: int | None
    tone_score: float
    verdict: str
    hint: str


@dataclass(frozen=True, slots=True)
class DialogueSummary(_ToDict):
    attempts: int
    average_accuracy: float
    average_fluency: float
    average_completeness: float
    average_pron: float
    average_tone: float | None
    """None when no syllable of the dialogue could be judged."""
    weakest: tuple[WeakSyllable, ...]
    """Up to five syllables: missed tones first (lowest tone score first), then unclear ones."""


__all__ = [
    "GOALS",
    "IDEMPOTENCY_KEY_PATTERN",
    "ITEM_ID_PATTERN",
    "LEVELS",
    "MODES",
    "AttemptSummary",
    "AttemptView",
    "CalibrationPrompt",
    "ContinueItem",
    "DailyTonePoint",
    "DialogueSummary",
    "HomeSummary",
    "OnboardingState",
    "ReviewItemView",
    "SpeakerProfileSummary",
    "SyllableView",
    "ToneAccuracy",
    "TonePairAccuracy",
    "ToneStats",
    "UnitRecommendation",
    "WeakSyllable",
]
