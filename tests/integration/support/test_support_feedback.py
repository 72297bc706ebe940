"""Feedback about scoring: answers stored with the attempt's syllable, the disagreement report, and
the export of disputed takes only with the learner's consent."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session

from sayzhong.db import utcnow
from sayzhong.errors import NotFoundError, PermissionDeniedError, ValidationError
from sayzhong.practice.models import SyllableResult
from sayzhong.support import feedback
from tests.factories import UserFactory


def _syllables(db_session: Session, user_id: int, attempt_id: int) -> None:
    for position, (grapheme, expected, detected, verdict) in enumerate(
        (("今", 1, 1, "correct"), ("天", 1, 4, "wrong_tone"))
    ):
        db_session.add(
            SyllableResult(
                attempt_id=attempt_id,
                user_id=user_id,
                position=position,
                grapheme=grapheme,
                pinyin="x",
                expected_tone=expected,
                detected_tone=detected,
                verdict=verdict,
                correct=verdict == "correct",
                prev_expected_tone=1 if position else None,
            )
        )
    db_session.flush()


def test_answers_are_stored_with_the_tones_and_reported_by_tone_pair_phrase_and_engine(
    db_session: Session, make_user: UserFactory, make_take: Callable[[int], int]
) -> None:
    learner, staff = make_user(), make_user(role="support")
    attempt = make_take(learner.id)
    _syllables(db_session, learner.id, attempt)
    feedback.record_verdict_feedback(
        session=db_session, user_id=learner.id, attempt_id=attempt, position=0, answer="yes"
    )
    feedback.record_verdict_feedback(
        session=db_session, user_id=learner.id, attempt_id=attempt, position=1, answer="no_other"
    )
    # Changing one's mind replaces the answer (one per syllable).
    feedback.record_verdict_feedback(
        session=db_session, user_id=learner.id, attempt_id=attempt, position=1, answer="no_correct"
    )
    report = feedback.disagreement_report(session=db_session, actor=staff, since=utcnow() - timedelta(days=1))
    assert (report.answers, report.disputed) == (2, 1)
    assert [(r.key, r.answers, r.disputed) for r in report.by_tone] == [("tone 1", 2, 1)]
    assert [(r.key, r.disputed) for r in report.by_tone_pair] == [("1-1", 1)]
    assert report.by_phrase[0].key == "今天" and report.by_engine[0].key == "offline"
    with pytest.raises(PermissionDeniedError):
        feedback.disagreement_report(session=db_session, actor=learner, since=utcnow())


def test_only_consented_disputed_takes_are_exported(
    db_session: Session, make_user: UserFactory, make_take: Callable[[int], int], tmp_path: Path
) -> None:
    learner = make_user()
    shared, private = make_take(learner.id), make_take(learner.id)
    for attempt in (shared, private):
        _syllables(db_session, learner.id, attempt)
        feedback.record_verdict_feedback(
            session=db_session, user_id=learner.id, attempt_id=attempt, position=1, answer="no_correct"
        )
    feedback.share_disputed_take(session=db_session, user_id=learner.id, attempt_id=shared, position=1)
    assert feedback.export_disputed(session=db_session, out_dir=tmp_path) == 1
    lines = [json.loads(line) for line in (tmp_path / "manifest.jsonl").read_text().splitlines()]
    assert lines == [
        {
            "take": f"take-{shared}.webm",
            "text": "今天",
            "item_id": "drill.t1-1.jintian",
            "position": 1,
            "grapheme": "天",
            "expected_tone": 1,
            "detected_tone": 4,
            "verdict": "wrong_tone",
            "answer": "no_correct",
            "engine": "offline",
        }
    ]
    assert (tmp_path / f"take-{shared}.webm").read_bytes().startswith(b"\x1a\x45\xdf\xa3")


def test_feedback_is_only_on_ones_own_attempts_and_valid_answers(
    db_session: Session, make_user: UserFactory, make_take: Callable[[int], int]
) -> None:
    ana, ben = make_user(), make_user()
    attempt = make_take(ana.id)
    _syllables(db_session, ana.id, attempt)
    with pytest.raises(NotFoundError):
        feedback.record_verdict_feedback(
            session=db_session, user_id=ben.id, attempt_id=attempt, position=0, answer="yes"
        )
    with pytest.raises(NotFoundError):
        feedback.record_verdict_feedback(
            session=db_session, user_id=ana.id, attempt_id=attempt, position=9, answer="yes"
        )
    with pytest.raises(ValidationError):
        feedback.record_verdict_feedback(
            session=db_session, user_id=ana.id, attempt_id=attempt, position=0, answer="meh"
        )
    feedback.record_verdict_feedback(
        session=db_session, user_id=ana.id, attempt_id=attempt, position=0, answer="yes"
    )
    with pytest.raises(NotFoundError):  # nothing disputed to share
        feedback.share_disputed_take(session=db_session, user_id=ana.id, attempt_id=attempt, position=0)
    with pytest.raises(NotFoundError):
        feedback.share_disputed_take(session=db_session, user_id=ben.id, attempt_id=attempt, position=1)


def test_nps_is_asked_of_active_learners_at_most_once_per_90_days(
    db_session: Session, make_user: UserFactory, make_take: Callable[[int], int]
) -> None:
    learner, staff = make_user(), make_user(role="support")
    now = utcnow() + timedelta(days=10)  # the account is 10 days old
    assert not feedback.should_ask_nps(session=db_session, user_id=learner.id, now=now)  # no takes yet
    for _ in range(feedback.NPS_MIN_ATTEMPTS - 1):
        make_take(learner.id)
    assert not feedback.should_ask_nps(session=db_session, user_id=learner.id, now=now)  # one take short
    make_take(learner.id)
    assert not feedback.should_ask_nps(session=db_session, user_id=learner.id, now=utcnow())  # too new
    assert feedback.should_ask_nps(session=db_session, user_id=learner.id, now=now)
    # The home page hands over the sign-up time its guard has just read: the same answers.
    signed_up = learner.created_at
    assert feedback.should_ask_nps(session=db_session, user_id=learner.id, now=now, signed_up_at=signed_up)
    assert not feedback.should_ask_nps(
        session=db_session, user_id=learner.id, now=signed_up + timedelta(days=2), signed_up_at=signed_up
    )
    with pytest.raises(ValidationError):
        feedback.answer_nps(session=db_session, user_id=learner.id, score=11, now=now)
    feedback.answer_nps(session=db_session, user_id=learner.id, score=9, now=now)
    assert not feedback.should_ask_nps(session=db_session, user_id=learner.id, now=now + timedelta(days=89))
    with pytest.raises(ValidationError):
        feedback.answer_nps(session=db_session, user_id=learner.id, score=3, now=now + timedelta(days=1))
    # A dismissal also counts as asked.
    feedback.answer_nps(session=db_session, user_id=learner.id, score=None, now=now + timedelta(days=91))
    assert not feedback.should_ask_nps(session=db_session, user_id=learner.id, now=now + timedelta(days=100))
    assert feedback.nps_score(session=db_session, actor=staff, since=now - timedelta(days=1)) == (100.0, 1)


def test_nps_check_stops_reading_what_can_only_stay_true(
    db_session: Session, make_user: UserFactory, make_take: Callable[[int], int]
) -> None:
    """Every home load asks `should_ask_nps`: once a learner has 5 takes that is not read again,
    and after an answer nothing is read until the 90 days are over — the answers stay the same."""
    from tests.support.statements import statements_sent

    learner = make_user()
    now = learner.created_at + timedelta(days=10)  # an account 10 days old
    for _ in range(feedback.NPS_MIN_ATTEMPTS):
        make_take(learner.id)
    statements: list[str] = []

    def ask(at: datetime) -> bool:
        with statements_sent(db_session) as sent:
            due = feedback.should_ask_nps(
                session=db_session, user_id=learner.id, now=at, signed_up_at=learner.created_at
            )
        statements[:] = sent
        return due

    feedback.NPS_FACTS.clear()
    assert ask(now) and len(statements) == 2  # the takes, the last answer
    assert ask(now) and len(statements) == 1  # 5 takes stay 5 takes
    feedback.answer_nps(session=db_session, user_id=learner.id, score=8, now=now)
    assert not ask(now + timedelta(days=1)) and len(statements) == 1
    assert not ask(now + timedelta(days=2)) and statements == []  # answered: nothing to read
    assert not ask(now + timedelta(days=89)) and statements == []
    assert ask(now + timedelta(days=91)) and len(statements) == 1  # due again: read to be sure
