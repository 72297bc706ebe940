"""Practice tables: scored attempts, their syllables, FSRS review cards and the learner profile.

Services in this package return frozen dataclasses (see `schemas.py`), never these ORM objects.
Every timestamp is timezone-aware UTC; calendar days that depend on the learner's time zone
(streak, daily goal) are stored as plain dates already converted to that zone.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from sayzhong.db import utcnow


def _utc_column(*, nullable: bool = False, index: bool = False) -> Column:
    return Column(DateTime(timezone=True), nullable=nullable, index=index)


def _json_column(*, nullable: bool = False) -> Column:
    return Column(JSON, nullable=nullable)


class Attempt(SQLModel, table=True):
    """One scored take of one speakable item."""

    __tablename__ = "practice_attempt"
    __table_args__ = (
        # NULL keys never collide (SQLite and PostgreSQL), so only keyed submissions are unique.
        UniqueConstraint("user_id", "idempotency_key", name="uq_practice_attempt_user_idempotency"),
        Index("ix_practice_attempt_user_created", "user_id", "created_at"),
        # BI (issue 15): the daily aggregation reads one reporting day of takes at a time.
        Index("ix_practice_attempt_created", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    item_id: str = Field(max_length=200, index=True)
    """Global speakable-item id from the curriculum (phrase, drill or `<dialogue>.<line>`)."""
    mode: str = Field(max_length=20)
    """practice | dialogue | placement | calibration | review"""
    text: str = Field(max_length=500)
    """The exact text the engine scored against."""
    engine: str = Field(max_length=40)
    accuracy_score: float = Field(default=0.0)
    fluency_score: float = Field(default=0.0)
    completeness_score: float = Field(default=0.0)
    pron_score: float = Field(default=0.0)
    tone_score: float | None = Field(default=None)
    """Mean tone score of the judged syllables; None when no syllable could be judged."""
    speaker_profile_used: bool = Field(default=False)
    result_json: dict[str, Any] = Field(default_factory=dict, sa_column=_json_column())
    audio_path: str | None = Field(default=None, max_length=255)
    """Path of the stored take relative to DATA_DIR/attempts (random name, never the client's)."""
    audio_content_type: str | None = Field(default=None, max_length=64)
    audio_bytes: int = Field(default=0)
    duration_s: float | None = Field(default=None)
    idempotency_key: str | None = Field(default=None, max_length=128)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column())


class SyllableResult(SQLModel, table=True):
    """One syllable of one attempt, flattened from the result JSON for tone statistics."""

    __tablename__ = "practice_syllable_result"
    __table_args__ = (Index("ix_practice_syllable_user_created", "user_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    attempt_id: int = Field(foreign_key="practice_attempt.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user_account.id", ondelete="CASCADE")
    """Copied from the attempt so statistics need no join."""
    position: int
    """0-based position of the syllable in the attempt's text."""
    grapheme: str = Field(max_length=16)
    pinyin: str = Field(max_length=16)
    expected_tone: int
    """Surface tone 1-4, or 5 for neutral (not judged)."""
    detected_tone: int | None = Field(default=None)
    tone_score: float = Field(default=0.0)
    confidence: float = Field(default=0.0)
    verdict: str = Field(max_length=12)
    """correct | wrong_tone | unclear | neutral"""
    correct: bool = Field(default=False)
    prev_expected_tone: int | None = Field(default=None)
    """Expected tone of the previous syllable in the same text (tone-pair statistics)."""
    prev_verdict: str | None = Field(default=None, max_length=12)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column())


class ToneTally(SQLModel, table=True):
    """Running counts of one learner's judged syllables, by tone, previous tone and both verdicts.

    Kept in step with `practice_syllable_result` in the same transaction that stores a take, so the
    tone statistics read a few dozen rows instead of the whole history (issue 16, home page load).
    Only syllables with an expected tone 1-4 are counted; "no previous syllable" is tone 0 and "".
    """

    __tablename__ = "practice_tone_tally"
    __table_args__ = (
        UniqueConstraint(
            "user_id",
            "expected_tone",
            "prev_expected_tone",
            "verdict",
            "prev_verdict",
            name="uq_practice_tone_tally_key",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", ondelete="CASCADE")
    expected_tone: int
    prev_expected_tone: int = Field(default=0)
    verdict: str = Field(max_length=12)
    prev_verdict: str = Field(default="", max_length=12)
    count: int = Field(default=0)


class ReviewCard(SQLModel, table=True):
    """FSRS state of one reviewable item for one learner (a serialised `fsrs.Card`)."""

    __tablename__ = "practice_review_card"
    __table_args__ = (
        UniqueConstraint("user_id", "item_id", name="uq_practice_review_card_user_item"),
        Index("ix_practice_review_card_user_due", "user_id", "due"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", ondelete="CASCADE")
    item_id: str = Field(max_length=200)
    """A speakable-item id; weak tone pairs are reviewed through the matching tone drill."""
    state: int = Field(default=1)
    """fsrs.State: 1 learning, 2 review, 3 relearning."""
    step: int | None = Field(default=0)
    stability: float | None = Field(default=None)
    difficulty: float | None = Field(default=None)
    due: datetime = Field(default_factory=utcnow, sa_column=_utc_column())
    last_review: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    reps: int = Field(default=0)
    lapses: int = Field(default=0)
    last_rating: int | None = Field(default=None)
    last_tone_error_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    last_tone_error: str | None = Field(default=None, max_length=200)
    """Plain description of the last missed tone, shown as the reason in the review queue."""
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column())


class LearnerProfile(SQLModel, table=True):
    """Onboarding answers, calibration, progress counters and gamification for one learner."""

    __tablename__ = "learner_profile"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", unique=True, index=True, ondelete="CASCADE")
    goal: str | None = Field(default=None, max_length=20)
    level: str | None = Field(default=None, max_length=20)
    onboarding_started_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    onboarding_finished_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    mic_check_passed_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    speaker_profile_json: dict[str, Any] | None = Field(default=None, sa_column=_json_column(nullable=True))
    speaker_profile_updated_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    placement_finished_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    recommended_unit_id: str | None = Field(default=None, max_length=100)
    last_item_id: str | None = Field(default=None, max_length=200)
    first_attempt_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    last_attempt_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    xp_total: int = Field(default=0)
    streak_days: int = Field(default=0)
    longest_streak_days: int = Field(default=0)
    last_practice_date: date | None = Field(default=None)
    """Local calendar day (learner's time zone) of the last counted practice."""
    today_date: date | None = Field(default=None)
    """Local day the `today_*` counters belong to; they reset when the day changes."""
    today_xp: int = Field(default=0)
    today_attempts: int = Field(default=0)
    today_active_seconds: float = Field(default=0.0)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column())
