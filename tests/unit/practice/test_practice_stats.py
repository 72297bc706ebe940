"""Tone statistics on hand-built results: per tone, per tone pair, weakest, and over time."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlmodel import Session

from sayzhong.practice import service
from tests.factories import AttemptFactory, UserFactory
from tests.support.practice_fakes import result, syllable

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def _take(session: Session, user: int, syllables: list[dict], *, now: datetime = NOW) -> None:
    AttemptFactory(session)(user, result(syllables), now=now)


def _history(session: Session, user: int) -> None:
    for _ in range(5):
        _take(session, user, [syllable("飞", "fei1", 1, 1), syllable("快", "kuai4", 4, 2)])
    for _ in range(4):
        _take(session, user, [syllable("没", "mei2", 2, 2), syllable("有", "you3", 3, 3)])
    _take(session, user, [syllable("没", "mei2", 2, 2), syllable("有", "you3", 3, None)])
    _take(session, user, [syllable("你", "ni3", 3, 3), syllable("的", "de5", 5, None)])


def test_accuracy_per_tone_counts_decided_syllables(db_session: Session, make_user: UserFactory) -> None:
    user = make_user().id
    _history(db_session, user)
    stats = service.tone_stats(session=db_session, user_id=user)
    by_tone = {t.tone: (t.correct, t.total, t.unclear, t.accuracy) for t in stats.tones}
    assert by_tone == {1: (5, 5, 0, 1.0), 2: (5, 5, 0, 1.0), 3: (5, 5, 1, 1.0), 4: (0, 5, 0, 0.0)}
    assert stats.total_syllables == 21
    assert [t.tone for t in stats.weakest_tones] == [4]


def test_tone_pairs_need_both_tones_right(db_session: Session, make_user: UserFactory) -> None:
    user = make_user().id
    _history(db_session, user)
    stats = service.tone_stats(session=db_session, user_id=user)
    pairs = {(p.first, p.second): (p.correct, p.total) for p in stats.pairs}
    # (3 → neutral) and the pair with an unclear syllable are not counted.
    assert pairs == {(1, 4): (0, 5), (2, 3): (4, 4)}
    assert [(p.first, p.second) for p in stats.weakest_pairs] == [(1, 4)]


def test_weakest_lists_need_the_minimum_sample_size(db_session: Session, make_user: UserFactory) -> None:
    user = make_user().id
    _history(db_session, user)
    stats = service.tone_stats(session=db_session, user_id=user, min_samples=6)
    assert stats.weakest_tones == () and stats.weakest_pairs == ()


def test_stats_are_per_user_and_empty_without_data(db_session: Session, make_user: UserFactory) -> None:
    user, other = make_user().id, make_user().id
    _history(db_session, user)
    stats = service.tone_stats(session=db_session, user_id=other)
    assert [t.accuracy for t in stats.tones] == [None, None, None, None]
    assert stats.pairs == () and stats.total_syllables == 0


def test_accuracy_over_time_groups_by_the_learners_day(db_session: Session, make_user: UserFactory) -> None:
    user = make_user().id
    _take(db_session, user, [syllable("飞", "fei1", 1, 3)], now=datetime(2026, 11, 20, 10, 0, tzinfo=UTC))
    _take(db_session, user, [syllable("飞", "fei1", 1, 1)], now=datetime(2026, 11, 20, 23, 30, tzinfo=UTC))

    in_utc = service.accuracy_over_time(session=db_session, user_id=user, now=NOW)
    assert [(p.date, p.tone, p.accuracy, p.count) for p in in_utc] == [(date(2026, 11, 20), 1, 0.5, 2)]

    in_shanghai = service.accuracy_over_time(
        session=db_session, user_id=user, user_timezone="Asia/Shanghai", now=NOW
    )
    assert [(p.date, p.accuracy, p.count) for p in in_shanghai] == [
        (date(2026, 11, 20), 0.0, 1),
        (date(2026, 11, 21), 1.0, 1),
    ]


def test_accuracy_over_time_leaves_out_older_days(db_session: Session, make_user: UserFactory) -> None:
    user = make_user().id
    _take(db_session, user, [syllable("飞", "fei1", 1, 1)], now=datetime(2026, 10, 1, 10, 0, tzinfo=UTC))
    _take(db_session, user, [syllable("飞", "fei1", 1, 1)], now=datetime(2026, 11, 19, 10, 0, tzinfo=UTC))
    points = service.accuracy_over_time(session=db_session, user_id=user, days=7, now=NOW)
    assert [p.date for p in points] == [date(2026, 11, 19)]
