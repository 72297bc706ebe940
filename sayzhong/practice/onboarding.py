"""Onboarding for new learners: goal and level, microphone check with voice calibration, placement.

Steps: questions → mic check (calibration prompts build the speaker profile the engine uses for
every later score) → a 5-phrase spoken placement → a recommended starting unit. Each funnel event
(`onboarding_started`, `mic_check_passed`, `onboarding_finished`) is emitted once per learner:
the learner-profile timestamp that records the step is the guard, not the analytics store.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlmodel import Session, col, select

from sayzhong.analytics import catalog as events
from sayzhong.analytics import service as analytics
from sayzhong.curriculum import service as curriculum
from sayzhong.curriculum.models import SpeakableItem, Unit
from sayzhong.db import as_utc, utcnow
from sayzhong.errors import NotFoundError, ValidationError
from sayzhong.practice.models import Attempt, LearnerProfile, SyllableResult
from sayzhong.practice.progress import get_or_create_profile, get_profile
from sayzhong.practice.schemas import (
    GOALS,
    LEVELS,
    CalibrationPrompt,
    OnboardingState,
    SpeakerProfileSummary,
    UnitRecommendation,
)
from sayzhong.pronunciation.profile import ProfileError, SpeakerProfile, build_profile

log = logging.getLogger(__name__)

PLACEMENT_LENGTHS = (2, 3, 4, 6, 8)
"""Syllable counts of the five placement phrases: rising difficulty."""
PASS_PRON = 70.0
PASS_TONE = 70.0

_CALIBRATION = (
    CalibrationPrompt("妈麻马骂", "mā má mǎ mà", "mother, hemp, horse, to scold", (1, 2, 3, 4)),
    CalibrationPrompt("八拔把爸", "bā bá bǎ bà", "eight, to pull, to hold, dad", (1, 2, 3, 4)),
    CalibrationPrompt("衣姨椅意", "yī yí yǐ yì", "clothes, aunt, chair, meaning", (1, 2, 3, 4)),
    CalibrationPrompt("汤糖躺烫", "tāng táng tǎng tàng", "soup, sugar, to lie down, scalding", (1, 2, 3, 4)),
)


def _state(row: LearnerProfile | None) -> OnboardingState:
    if row is None:
        return OnboardingState(False, None, None, False, False, None, False, "questions")
    mic = row.mic_check_passed_at is not None
    placement = row.placement_finished_at is not None
    finished = row.onboarding_finished_at is not None
    if finished:
        step = "done"
    elif row.goal is None or row.level is None:
        step = "questions"
    elif not mic:
        step = "mic_check"
    elif not placement:
        step = "placement"
    else:
        step = "done"
    return OnboardingState(
        started=row.onboarding_started_at is not None,
        goal=row.goal,
        level=row.level,
        mic_check_passed=mic,
        placement_done=placement,
        recommended_unit_id=row.recommended_unit_id,
        finished=finished,
        next_step=step,
    )


def onboarding_state(*, session: Session, user_id: int) -> OnboardingState:
    return _state(get_profile(session, user_id))


def start_onboarding(*, session: Session, user_id: int) -> OnboardingState:
    row = get_or_create_profile(session, user_id)
    if row.onboarding_started_at is None:
        row.onboarding_started_at = utcnow()
        row.updated_at = row.onboarding_started_at
        session.add(row)
        analytics.track(session=session, user_id=user_id, event=events.ONBOARDING_STARTED)
    session.flush()
    return _state(row)


def save_onboarding_answers(*, session: Session, user_id: int, goal: str, level: str) -> OnboardingState:
    if goal not in GOALS:
        raise ValidationError("Please choose one of the goals shown.", code="invalid_goal")
    if level not in LEVELS:
        raise ValidationError("Please choose one of the levels shown.", code="invalid_level")
    start_onboarding(session=session, user_id=user_id)
    row = get_or_create_profile(session, user_id)
    row.goal = goal
    row.level = level
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    return _state(row)


def finish_onboarding(*, session: Session, user_id: int) -> OnboardingState:
    """Mark onboarding done. The questions must be answered; mic check and placement may be skipped
    (a learner without a microphone yet can still browse lessons), and the state says so."""
    row = get_or_create_profile(session, user_id)
    if row.goal is None or row.level is None:
        raise ValidationError("Please answer the two questions first.", code="onboarding_incomplete")
    if row.onboarding_finished_at is None:
        row.onboarding_finished_at = utcnow()
        row.updated_at = row.onboarding_finished_at
        if row.recommended_unit_id is None:
            row.recommended_unit_id = _default_unit(row.level).id
        session.add(row)
        analytics.track(
            session=session,
            user_id=user_id,
            event=events.ONBOARDING_FINISHED,
            properties={
                "goal": row.goal,
                "level": row.level,
                "mic_check_passed": row.mic_check_passed_at is not None,
                "placement_done": row.placement_finished_at is not None,
            },
        )
    session.flush()
    return _state(row)


def calibration_prompts() -> list[CalibrationPrompt]:
    """Short texts for the microphone check; each covers all four tones."""
    return list(_CALIBRATION)


def save_speaker_profile(
    *,
    session: Session,
    user_id: int,
    samples: list[tuple[bytes, str]],
    builder: Callable[[list[tuple[bytes, str]]], SpeakerProfile] = build_profile,
) -> SpeakerProfileSummary:
    """Calibrate from (audio, text) takes, store the profile and mark the mic check passed.

    Can be redone from settings; the newest profile replaces the old one. Raises the engine's
    AudioError / ProfileError (nothing stored) when the takes cannot be used.
    """
    if not samples or len(samples) > 10:
        raise ValidationError("Record between one and ten calibration phrases.", code="invalid_samples")
    profile = builder(samples)
    now = utcnow()
    row = get_or_create_profile(session, user_id)
    row.speaker_profile_json = profile.to_dict()
    row.speaker_profile_updated_at = now
    row.updated_at = now
    if row.mic_check_passed_at is None:
        row.mic_check_passed_at = now
        analytics.track(
            session=session,
            user_id=user_id,
            event=events.MIC_CHECK_PASSED,
            properties={"recordings": profile.n_recordings},
        )
    session.add(row)
    session.flush()
    return SpeakerProfileSummary(
        median_hz=profile.median_hz,
        range_semitones=profile.range_st,
        recordings=profile.n_recordings,
        syllables=profile.n_syllables,
        updated_at=now,
    )


def get_speaker_profile(*, session: Session, user_id: int) -> SpeakerProfile | None:
    row = get_profile(session, user_id)
    if row is None or not row.speaker_profile_json:
        return None
    try:
        return SpeakerProfile.from_dict(row.speaker_profile_json)
    except ProfileError:
        # A damaged profile must not block scoring: fall back to per-utterance normalisation.
        log.warning("ignoring unreadable speaker profile of user %s", user_id)
        return None


def speaker_profile_summary(*, session: Session, user_id: int) -> SpeakerProfileSummary | None:
    row = get_profile(session, user_id)
    profile = get_speaker_profile(session=session, user_id=user_id)
    if row is None or profile is None:
        return None
    return SpeakerProfileSummary(
        median_hz=profile.median_hz,
        range_semitones=profile.range_st,
        recordings=profile.n_recordings,
        syllables=profile.n_syllables,
        updated_at=as_utc(row.speaker_profile_updated_at or row.updated_at),
    )


def _syllable_count(pinyin: str) -> int:
    return len(pinyin.split())


def placement_prompts() -> list[SpeakableItem]:
    """Five phrases of rising length (2, 3, 4, 6, 8 syllables), each from the earliest unit that has one."""
    phrases = [curriculum.get_item(p.id) for unit in curriculum.list_units() for p in unit.phrases]
    chosen: list[SpeakableItem] = []
    for length in PLACEMENT_LENGTHS:
        candidates = [p for p in phrases if p not in chosen and _syllable_count(p.pinyin) >= length]
        if not candidates:
            continue
        exact = [p for p in candidates if _syllable_count(p.pinyin) == length]
        chosen.append(exact[0] if exact else min(candidates, key=lambda p: _syllable_count(p.pinyin)))
    return chosen


def _default_unit(level: str | None) -> Unit:
    units = curriculum.list_units()
    if level == "intermediate" and len(units) > 2:
        return units[2]
    if level == "some" and len(units) > 1:
        return units[1]
    return units[0]


def _passed(row: Attempt, wrong: int) -> bool:
    tone_ok = row.tone_score is None or row.tone_score >= PASS_TONE
    return row.pron_score >= PASS_PRON and tone_ok and wrong <= 1


def recommend_unit(*, session: Session, user_id: int, placement_attempt_ids: list[int]) -> UnitRecommendation:
    """Recommend a starting unit from the placement takes (and the learner's own level).

    Phrases passed in order of difficulty decide how far in to start: 0-1 passed → unit 1,
    2 → unit 2, 3 → unit 3, 4 → unit 4, all 5 → unit 5. A learner who said they are new starts
    no later than unit 2, however well the placement went.
    """
    ids = list(dict.fromkeys(int(i) for i in placement_attempt_ids))[:10]
    rows = (
        session.exec(select(Attempt).where(col(Attempt.id).in_(ids), Attempt.user_id == user_id)).all()
        if ids
        else []
    )
    if len(rows) != len(ids):
        raise NotFoundError("Some of those placement takes do not exist.", code="attempt_not_found")
    wrong_by_attempt: dict[int, int] = {}
    if ids:
        for attempt_id in session.exec(
            select(SyllableResult.attempt_id).where(
                col(SyllableResult.attempt_id).in_(ids), SyllableResult.verdict == "wrong_tone"
            )
        ).all():
            wrong_by_attempt[attempt_id] = wrong_by_attempt.get(attempt_id, 0) + 1
    ordered = sorted(rows, key=lambda r: (_syllable_count(_pinyin_of(r.item_id)), r.id or 0))
    passed = 0
    for row in ordered:
        if not _passed(row, wrong_by_attempt.get(row.id or 0, 0)):
            break
        passed += 1

    profile = get_or_create_profile(session, user_id)
    units = curriculum.list_units()
    index = max(0, min(passed - 1, len(units) - 1, 4))
    capped = profile.level == "new" and index > 1
    if capped:
        index = 1
    unit = units[index]
    if not rows:
        reason = "Start at the beginning: it builds the tones every later lesson uses."
    elif passed == 0:
        reason = "The placement showed the tones need practice first — this unit starts with them."
    elif capped:
        reason = f"You passed {passed} of {len(rows)} placement phrases; as you're new, start gently here."
    else:
        reason = f"You passed {passed} of {len(rows)} placement phrases in a row, so start here."
    now = utcnow()
    profile.recommended_unit_id = unit.id
    profile.placement_finished_at = profile.placement_finished_at or now
    profile.updated_at = now
    session.add(profile)
    session.flush()
    return UnitRecommendation(unit_id=unit.id, title=unit.title, reason=reason)


def _pinyin_of(item_id: str) -> str:
    try:
        return curriculum.get_item(item_id).pinyin
    except NotFoundError:
        return ""
