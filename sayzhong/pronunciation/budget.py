"""A daily budget for Azure Speech: audio seconds sent per UTC day, shared by every worker and replica.

``BudgetedAssessor`` wraps the Azure adapter (``wiring.get_assessor`` does it when
``AZURE_DAILY_BUDGET_SECONDS`` is set). Before each call it reserves the take's duration with one
conditional UPDATE in its own short transaction, so concurrent workers can never overspend; once the
day's budget is spent it raises ``AssessorUnavailableError("daily_budget")`` and the service falls
back to the offline engine (counted in ``sayzhong_azure_fallback_total{reason="daily_budget"}``).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col

from sayzhong.db import utcnow
from sayzhong.pronunciation.audio import DecodedAudio
from sayzhong.pronunciation.ports import AssessorUnavailableError, PronunciationAssessor
from sayzhong.pronunciation.profile import SpeakerProfile
from sayzhong.pronunciation.text import ExpectedSyllable


class AzureSpeechUsage(SQLModel, table=True):
    __tablename__ = "azure_speech_usage"

    day: date = Field(primary_key=True)
    """UTC day."""
    seconds: float = Field(default=0.0)
    """Audio seconds sent to Azure Speech that day (reserved before each call)."""


def reserve_seconds(*, session: Session, day: date, seconds: float, budget: float) -> bool:
    """Add ``seconds`` to ``day``'s usage if that stays within ``budget``; False when it would not."""
    if session.get(AzureSpeechUsage, day) is None:
        try:
            with session.begin_nested():
                session.add(AzureSpeechUsage(day=day, seconds=0.0))
        except IntegrityError:
            pass  # another worker created the day's row first
    result = session.execute(
        update(AzureSpeechUsage)
        .where(col(AzureSpeechUsage.day) == day, col(AzureSpeechUsage.seconds) + seconds <= budget)
        .values(seconds=col(AzureSpeechUsage.seconds) + seconds)
    )
    return bool(getattr(result, "rowcount", 0))


class BudgetedAssessor:
    """The wrapped assessor, refused (``daily_budget``) once the day's audio budget is spent."""

    def __init__(
        self,
        inner: PronunciationAssessor,
        *,
        budget_seconds: float,
        session_factory: Callable[[], AbstractContextManager[Session]],
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.inner = inner
        self.name = inner.name
        self.budget_seconds = budget_seconds
        self.session_factory = session_factory
        self.clock = clock

    def assess(
        self,
        *,
        audio: DecodedAudio,
        text: str,
        expected: list[ExpectedSyllable],
        profile: SpeakerProfile | None = None,
    ) -> dict[str, Any]:
        with self.session_factory() as session:
            allowed = reserve_seconds(
                session=session, day=self.clock().date(), seconds=audio.duration_s, budget=self.budget_seconds
            )
        if not allowed:
            raise AssessorUnavailableError("daily_budget", "the day's Azure Speech budget is spent")
        return self.inner.assess(audio=audio, text=text, expected=expected, profile=profile)
