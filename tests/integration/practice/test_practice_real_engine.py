"""score_attempt and calibration with the real offline engine on espeak-ng speech."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlmodel import Session, func, select

from sayzhong.practice import service, storage
from sayzhong.practice.models import Attempt, SyllableResult
from sayzhong.pronunciation.audio import AudioError

VERDICTS = {"correct", "wrong_tone", "unclear", "neutral"}


def test_a_spoken_phrase_is_scored_stored_and_read_back(
    db_session: Session, learner: int, speak: Callable[..., bytes]
) -> None:
    audio = speak("你好")
    view = service.score_attempt(
        session=db_session,
        user_id=learner,
        item_id="greetings.hello",
        audio=audio,
        content_type="audio/wav",
        engine="offline",
        idempotency_key="integration-take-1",
    )
    assert view.engine == "offline" and view.text == "你好"
    assert 0 <= view.pron <= 100 and view.tone is not None
    assert [s.grapheme for s in view.syllables] == ["你", "好"]
    assert [s.expected_tone for s in view.syllables] == [2, 3]  # third-tone sandhi on 你
    for syl in view.syllables:
        assert syl.verdict in VERDICTS and syl.hint
        assert len(syl.learner_contour) >= 3 and len(syl.target_contour) >= 2
        assert all(1.0 <= p <= 5.0 for p in syl.learner_contour + syl.target_contour)
        assert len(syl.learner_times_ms) == len(syl.learner_contour)
    assert view.duration_s is not None and 0.3 < view.duration_s < 5

    # The stored take is byte-identical, and the syllable rows agree with the view.
    path = service.attempt_audio_path(session=db_session, user_id=learner, attempt_id=view.id)
    assert path.read_bytes() == audio
    rows = db_session.exec(select(SyllableResult).order_by(SyllableResult.position)).all()
    assert [(r.expected_tone, r.detected_tone, r.verdict) for r in rows] == [
        (s.expected_tone, s.detected_tone, s.verdict) for s in view.syllables
    ]
    assert (
        service.get_attempt(session=db_session, user_id=learner, attempt_id=view.id).syllables
        == view.syllables
    )

    # A retry with the same key (e.g. the terminal client's sync) neither re-scores nor duplicates.
    again = service.score_attempt(
        session=db_session,
        user_id=learner,
        item_id="greetings.hello",
        audio=audio,
        content_type="audio/wav",
        idempotency_key="integration-take-1",
        assessor=_must_not_score,
    )
    assert again.id == view.id and again.replayed


def _must_not_score(**_: object) -> dict:
    raise AssertionError("an idempotent retry must not be scored again")


def test_browser_webm_opus_take_is_accepted(
    db_session: Session, learner: int, speak: Callable[..., bytes]
) -> None:
    view = service.score_attempt(
        session=db_session,
        user_id=learner,
        item_id="drill.t1.ma",
        audio=speak("妈", fmt="webm"),
        content_type="audio/webm;codecs=opus",
        engine="offline",
    )
    row = db_session.get(Attempt, view.id)
    assert row is not None and row.audio_content_type == "audio/webm"
    assert row.audio_path is not None and row.audio_path.endswith(".webm")
    assert len(view.syllables) == 1 and view.syllables[0].expected_tone == 1


@pytest.mark.parametrize("audio", [b"", b"\x00\x01garbage" * 100, b"\x89PNG\r\n\x1a\n" + b"\x00" * 200])
def test_undecodable_audio_raises_and_stores_nothing(db_session: Session, learner: int, audio: bytes) -> None:
    with pytest.raises(AudioError):
        service.score_attempt(
            session=db_session,
            user_id=learner,
            item_id="greetings.hello",
            audio=audio,
            content_type="audio/wav",
            engine="offline",
        )
    assert db_session.exec(select(func.count()).select_from(Attempt)).one() == 0
    assert list(storage.iter_stored()) == []


def test_calibration_builds_a_profile_that_later_scores_use(
    db_session: Session, learner: int, speak: Callable[..., bytes]
) -> None:
    samples = [(speak(p.text), p.text) for p in service.calibration_prompts()]
    summary = service.save_speaker_profile(session=db_session, user_id=learner, samples=samples)
    assert summary.recordings == len(samples) and 50 < summary.median_hz < 400
    assert service.onboarding_state(session=db_session, user_id=learner).mic_check_passed

    view = service.score_attempt(
        session=db_session,
        user_id=learner,
        item_id="greetings.hello",
        audio=speak("你好"),
        content_type="audio/wav",
        engine="offline",
    )
    assert view.speaker_profile_used
