"""score_attempt and reading attempts back: storage, idempotency, errors, ownership, views."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session, func, select

from sayzhong.analytics import service as analytics
from sayzhong.errors import NotFoundError, ValidationError
from sayzhong.practice import service, storage
from sayzhong.practice.models import Attempt, LearnerProfile, SyllableResult
from sayzhong.pronunciation.audio import AudioCorruptError
from sayzhong.settings import Settings
from tests.factories import AttemptFactory, UserFactory
from tests.support.practice_fakes import WAV_BYTES, FakeAssessor, result, syllable


def _count(session: Session, model: type) -> int:
    return int(session.exec(select(func.count()).select_from(model)).one())


def _score(session: Session, user_id: int, assessor: FakeAssessor, **kwargs: Any) -> service.AttemptView:
    return AttemptFactory(session)(user_id, assessor=assessor, **kwargs)


def test_scored_attempt_is_stored_with_syllables_audio_and_view(
    db_session: Session, make_user: UserFactory, fake_assessor: FakeAssessor, settings: Settings
) -> None:
    user = make_user().id
    view = _score(db_session, user, fake_assessor)

    assert fake_assessor.calls[0]["text"] == "你好"
    assert view.item_id == "greetings.hello" and view.text == "你好" and view.mode == "practice"
    assert view.engine == "offline" and view.pron == 85 and view.tone == 92
    assert [s.verdict for s in view.syllables] == ["correct", "correct"]
    assert view.syllables[0].expected_tone == 2 and view.syllables[0].pinyin == "ni3"
    assert view.syllables[0].learner_contour == (3.0, 3.5, 4.1)
    assert view.syllables[0].target_contour == (3.0, 5.0)
    assert view.syllables[0].target_times_ms == (0.0, 200.0)
    assert view.has_audio and view.duration_s == 2.0 and view.xp_awarded > 0

    row = db_session.get(Attempt, view.id)
    assert row is not None and row.audio_path is not None
    assert row.audio_content_type == "audio/wav" and row.audio_path.endswith(".wav")
    path = service.attempt_audio_path(session=db_session, user_id=user, attempt_id=view.id)
    assert path.read_bytes() == WAV_BYTES
    assert path.is_relative_to(settings.data_dir / "attempts")
    assert _count(db_session, SyllableResult) == 2
    assert service.get_attempt(session=db_session, user_id=user, attempt_id=view.id) == view.__class__(
        **{**{f: getattr(view, f) for f in view.__dataclass_fields__}, "xp_awarded": 0}
    )


def test_view_to_dict_is_json_ready(
    db_session: Session, make_user: UserFactory, fake_assessor: FakeAssessor
) -> None:
    data = _score(db_session, make_user().id, fake_assessor).to_dict()
    assert isinstance(data["created_at"], str)
    assert data["syllables"][1]["hint"].startswith("Tone 3")
    assert data["syllables"][1]["learner_contour"] == [3.0, 3.5, 4.1]


def test_wrong_tone_is_flagged_with_expected_and_heard_tone(
    db_session: Session, make_user: UserFactory
) -> None:
    assessor = FakeAssessor(result([syllable("你", "ni3", 2, 2), syllable("好", "hao3", 3, 2)], pron=60))
    view = _score(db_session, make_user().id, assessor)
    bad = view.syllables[1]
    assert bad.verdict == "wrong_tone" and bad.expected_tone == 3 and bad.detected_tone == 2
    assert bad.hint == "Expected tone 3 — you said tone 2: start lower and dip before rising."
    assert view.wrong_tones == (bad,)


def test_engine_verdict_wins_over_a_differing_detected_tone(
    db_session: Session, make_user: UserFactory
) -> None:
    lenient = syllable("好", "hao3", 3, 2)
    lenient["ToneVerdict"] = "correct"  # expected tone still likely enough: not an error
    view = _score(db_session, make_user().id, FakeAssessor(result([lenient])))
    assert view.syllables[0].verdict == "correct"
    assert view.syllables[0].hint.startswith("Tone 3 — well done")


def test_neutral_and_undecidable_syllables(db_session: Session, make_user: UserFactory) -> None:
    assessor = FakeAssessor(
        result([syllable("你", "ni3", 3, None), syllable("好", "hao3", 3, 3), syllable("吗", "ma5", 5, None)])
    )
    view = _score(db_session, make_user().id, assessor, item_id="greetings.how-are-you")
    assert [s.verdict for s in view.syllables] == ["unclear", "correct", "neutral"]
    assert "couldn't hear" in view.syllables[0].hint
    assert view.syllables[2].hint.startswith("Neutral tone: keep it light and short")


def test_unknown_item_raises_not_found_before_scoring(
    db_session: Session, make_user: UserFactory, fake_assessor: FakeAssessor
) -> None:
    with pytest.raises(NotFoundError) as err:
        _score(db_session, make_user().id, fake_assessor, item_id="no.such-item")
    assert err.value.code == "item_not_found"
    assert fake_assessor.calls == []


def test_invalid_mode_and_key_are_rejected(
    db_session: Session, make_user: UserFactory, fake_assessor: FakeAssessor
) -> None:
    user = make_user().id
    with pytest.raises(ValidationError):
        _score(db_session, user, fake_assessor, mode="cheat")
    with pytest.raises(ValidationError):
        _score(db_session, user, fake_assessor, idempotency_key="x")
    with pytest.raises(ValidationError):
        _score(db_session, user, fake_assessor, engine="other")
    assert fake_assessor.calls == []


def test_same_idempotency_key_returns_the_stored_attempt_without_rescoring(
    db_session: Session, make_user: UserFactory, fake_assessor: FakeAssessor
) -> None:
    user = make_user().id
    first = _score(db_session, user, fake_assessor, idempotency_key="take-0001-abcdef")
    again = _score(db_session, user, fake_assessor, idempotency_key="take-0001-abcdef")
    assert again.id == first.id and again.syllables == first.syllables
    assert again.replayed and not first.replayed
    assert again.xp_awarded == 0
    assert len(fake_assessor.calls) == 1
    assert _count(db_session, Attempt) == 1 and _count(db_session, SyllableResult) == 2
    profile = db_session.exec(select(LearnerProfile).where(LearnerProfile.user_id == user)).one()
    assert profile.xp_total == first.xp_awarded and profile.today_attempts == 1
    assert len(list(storage.iter_stored())) == 1


def test_idempotency_keys_are_per_user(
    db_session: Session, make_user: UserFactory, fake_assessor: FakeAssessor
) -> None:
    a = _score(db_session, make_user().id, fake_assessor, idempotency_key="shared-key-123")
    b = _score(db_session, make_user().id, fake_assessor, idempotency_key="shared-key-123")
    assert a.id != b.id
    assert len(fake_assessor.calls) == 2


def test_audio_error_propagates_and_nothing_is_stored(db_session: Session, make_user: UserFactory) -> None:
    user = make_user().id
    with pytest.raises(AudioCorruptError):
        _score(db_session, user, FakeAssessor(error=AudioCorruptError()))
    assert _count(db_session, Attempt) == 0
    assert _count(db_session, LearnerProfile) == 0
    assert list(storage.iter_stored()) == []


def test_failure_while_saving_removes_the_stored_take(
    db_session: Session, make_user: UserFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sayzhong.practice import review

    def broken(**_: object) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(review, "apply_updates", broken)
    with pytest.raises(RuntimeError):
        _score(db_session, make_user().id, FakeAssessor())
    assert list(storage.iter_stored()) == []


def test_file_name_is_random_and_content_type_sniffed(
    db_session: Session, make_user: UserFactory, fake_assessor: FakeAssessor
) -> None:
    user = make_user().id
    webm = b"\x1a\x45\xdf\xa3" + b"\x00" * 40
    a = _score(db_session, user, fake_assessor, audio=webm, content_type="text/html")
    b = _score(db_session, user, fake_assessor, audio=webm, content_type="audio/webm;codecs=opus")
    rows = [db_session.get(Attempt, a.id), db_session.get(Attempt, b.id)]
    paths = [r.audio_path for r in rows if r]
    assert len(set(paths)) == 2
    assert all(p and p.startswith(f"{user}/") and p.endswith(".webm") for p in paths)
    assert all(r and r.audio_content_type == "audio/webm" for r in rows)


def test_other_users_cannot_read_an_attempt_or_its_audio(
    db_session: Session, make_user: UserFactory, fake_assessor: FakeAssessor
) -> None:
    owner, other = make_user().id, make_user().id
    view = _score(db_session, owner, fake_assessor)
    with pytest.raises(NotFoundError):
        service.get_attempt(session=db_session, user_id=other, attempt_id=view.id)
    with pytest.raises(NotFoundError):
        service.attempt_audio_path(session=db_session, user_id=other, attempt_id=view.id)
    with pytest.raises(NotFoundError):
        service.dialogue_summary(session=db_session, user_id=other, attempt_ids=[view.id])
    assert service.list_attempts(session=db_session, user_id=other) == []


def test_list_attempts_pages_newest_first(
    db_session: Session, make_user: UserFactory, fake_assessor: FakeAssessor
) -> None:
    user = make_user().id
    ids = [_score(db_session, user, fake_assessor).id for _ in range(5)]
    page1 = service.list_attempts(session=db_session, user_id=user, limit=3)
    page2 = service.list_attempts(session=db_session, user_id=user, limit=3, before=page1[-1].id)
    assert [a.id for a in page1 + page2] == list(reversed(ids))


def test_first_attempt_scored_is_emitted_once(
    db_session: Session, make_user: UserFactory, fake_assessor: FakeAssessor
) -> None:
    user = make_user().id
    for _ in range(3):
        _score(db_session, user, fake_assessor)
    db_session.flush()
    events = analytics.list_events(session=db_session, distinct_id=str(user), event="first_attempt_scored")
    assert len(events) == 1
    assert events[0].properties["item_id"] == "greetings.hello"


def test_saved_speaker_profile_is_passed_to_the_engine(
    db_session: Session, make_user: UserFactory, fake_assessor: FakeAssessor
) -> None:
    from sayzhong.pronunciation.profile import SpeakerProfile

    user = make_user().id
    profile = SpeakerProfile(median_st=10.0, range_st=8.0, median_hz=178.0, n_recordings=2, n_syllables=8)
    service.save_speaker_profile(
        session=db_session, user_id=user, samples=[(WAV_BYTES, "妈麻马骂")], builder=lambda _s: profile
    )
    view = _score(db_session, user, fake_assessor)
    assert fake_assessor.calls[0]["profile"] == profile
    assert view.speaker_profile_used is False  # the engine's own flag wins: the fake said it did not use it


def test_dialogue_summary_averages_and_lists_weakest_syllables(
    db_session: Session, make_user: UserFactory
) -> None:
    user = make_user().id
    good = _score(db_session, user, FakeAssessor(result([syllable("你", "ni3", 2, 2)], pron=90)))
    bad = _score(
        db_session,
        user,
        FakeAssessor(
            result([syllable("好", "hao3", 3, 2, score=5), syllable("吗", "ma5", 5, None)], pron=50)
        ),
        mode="dialogue",
    )
    summary = service.dialogue_summary(session=db_session, user_id=user, attempt_ids=[good.id, bad.id])
    assert summary.attempts == 2 and summary.average_pron == 70.0
    assert [(w.grapheme, w.expected_tone, w.detected_tone) for w in summary.weakest] == [("好", 3, 2)]
    assert "you said tone 2" in summary.weakest[0].hint


def test_dialogue_summary_leaves_out_takes_of_another_phrase(
    db_session: Session, make_user: UserFactory
) -> None:
    user = make_user().id
    good = _score(db_session, user, FakeAssessor(result([syllable("你", "ni3", 2, 2)], pron=90)))
    other = _score(
        db_session,
        user,
        FakeAssessor(result([syllable("你", "ni3", 2, 4, score=5)], pron=10, status="different_text")),
        mode="dialogue",
    )
    assert other.counted is False
    summary = service.dialogue_summary(session=db_session, user_id=user, attempt_ids=[good.id, other.id])
    assert summary.attempts == 1 and summary.average_pron == 90.0
    assert summary.weakest == ()


def test_purge_orphan_audio_keeps_referenced_takes(
    db_session: Session, make_user: UserFactory, fake_assessor: FakeAssessor
) -> None:
    from datetime import timedelta

    user = make_user().id
    _score(db_session, user, fake_assessor)
    orphan = storage.save_take(user_id=user, data=WAV_BYTES)
    removed = service.purge_orphan_audio(session=db_session, older_than=timedelta(0))
    assert removed == 1
    assert len(list(storage.iter_stored())) == 1
    with pytest.raises(NotFoundError):
        storage.path_of(orphan.relative_path)


def test_a_racing_submission_with_the_same_key_is_a_conflict_and_keeps_no_file(
    db_session: Session, make_user: UserFactory
) -> None:
    user = make_user().id

    def racing_assessor(**kwargs: object) -> dict:
        # Another request stores the same key while this one is being scored.
        db_session.add(
            Attempt(
                user_id=user,
                item_id="greetings.hello",
                mode="practice",
                text="你好",
                engine="offline",
                idempotency_key="race-key-0001",
            )
        )
        db_session.flush()
        return FakeAssessor()(**kwargs)  # type: ignore[arg-type]

    with pytest.raises(service.AttemptConflictError) as err:
        service.score_attempt(
            session=db_session,
            user_id=user,
            item_id="greetings.hello",
            audio=WAV_BYTES,
            content_type="audio/wav",
            idempotency_key="race-key-0001",
            assessor=racing_assessor,  # type: ignore[arg-type]
        )
    assert err.value.http_status == 409
    assert list(storage.iter_stored()) == []


def test_expired_recordings_are_deleted_but_scores_stay(
    db_session: Session, make_user: UserFactory, fake_assessor: FakeAssessor
) -> None:
    from datetime import UTC, datetime, timedelta

    user = make_user().id
    old = _score(db_session, user, fake_assessor, now=datetime.now(UTC) - timedelta(days=200))
    new = _score(db_session, user, fake_assessor)
    assert service.purge_expired_audio(session=db_session) == 1
    assert service.purge_expired_audio(session=db_session) == 0
    with pytest.raises(NotFoundError):
        service.attempt_audio_path(session=db_session, user_id=user, attempt_id=old.id)
    assert service.attempt_audio_path(session=db_session, user_id=user, attempt_id=new.id).is_file()
    kept = service.get_attempt(session=db_session, user_id=user, attempt_id=old.id)
    assert not kept.has_audio and kept.pron == old.pron and kept.syllables == old.syllables
    assert len(list(storage.iter_stored())) == 1


def test_content_is_scored_against_its_reviewed_pinyin(
    db_session: Session, make_user: UserFactory, fake_assessor: FakeAssessor
) -> None:
    _score(db_session, make_user().id, fake_assessor, item_id="greetings.good-morning")
    assert fake_assessor.calls[0]["text"] == "早上好！"
    assert fake_assessor.calls[0]["reading"] == "zao3 shang5 hao3"


def test_returns_are_emitted_once_per_later_day_with_the_days_since_sign_up(
    db_session: Session, make_user: UserFactory, fake_assessor: FakeAssessor
) -> None:
    from datetime import UTC, datetime, timedelta

    from sayzhong.accounts.models import User

    signed_up = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
    user = make_user().id
    row = db_session.get(User, user)
    assert row is not None
    row.created_at = signed_up
    db_session.add(row)
    for offset in (
        timedelta(hours=1),
        timedelta(hours=2),
        timedelta(days=1),
        timedelta(days=1, hours=3),
        timedelta(days=6),
    ):
        _score(db_session, user, fake_assessor, now=signed_up + offset)
    db_session.flush()
    events = analytics.list_events(session=db_session, distinct_id=str(user), event="returned")
    # Sign-up day: no return; day 1 once (not for its second take); day 6 once.
    assert sorted(e.properties["day"] for e in events) == [1, 6]
