"""Onboarding: the step flow, funnel events once each, calibration, placement and recommendation."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from sayzhong.analytics import service as analytics
from sayzhong.curriculum import service as curriculum
from sayzhong.errors import NotFoundError, ValidationError
from sayzhong.practice import service
from sayzhong.practice.models import LearnerProfile
from sayzhong.practice.progress import get_profile
from sayzhong.pronunciation.profile import SpeakerProfile
from sayzhong.pronunciation.text import expected_syllables
from tests.factories import PROFILE, AttemptFactory, ProfileFactory, UserFactory
from tests.support.practice_fakes import WAV_BYTES, result, syllable


def _events(session: Session, user: int) -> list[str]:
    session.flush()
    return sorted(e.event for e in analytics.list_events(session=session, distinct_id=str(user)))


def test_onboarding_steps_in_order(
    db_session: Session, make_user: UserFactory, make_profile: ProfileFactory
) -> None:
    user = make_user().id
    assert service.onboarding_state(session=db_session, user_id=user).next_step == "questions"
    state = service.start_onboarding(session=db_session, user_id=user)
    assert state.started and state.next_step == "questions"
    state = service.save_onboarding_answers(session=db_session, user_id=user, goal="travel", level="some")
    assert (state.goal, state.level, state.next_step) == ("travel", "some", "mic_check")
    samples = [(WAV_BYTES, p.text) for p in service.calibration_prompts()]
    summary = make_profile(user, samples=samples)
    assert summary.median_hz == 224.5 and summary.recordings == 4
    assert service.onboarding_state(session=db_session, user_id=user).next_step == "placement"
    service.recommend_unit(session=db_session, user_id=user, placement_attempt_ids=[])
    assert service.onboarding_state(session=db_session, user_id=user).next_step == "done"
    state = service.finish_onboarding(session=db_session, user_id=user)
    assert state.finished and state.mic_check_passed and state.placement_done


def test_funnel_events_are_emitted_once_each(
    db_session: Session, make_user: UserFactory, make_profile: ProfileFactory
) -> None:
    user = make_user().id
    for _ in range(2):
        service.start_onboarding(session=db_session, user_id=user)
        service.save_onboarding_answers(session=db_session, user_id=user, goal="work", level="new")
        make_profile(user)
        service.finish_onboarding(session=db_session, user_id=user)
    assert _events(db_session, user) == ["mic_check_passed", "onboarding_finished", "onboarding_started"]


def test_answers_are_validated(db_session: Session, make_user: UserFactory) -> None:
    user = make_user().id
    with pytest.raises(ValidationError):
        service.save_onboarding_answers(
            session=db_session, user_id=user, goal="world domination", level="new"
        )
    with pytest.raises(ValidationError):
        service.save_onboarding_answers(session=db_session, user_id=user, goal="fun", level="expert")
    with pytest.raises(ValidationError):
        service.finish_onboarding(session=db_session, user_id=user)


def test_finishing_without_mic_check_recommends_a_unit_by_level(
    db_session: Session, make_user: UserFactory
) -> None:
    user = make_user().id
    service.save_onboarding_answers(session=db_session, user_id=user, goal="heritage", level="intermediate")
    state = service.finish_onboarding(session=db_session, user_id=user)
    assert state.finished and not state.mic_check_passed
    assert state.recommended_unit_id == curriculum.list_units()[2].id


def test_speaker_profile_round_trip_and_redo(
    db_session: Session, make_user: UserFactory, make_profile: ProfileFactory
) -> None:
    user = make_user().id
    assert service.get_speaker_profile(session=db_session, user_id=user) is None
    make_profile(user)
    assert service.get_speaker_profile(session=db_session, user_id=user) == PROFILE
    lower = SpeakerProfile(median_st=2.0, range_st=7.0, median_hz=112.2, n_recordings=1, n_syllables=4)
    make_profile(user, lower)
    assert service.get_speaker_profile(session=db_session, user_id=user) == lower


def test_damaged_speaker_profile_is_ignored(db_session: Session, make_user: UserFactory) -> None:
    user = make_user().id
    db_session.add(LearnerProfile(user_id=user, speaker_profile_json={"format": "something else"}))
    db_session.flush()
    assert service.get_speaker_profile(session=db_session, user_id=user) is None


def test_calibration_requires_samples(make_user: UserFactory, make_profile: ProfileFactory) -> None:
    with pytest.raises(ValidationError):
        make_profile(make_user().id, samples=[])


def test_calibration_prompts_each_cover_all_four_tones() -> None:
    prompts = service.calibration_prompts()
    assert len(prompts) >= 3
    for prompt in prompts:
        assert sorted(s.surface_tone for s in expected_syllables(prompt.text)) == [1, 2, 3, 4]
        assert prompt.tones == (1, 2, 3, 4)


def test_placement_prompts_are_five_phrases_of_rising_length() -> None:
    prompts = service.placement_prompts()
    lengths = [len(p.pinyin.split()) for p in prompts]
    assert len(prompts) == 5 and all(p.kind == "phrase" for p in prompts)
    assert lengths == sorted(lengths) and len(set(lengths)) == 5


GOOD = result([syllable("你", "ni3", 2, 2), syllable("好", "hao3", 3, 3)], pron=88)
POOR = result([syllable("你", "ni3", 2, 4), syllable("好", "hao3", 3, 1)], pron=55)


def _placement(session: Session, user: int, outcomes: list[dict]) -> list[int]:
    ids = []
    for prompt, res in zip(service.placement_prompts(), outcomes, strict=False):
        view = AttemptFactory(session)(user, res, item_id=prompt.id, mode="placement")
        ids.append(view.id)
    return ids


@pytest.mark.parametrize(
    ("level", "outcomes", "unit_index"),
    [
        ("some", [GOOD] * 5, 4),
        ("some", [GOOD, GOOD, POOR, GOOD, GOOD], 1),
        ("some", [POOR] + [GOOD] * 4, 0),
        ("intermediate", [GOOD, GOOD, GOOD, POOR, POOR], 2),
        ("new", [GOOD] * 5, 1),
    ],
)
def test_recommendation_follows_phrases_passed_in_order(
    db_session: Session, make_user: UserFactory, level: str, outcomes: list[dict], unit_index: int
) -> None:
    user = make_user().id
    service.save_onboarding_answers(session=db_session, user_id=user, goal="fun", level=level)
    ids = _placement(db_session, user, outcomes)
    rec = service.recommend_unit(session=db_session, user_id=user, placement_attempt_ids=ids)
    unit = curriculum.list_units()[unit_index]
    assert (rec.unit_id, rec.title) == (unit.id, unit.title)
    assert rec.reason
    profile = get_profile(db_session, user)
    assert profile is not None and profile.recommended_unit_id == unit.id


def test_recommendation_refuses_someone_elses_attempts(db_session: Session, make_user: UserFactory) -> None:
    owner, other = make_user().id, make_user().id
    ids = _placement(db_session, owner, [GOOD])
    with pytest.raises(NotFoundError):
        service.recommend_unit(session=db_session, user_id=other, placement_attempt_ids=ids)
