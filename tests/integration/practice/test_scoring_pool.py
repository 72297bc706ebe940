"""Scoring in worker processes (SCORING_PROCESSES=N) gives the learner exactly what scoring in the
request's thread gives: the same result for a real take, the same refusal for a broken one, and the
same stored attempt (issue 16)."""

from __future__ import annotations

import os
import pickle

import pytest
from sqlmodel import Session

from sayzhong.errors import SayZhongError, ValidationError
from sayzhong.practice import scoring_pool
from sayzhong.practice import service as practice
from sayzhong.pronunciation.audio import AudioCorruptError
from sayzhong.settings import Settings, reset_settings_cache
from tests.factories import UserFactory
from tests.support.pron_synth import synth_wav_bytes


def test_domain_errors_keep_their_code_and_message_across_processes() -> None:
    error = ValidationError("Say it again, please.", code="custom_code")
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes, as the process pool does
    assert type(copy) is ValidationError
    assert (copy.code, copy.user_message, str(copy)) == ("custom_code", "Say it again, please.", str(error))
    assert pickle.loads(pickle.dumps(AudioCorruptError())).http_status == 422  # noqa: S301


def test_the_setting_chooses_the_engine_call(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    assert scoring_pool.default_assessor() is practice.assess_pronunciation
    monkeypatch.setenv("SCORING_PROCESSES", "2")
    reset_settings_cache()
    chosen = scoring_pool.default_assessor()
    assert isinstance(chosen, scoring_pool.PooledAssessor) and chosen.processes == 2


def test_a_take_scored_in_the_pool_equals_one_scored_in_this_thread(
    db_session: Session, make_user: UserFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    take = synth_wav_bytes([3, 3])
    pooled = scoring_pool.PooledAssessor(1)
    here = practice.assess_pronunciation(audio=take, text="你好", reading="ni3 hao3")
    there = pooled(audio=take, text="你好", reading="ni3 hao3")
    assert there == here
    # It really ran elsewhere: the pool's process is not this one.
    assert scoring_pool.scoring_pool(1).submit(os.getpid).result() != os.getpid()

    with pytest.raises(SayZhongError) as in_thread:
        practice.assess_pronunciation(audio=b"RIFF-not-really-audio", text="你好")
    with pytest.raises(SayZhongError) as in_pool:
        pooled(audio=b"RIFF-not-really-audio", text="你好")
    assert type(in_pool.value) is type(in_thread.value)
    assert (in_pool.value.code, in_pool.value.user_message) == (
        in_thread.value.code,
        in_thread.value.user_message,
    )

    # Through the service with the setting on: stored like any take.
    monkeypatch.setenv("SCORING_PROCESSES", "1")
    reset_settings_cache()
    user = make_user().id
    view = practice.score_attempt(
        session=db_session,
        user_id=user,
        item_id="greetings.hello",
        audio=take,
        content_type="audio/wav",
    )
    assert view.id and len(view.syllables) == 2 and view.engine == there["Engine"]
