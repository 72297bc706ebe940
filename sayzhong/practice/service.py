"""Practice services: score a take, read attempts back, summarise dialogues, keep storage tidy.

This module is the one import for callers (pages, the JSON API, jobs): it also re-exports the
statistics, review, home and onboarding services. Every function takes the caller's `Session`
and never commits; the caller owns the unit of work.
"""

from __future__ import annotations

import importlib
import logging
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from opentelemetry import trace
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from sayzhong.accounts.models import User
from sayzhong.analytics import catalog as events
from sayzhong.analytics import service as analytics
from sayzhong.curriculum import service as curriculum
from sayzhong.db import as_utc, utcnow
from sayzhong.errors import NotFoundError, SayZhongError, ValidationError
from sayzhong.ops import metrics
from sayzhong.ops.logs import bind_user
from sayzhong.practice import progress, review, scoring_pool, stats, storage
from sayzhong.practice.hints import tone_hint
from sayzhong.practice.home import HOME_READS, home_page, home_params, home_summary
from sayzhong.practice.models import Attempt, SyllableResult
from sayzhong.practice.onboarding import (
    calibration_prompts,
    finish_onboarding,
    get_speaker_profile,
    onboarding_state,
    placement_prompts,
    recommend_unit,
    save_onboarding_answers,
    save_speaker_profile,
    speaker_profile_summary,
    start_onboarding,
)
from sayzhong.practice.results import ParsedResult, json_safe, parse_result
from sayzhong.practice.review import review_queue, reviews_due_count
from sayzhong.practice.schemas import (
    GOALS,
    IDEMPOTENCY_KEY_PATTERN,
    LEVELS,
    MODES,
    AttemptSummary,
    AttemptView,
    CalibrationPrompt,
    ContinueItem,
    DailyTonePoint,
    DialogueSummary,
    HomeSummary,
    OnboardingState,
    ReviewItemView,
    SpeakerProfileSummary,
    SyllableView,
    ToneAccuracy,
    TonePairAccuracy,
    ToneStats,
    UnitRecommendation,
    WeakSyllable,
)
from sayzhong.practice.stats import accuracy_over_time, tone_stats
from sayzhong.pronunciation.profile import SpeakerProfile

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)

ENGINES = ("auto", "offline", "azure")
_IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)
_CONTENT_TYPE = re.compile(r"^audio/[a-z0-9.+-]{1,40}$")


class Assessor(Protocol):
    """`sayzhong.pronunciation.service.assess_pronunciation`, or a stand-in with its signature."""

    def __call__(
        self,
        *,
        audio: bytes,
        text: str,
        reading: str | None = None,
        profile: SpeakerProfile | None = None,
        engine: str = "auto",
    ) -> dict[str, Any]: ...


class AttemptConflictError(SayZhongError):
    """Two submissions raced (e.g. one idempotency key twice); roll back and retry."""

    code = "attempt_conflict"
    http_status = 409
    default_message = "This recording is already being saved. Please try again in a moment."


def assess_pronunciation(
    *,
    audio: bytes,
    text: str,
    reading: str | None = None,
    profile: SpeakerProfile | None = None,
    engine: str = "auto",
) -> dict[str, Any]:
    """The real engine, imported on first use (it loads a model; keep it out of import time)."""
    module = importlib.import_module("sayzhong.pronunciation.service")
    result: dict[str, Any] = module.assess_pronunciation(
        audio=audio, text=text, reading=reading, profile=profile, engine=engine
    )
    return result


class AttemptNotFoundError(NotFoundError):
    code = "attempt_not_found"
    default_message = "That attempt does not exist."


def _attempt_row(session: Session, user_id: int, attempt_id: int) -> Attempt:
    # One access check for every read: another learner's attempt is indistinguishable from none.
    row = session.exec(select(Attempt).where(Attempt.id == attempt_id, Attempt.user_id == user_id)).first()
    if row is None:
        raise AttemptNotFoundError()
    return row


def _by_idempotency_key(session: Session, user_id: int, key: str) -> Attempt | None:
    return session.exec(
        select(Attempt).where(Attempt.user_id == user_id, Attempt.idempotency_key == key)
    ).first()


class InvalidIdempotencyKeyError(ValidationError):
    code = "invalid_idempotency_key"
    http_status = 422
    default_message = "The Idempotency-Key must be 8–128 letters, digits or . _ : -"


def check_idempotency_key(value: str | None) -> str | None:
    """The key as given (None when absent or empty); InvalidIdempotencyKeyError when malformed."""
    if not value:
        return None
    if not _IDEMPOTENCY_KEY.match(value):
        raise InvalidIdempotencyKeyError()
    return value


def _check_arguments(mode: str, engine: str, idempotency_key: str | None) -> None:
    if mode not in MODES:
        raise ValidationError("Unknown practice mode.", code="invalid_mode")
    if engine not in ENGINES:
        raise ValidationError("Unknown scoring engine.", code="invalid_engine")
    check_idempotency_key(idempotency_key)


def _content_type(sniffed: str, declared: str) -> str:
    if sniffed != "application/octet-stream":
        return sniffed
    declared = declared.split(";", 1)[0].strip().lower()
    return declared if _CONTENT_TYPE.match(declared) else sniffed


@tracer.start_as_current_span("practice.score_attempt")
def score_attempt(
    *,
    session: Session,
    user_id: int,
    item_id: str,
    audio: bytes,
    content_type: str,
    mode: str = "practice",
    idempotency_key: str | None = None,
    engine: str = "auto",
    assessor: Assessor | None = None,
    now: datetime | None = None,
) -> AttemptView:
    """Score a take of `item_id`, store it and update progress, reviews and funnel events.

    With an `idempotency_key` this user already used, the stored attempt is returned unchanged
    (no re-scoring, no second row, no XP). Audio the engine cannot use raises an `AudioError`
    and nothing is stored. Scoring happens before any write so the transaction stays short.
    `now` is for jobs and tests; routes must not pass a client's clock. Without an `assessor`, the
    engine runs as settings say (in this thread, or in the scoring processes: scoring_pool.py).
    """
    bind_user(user_id)
    _check_arguments(mode, engine, idempotency_key)
    if idempotency_key is not None:
        existing = _by_idempotency_key(session, user_id, idempotency_key)
        if existing is not None:
            return AttemptView.from_row(existing, replayed=True)
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError("That account does not exist.", code="user_not_found")
    item = curriculum.get_item(item_id)
    profile = get_speaker_profile(session=session, user_id=user_id)
    text = item.hanzi

    # Scored against the content's reviewed pinyin: its tones are the ones the learner was shown.
    with metrics.scoring_timer(engine) as outcome:
        result = json_safe(
            (assessor or scoring_pool.default_assessor())(
                audio=audio, text=text, reading=item.pinyin, profile=profile, engine=engine
            )
        )
        outcome.engine = str(result.get("Engine", engine))
    parsed = parse_result(result)
    now = now or utcnow()

    stored = storage.save_take(user_id=user_id, data=audio, now=now)
    try:
        view = _persist(
            session=session,
            user=user,
            item_id=item.id,
            text=text,
            mode=mode,
            result=result,
            parsed=parsed,
            stored=stored,
            content_type=_content_type(stored.content_type, content_type),
            idempotency_key=idempotency_key,
            profile_used=profile is not None
            if parsed.speaker_profile_used is None
            else parsed.speaker_profile_used,
            now=now,
        )
    except IntegrityError as exc:
        # A concurrent submission won a unique key (the idempotency key, or the learner profile
        # created by a first take). The caller rolls back; a retry then succeeds or replays.
        storage.delete_take(stored.relative_path)
        raise AttemptConflictError() from exc
    except BaseException:
        storage.delete_take(stored.relative_path)
        raise
    metrics.SCORED_TAKES.labels(mode, view.engine).inc()
    return view


@tracer.start_as_current_span("practice.store")
def _persist(
    *,
    session: Session,
    user: User,
    item_id: str,
    text: str,
    mode: str,
    result: dict[str, Any],
    parsed: ParsedResult,
    stored: storage.StoredAudio,
    content_type: str,
    idempotency_key: str | None,
    profile_used: bool,
    now: datetime,
) -> AttemptView:
    assert user.id is not None
    row = Attempt(
        user_id=user.id,
        item_id=item_id,
        mode=mode,
        text=text[:500],
        engine=parsed.engine,
        accuracy_score=parsed.accuracy,
        fluency_score=parsed.fluency,
        completeness_score=parsed.completeness,
        pron_score=parsed.pron,
        tone_score=parsed.tone,
        speaker_profile_used=profile_used,
        result_json=result,
        audio_path=stored.relative_path,
        audio_content_type=content_type,
        audio_bytes=stored.size,
        duration_s=parsed.duration_s,
        idempotency_key=idempotency_key,
        created_at=now,
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    prev = None
    tallied: list[tuple[int, int | None, str, str | None]] = []
    # A take of something other than the phrase is kept (the learner can replay it) but counts
    # for nothing: no syllable results, review, XP or streak.
    for syl in parsed.syllables if parsed.counted else ():
        before = (prev.expected_tone, prev.verdict) if prev else (None, None)
        session.add(
            SyllableResult(
                attempt_id=row.id,
                user_id=user.id,
                position=syl.position,
                grapheme=syl.grapheme,
                pinyin=syl.pinyin,
                expected_tone=syl.expected_tone,
                detected_tone=syl.detected_tone,
                tone_score=syl.tone_score,
                confidence=syl.confidence,
                verdict=syl.verdict,
                correct=syl.verdict == "correct",
                prev_expected_tone=before[0],
                prev_verdict=before[1],
                created_at=now,
            )
        )
        tallied.append((syl.expected_tone, before[0], syl.verdict, before[1]))
        prev = syl
    stats.add_to_tallies(session=session, user_id=user.id, syllables=tallied)

    xp = 0
    if mode != "calibration" and parsed.counted:
        item = curriculum.get_item(item_id)
        review.apply_updates(
            session=session, user_id=user.id, updates=review.updates_for(item, parsed), now=now
        )
        profile = progress.get_or_create_profile(session, user.id)
        xp = progress.xp_for(parsed, mode)
        progress.record_practice(profile, now=now, tz=progress.zone(user.timezone), xp=xp)
        if mode in ("practice", "dialogue", "review"):
            profile.last_item_id = item_id
        if profile.first_attempt_at is None:
            profile.first_attempt_at = now
            analytics.track(
                session=session,
                user_id=user.id,
                event=events.FIRST_ATTEMPT_SCORED,
                properties={
                    "item_id": item_id,
                    "mode": mode,
                    "engine": parsed.engine,
                    "pron": round(parsed.pron),
                },
            )
            _reward_referral(session, user.id)
        elif profile.today_attempts == 1:
            # The first scored take of a later day: the activity funnels count as a return.
            day = (as_utc(now).date() - as_utc(user.created_at).date()).days
            if day >= 1:
                analytics.track(
                    session=session, user_id=user.id, event=events.RETURNED, properties={"day": day}
                )
        session.add(profile)
    session.flush()
    return AttemptView.from_row(row, xp_awarded=xp)


def _reward_referral(session: Session, user_id: int) -> None:
    """Issue 14: the first scored take releases a pending referral reward. In a savepoint, so a
    failure there never costs the learner their take (the reward is then left pending)."""
    from sayzhong.growth import referrals

    try:
        with session.begin_nested():
            referrals.reward_after_first_take(session=session, user_id=user_id)
    except Exception:
        log.exception("referral reward failed for user %s", user_id)


def get_attempt(*, session: Session, user_id: int, attempt_id: int) -> AttemptView:
    """One attempt of this user; another user's attempt raises NotFoundError."""
    return AttemptView.from_row(_attempt_row(session, user_id, attempt_id))


def list_attempts(
    *,
    session: Session,
    user_id: int,
    limit: int = 20,
    before: int | None = None,
    item_id: str | None = None,
) -> list[AttemptSummary]:
    """Newest first. Page with `before` = the smallest id already shown."""
    query = select(Attempt).where(Attempt.user_id == user_id)
    if before is not None:
        query = query.where(col(Attempt.id) < before)
    if item_id is not None:
        query = query.where(Attempt.item_id == item_id)
    rows = session.exec(query.order_by(col(Attempt.id).desc()).limit(max(1, min(limit, 100)))).all()
    return [AttemptSummary.from_row(row) for row in rows]


def attempt_audio_path(*, session: Session, user_id: int, attempt_id: int) -> Path:
    """The stored take of this user's attempt (NotFoundError if it was not kept)."""
    row = _attempt_row(session, user_id, attempt_id)
    if row.audio_path is None:
        raise NotFoundError("That recording is no longer available.", code="audio_not_found")
    return storage.path_of(row.audio_path)


def attempt_audio_content_type(*, session: Session, user_id: int, attempt_id: int) -> str:
    row = _attempt_row(session, user_id, attempt_id)
    return row.audio_content_type or "application/octet-stream"


def dialogue_summary(*, session: Session, user_id: int, attempt_ids: list[int]) -> DialogueSummary:
    """Average scores over a role-play's takes and its weakest syllables (missed tones first)."""
    ids = list(dict.fromkeys(int(i) for i in attempt_ids))[:200]
    rows = (
        session.exec(select(Attempt).where(col(Attempt.id).in_(ids), Attempt.user_id == user_id)).all()
        if ids
        else []
    )
    if len(rows) != len(ids):
        raise NotFoundError("Some of those attempts do not exist.", code="attempt_not_found")
    # Takes of another phrase (or silence) are kept for replay but say nothing about the learner's
    # pronunciation: they are left out of the averages, as they are from statistics and review.
    rows = [r for r in rows if parse_result(r.result_json or {}).counted]
    if not rows:
        return DialogueSummary(0, 0.0, 0.0, 0.0, 0.0, None, ())
    ids = [r.id for r in rows if r.id is not None]
    tones = [r.tone_score for r in rows if r.tone_score is not None]
    item_of = {r.id: r.item_id for r in rows}
    syllables = session.exec(
        select(SyllableResult)
        .where(
            col(SyllableResult.attempt_id).in_(ids),
            col(SyllableResult.verdict).in_(("wrong_tone", "unclear")),
        )
        .order_by(col(SyllableResult.verdict).desc(), col(SyllableResult.tone_score), col(SyllableResult.id))
        .limit(5)
    ).all()
    weakest = tuple(
        WeakSyllable(
            attempt_id=s.attempt_id,
            item_id=item_of[s.attempt_id],
            grapheme=s.grapheme,
            pinyin=s.pinyin,
            expected_tone=s.expected_tone,
            detected_tone=s.detected_tone,
            tone_score=s.tone_score,
            verdict=s.verdict,
            hint=tone_hint(s.expected_tone, s.detected_tone if s.verdict == "wrong_tone" else None),
        )
        for s in syllables
    )

    def mean(values: list[float]) -> float:
        return round(sum(values) / len(values), 1)

    return DialogueSummary(
        attempts=len(rows),
        average_accuracy=mean([r.accuracy_score for r in rows]),
        average_fluency=mean([r.fluency_score for r in rows]),
        average_completeness=mean([r.completeness_score for r in rows]),
        average_pron=mean([r.pron_score for r in rows]),
        average_tone=mean(tones) if tones else None,
        weakest=weakest,
    )


def purge_orphan_audio(*, session: Session, older_than: timedelta = timedelta(hours=1)) -> int:
    """Delete stored takes no attempt refers to (failed saves, erased accounts). Returns how many.

    Files younger than `older_than` are left alone: their attempt may not be committed yet.
    """
    removed = 0
    batch: list[str] = []

    def flush_batch() -> int:
        known = set(session.exec(select(Attempt.audio_path).where(col(Attempt.audio_path).in_(batch))).all())
        count = 0
        for relative in batch:
            if relative not in known:
                storage.delete_take(relative)
                count += 1
        batch.clear()
        return count

    for relative in storage.iter_stored(older_than):
        batch.append(relative)
        if len(batch) >= 500:
            removed += flush_batch()
    if batch:
        removed += flush_batch()
    return removed


AUDIO_RETENTION = timedelta(days=180)


def purge_expired_audio(
    *, session: Session, older_than: timedelta = AUDIO_RETENTION, batch: int = 500
) -> int:
    """Delete the recordings of attempts older than the retention period; scores and results stay.

    Returns how many recordings were removed. Run it from a job, repeatedly until it returns 0.
    """
    cutoff = utcnow() - older_than
    rows = session.exec(
        select(Attempt)
        .where(col(Attempt.audio_path).is_not(None), col(Attempt.created_at) < cutoff)
        .order_by(col(Attempt.id))
        .limit(max(1, batch))
    ).all()
    for row in rows:
        if row.audio_path is not None:
            storage.delete_take(row.audio_path)
        row.audio_path = None
        session.add(row)
    session.flush()
    return len(rows)


__all__ = [
    "GOALS",
    "HOME_READS",
    "IDEMPOTENCY_KEY_PATTERN",
    "LEVELS",
    "MODES",
    "Assessor",
    "AttemptConflictError",
    "AttemptNotFoundError",
    "AttemptSummary",
    "AttemptView",
    "CalibrationPrompt",
    "ContinueItem",
    "DailyTonePoint",
    "DialogueSummary",
    "HomeSummary",
    "InvalidIdempotencyKeyError",
    "OnboardingState",
    "ReviewItemView",
    "SpeakerProfileSummary",
    "SyllableView",
    "ToneAccuracy",
    "TonePairAccuracy",
    "ToneStats",
    "UnitRecommendation",
    "WeakSyllable",
    "accuracy_over_time",
    "attempt_audio_content_type",
    "attempt_audio_path",
    "calibration_prompts",
    "check_idempotency_key",
    "dialogue_summary",
    "finish_onboarding",
    "get_attempt",
    "get_speaker_profile",
    "home_page",
    "home_params",
    "home_summary",
    "list_attempts",
    "onboarding_state",
    "placement_prompts",
    "purge_expired_audio",
    "purge_orphan_audio",
    "recommend_unit",
    "review_queue",
    "reviews_due_count",
    "save_onboarding_answers",
    "save_speaker_profile",
    "score_attempt",
    "speaker_profile_summary",
    "start_onboarding",
    "tone_stats",
]
