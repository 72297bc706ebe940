"""The daily Azure Speech budget: shared by all workers, never overspent, and once spent every take is
scored offline with the reason recorded and counted."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from prometheus_client import REGISTRY
from sqlmodel import SQLModel

from sayzhong import wiring
from sayzhong.db import get_engine, session_scope
from sayzhong.models import load_all_models
from sayzhong.pronunciation.budget import BudgetedAssessor, reserve_seconds
from sayzhong.pronunciation.service import assess_pronunciation
from sayzhong.settings import Settings, get_settings, reset_settings_cache
from tests.support.pron_synth import synth_wav_bytes


@pytest.fixture
def tables(settings: Settings) -> Settings:
    load_all_models()
    SQLModel.metadata.create_all(get_engine())
    return settings


def _reserve(day: date, seconds: float, budget: float) -> bool:
    with session_scope() as session:
        return reserve_seconds(session=session, day=day, seconds=seconds, budget=budget)


def test_reservations_stop_at_the_budget_and_start_again_the_next_day(tables: Settings) -> None:
    today, tomorrow = date(2026, 11, 30), date(2026, 12, 1)
    assert [_reserve(today, s, 10) for s in (4, 4, 4, 2)] == [True, True, False, True]
    assert _reserve(today, 0.5, 10) is False
    assert _reserve(tomorrow, 4, 10) is True


def test_concurrent_workers_never_overspend(tables: Settings) -> None:
    day = date(2026, 11, 30)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: _reserve(day, 1.0, 5.0), range(16)))
    assert results.count(True) == 5


def test_a_spent_budget_scores_offline_with_the_reason_counted(
    tables: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Azure "configured" at a port nobody listens on: the budget must refuse before any call is made.
    monkeypatch.setenv("AZURE_SPEECH_KEY", "test-key")
    monkeypatch.setenv("AZURE_SPEECH_HOST", "ws://127.0.0.1:9")
    monkeypatch.setenv("AZURE_DAILY_BUDGET_SECONDS", "0.5")
    reset_settings_cache()
    settings = get_settings()
    assert isinstance(wiring.get_assessor(settings), BudgetedAssessor)
    before = REGISTRY.get_sample_value("sayzhong_azure_fallback_total", {"reason": "daily_budget"}) or 0.0
    result = assess_pronunciation(
        audio=synth_wav_bytes([2, 3]), text="你好", engine="azure", settings=settings
    )
    assert result["AzureFallbackReason"] == "daily_budget"
    assert result["Engine"] == "offline"
    assert (
        REGISTRY.get_sample_value("sayzhong_azure_fallback_total", {"reason": "daily_budget"}) == before + 1
    )
