"""Per-learner time to mastery and the per-segment aggregates, computed by the nightly job from a small
hand-made history: every expected number is worked out in the comments.

Mastery (docs/bi.md): a tone is mastered at the first take after which at least 16 of the learner's
last 20 judged syllables of it were correct; days count reporting days from the first take of the tone,
takes count the takes with a judged syllable of it (first and mastering take included).
"""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, select

from sayzhong.accounts.models import User
from sayzhong.bi import aggregate, metrics
from sayzhong.bi.models import (
    BiDailyMastery,
    BiDailyRevenue,
    BiDailySegmentRevenue,
    BiDailyToneStart,
    BiToneProgress,
)
from sayzhong.db import as_utc
from sayzhong.practice.models import Attempt, SyllableResult
from sayzhong.privacy.participants import erase_bi
from sayzhong.privacy.ports import ErasureSubject
from tests.support.bi_scenario import add_take, add_user, at, build_billing, build_learners

MAR2, MAR3, MAR4, MAR5 = (date(2026, 3, d) for d in (2, 3, 4, 5))
WEEK = MAR2  # every learner here signed up in the week of Monday 03-02
RIGHT, WRONG = "correct", "wrong_tone"


def _syllables(tone: int, verdicts: list[str]) -> tuple[tuple[int, int | None, str], ...]:
    return tuple((tone, None if i == 0 else tone, v) for i, v in enumerate(verdicts))


def _history(session: Session) -> dict[str, int]:
    ids = {
        "M1": add_user(session, "M1", "2026-03-02 08:00", props={"channel": "ads"}),
        "M2": add_user(session, "M2", "2026-03-02 09:00", props={"channel": "organic"}),
        "M3": add_user(session, "M3", "2026-03-02 10:00", props={"channel": "ads"}),
        "M4": add_user(session, "M4", "2026-03-02 11:00", props={"channel": "ads"}),
        "S": add_user(session, "S", "2026-03-01 10:00", role="support"),
    }
    # M1, tone 3: 5 wrong then 5 right (03-02), 10 right (03-03) → 15 of the last 20; the first right
    # syllable of 03-05 pushes the oldest wrong one out: 16 of 20 → mastered on 03-05, 3 days, 3 takes.
    # A neutral syllable (tone 5) on the first take is never judged.
    add_take(
        session,
        ids["M1"],
        "2026-03-02 09:00",
        syllables=(*_syllables(3, [WRONG] * 5 + [RIGHT] * 5), (5, 3, "neutral")),
    )
    add_take(session, ids["M1"], "2026-03-03 09:00", syllables=_syllables(3, [RIGHT] * 10))
    add_take(session, ids["M1"], "2026-03-05 09:00", syllables=_syllables(3, [RIGHT] * 10))
    # M2, tone 3: right and wrong by turns on three takes — every window of 20 holds 10 right: never.
    for when in ("2026-03-02 10:00", "2026-03-04 10:00", "2026-03-05 10:00"):
        add_take(session, ids["M2"], when, syllables=_syllables(3, [RIGHT, WRONG] * 5))
    # M3, tone 1: 10 right at 15:00 UTC and 10 right at 17:00 UTC on 03-02 → mastered on the 2nd take.
    # In Shanghai (UTC+8) those are 23:00 on 03-02 and 01:00 on 03-03: one day apart there.
    add_take(session, ids["M3"], "2026-03-02 15:00", syllables=_syllables(1, [RIGHT] * 10))
    add_take(session, ids["M3"], "2026-03-02 17:00", syllables=_syllables(1, [RIGHT] * 10))
    # M4, tone 4: 20 right in one take on 03-04 → 0 days, 1 take (erased later).
    add_take(session, ids["M4"], "2026-03-04 12:00", syllables=_syllables(4, [RIGHT] * 20))
    # Staff never count.
    add_take(session, ids["S"], "2026-03-04 12:00", syllables=_syllables(2, [RIGHT] * 20))
    return ids


def _starts(session: Session) -> dict[tuple[date, str, int], int]:
    rows = session.exec(select(BiDailyToneStart)).all()
    assert {r.cohort_week for r in rows} <= {WEEK}
    return {(r.day, r.segment, r.tone): r.learners for r in rows}


def _mastered(session: Session) -> dict[tuple[date, str, int, int, int], int]:
    rows = session.exec(select(BiDailyMastery)).all()
    assert {r.cohort_week for r in rows} <= {WEEK}
    return {(r.day, r.segment, r.tone, r.days, r.takes): r.learners for r in rows}


def test_time_to_mastery_per_learner(db_session: Session) -> None:
    _history(db_session)
    aggregate.aggregate(session=db_session, start=MAR2, end=MAR5, timezone="UTC")
    assert _starts(db_session) == {
        (MAR2, "channel:ads", 3): 1,  # M1
        (MAR2, "channel:organic", 3): 1,  # M2 (never masters)
        (MAR2, "channel:ads", 1): 1,  # M3
        (MAR4, "channel:ads", 4): 1,  # M4
    }
    assert _mastered(db_session) == {
        (MAR5, "channel:ads", 3, 3, 3): 1,  # M1
        (MAR2, "channel:ads", 1, 0, 2): 1,  # M3: same day, two takes
        (MAR4, "channel:ads", 4, 0, 1): 1,  # M4
    }
    aggregate.aggregate(session=db_session, start=MAR2, end=MAR5, timezone="UTC")  # re-run: same rows
    assert sum(_mastered(db_session).values()) == 3


def test_the_nightly_run_reads_the_history_before_its_days(db_session: Session) -> None:
    _history(db_session)
    aggregate.aggregate(session=db_session, start=MAR5, end=MAR5, timezone="UTC")
    # Only 03-05 is computed: M1's mastery (counted from 03-02), nobody started a tone that day.
    assert _mastered(db_session) == {(MAR5, "channel:ads", 3, 3, 3): 1}
    assert _starts(db_session) == {}


def test_mastery_days_are_reporting_days_in_the_time_zone(db_session: Session) -> None:
    _history(db_session)
    aggregate.aggregate(session=db_session, start=MAR2, end=MAR5, timezone="Asia/Shanghai")
    assert _starts(db_session)[(MAR2, "channel:ads", 1)] == 1
    tone1 = {k: n for k, n in _mastered(db_session).items() if k[2] == 1}
    assert tone1 == {(MAR3, "channel:ads", 1, 1, 2): 1}  # 03-02 23:00 → 03-03 01:00 there


def test_an_erased_learner_leaves_the_days_recomputed_after(db_session: Session) -> None:
    ids = _history(db_session)
    aggregate.aggregate(session=db_session, start=MAR4, end=MAR4, timezone="UTC")
    assert _mastered(db_session) == {(MAR4, "channel:ads", 4, 0, 1): 1}
    learner = db_session.get(User, ids["M4"])
    db_session.delete(learner)  # erasure deletes the account; its takes and syllables go with it
    db_session.flush()
    db_session.expire_all()
    aggregate.aggregate(session=db_session, start=MAR4, end=MAR4, timezone="UTC")
    db_session.expire_all()
    assert _mastered(db_session) == {}
    assert _starts(db_session) == {}  # M2 started on 03-02, not 03-04


def test_the_page_reads_the_nightly_rows_and_hides_small_cells(db_session: Session) -> None:
    _history(db_session)
    aggregate.aggregate(session=db_session, start=MAR2, end=MAR5, timezone="UTC")
    rows = {(r[0], r[1]): r[2:] for r in metrics.time_to_mastery(session=db_session, end=MAR5).rows}
    # Tone 3: M1 and M2 started, M1 mastered — 2 and 1 learners: small cells, nothing shown.
    assert rows[("all", 3)] == (None, None, None, None, None, None, None)
    assert rows[("all", 2)] == (0, 0, "—", "—", "—", "—", "—")  # only the staff member practised tone 2


def test_revenue_segments_add_up_to_the_whole_business(db_session: Session) -> None:
    ids = build_learners(db_session)
    build_billing(db_session, ids)
    aggregate.aggregate(session=db_session, start=date(2026, 3, 1), end=date(2026, 4, 2), timezone="UTC")
    for whole in db_session.exec(select(BiDailyRevenue)).all():
        parts = db_session.exec(
            select(BiDailySegmentRevenue).where(BiDailySegmentRevenue.day == whole.day)
        ).all()
        for figure in aggregate.REVENUE_FIGURES:
            assert sum(getattr(p, figure) for p in parts) == getattr(whole, figure), (whole.day, figure)
    # Both paying customers (A and D) signed up through ads: on 03-08 their MRR is the ads segment's.
    ads = db_session.get(BiDailySegmentRevenue, (date(2026, 3, 8), "channel:ads"))
    assert ads is not None and (ads.mrr, ads.paying, ads.new_paying) == (999 + 667, 2, 2)
    # The scenario's invoice events carry no customer: they count under "channel:unknown".
    unknown = db_session.get(BiDailySegmentRevenue, (date(2026, 3, 8), "channel:unknown"))
    assert unknown is not None and (unknown.invoices_paid, unknown.payment_failures) == (2, 1)


def test_the_nightly_run_resumes_from_the_saved_state(db_session: Session) -> None:
    ids = _history(db_session)
    aggregate.aggregate(session=db_session, start=MAR3, end=MAR4, timezone="UTC")
    # The walk is saved as of the start of the range's last but one day (03-03 00:00): the next nightly
    # range (03-04 … 03-05), or this one again, begins at or after it. M1 by then: 1 take of tone 3
    # (03-02) with 10 verdicts — 5 wrong, then 5 right — not yet mastered.
    saved = db_session.get(BiToneProgress, ids["M1"])
    assert saved is not None and as_utc(saved.as_of) == at("2026-03-03 00:00")
    assert saved.tones == {
        "3": {
            "first_at": at("2026-03-02 09:00").isoformat(),
            "takes": 1,
            "recent": "0" * 5 + "1" * 5,
            "mastered_at": None,
        }
    }
    # Proof that the next run reads only what came after: M1's first take is removed from the history.
    # Re-read from the beginning, M1 would master tone 3 after 2 takes over 2 days (03-03 → 03-05);
    # resumed from the saved state it is still 3 takes over 3 days, as the full history says.
    first = db_session.exec(
        select(Attempt).where(Attempt.user_id == ids["M1"]).order_by(col(Attempt.created_at))
    ).first()
    assert first is not None
    for syllable in db_session.exec(select(SyllableResult).where(SyllableResult.attempt_id == first.id)):
        db_session.delete(syllable)
    db_session.flush()
    aggregate.aggregate(session=db_session, start=MAR4, end=MAR5, timezone="UTC")
    assert {k: n for k, n in _mastered(db_session).items() if k[0] == MAR5} == {
        (MAR5, "channel:ads", 3, 3, 3): 1
    }
    # A range starting before the saved moment reads the history again (and saves what it found).
    aggregate.aggregate(session=db_session, start=MAR2, end=MAR5, timezone="UTC")
    assert {k: n for k, n in _mastered(db_session).items() if k[0] == MAR5} == {
        (MAR5, "channel:ads", 3, 2, 2): 1
    }
    db_session.expire_all()
    resaved = db_session.get(BiToneProgress, ids["M1"])
    assert resaved is not None and as_utc(resaved.as_of) == at("2026-03-04 00:00")


def test_erasure_deletes_the_saved_state(db_session: Session) -> None:
    ids = _history(db_session)
    aggregate.aggregate(session=db_session, start=MAR2, end=MAR5, timezone="UTC")
    assert db_session.get(BiToneProgress, ids["M4"]) is not None
    removed = erase_bi(
        session=db_session,
        subject=ErasureSubject(user_id=ids["M4"], email="m4@example.com", pseudonym="erased-m4"),
    )
    assert removed == 1
    db_session.expire_all()
    assert db_session.get(BiToneProgress, ids["M4"]) is None


def test_resumed_nightly_runs_give_the_rows_of_a_full_run(db_session: Session) -> None:
    _history(db_session)
    aggregate.aggregate(session=db_session, start=MAR2, end=MAR5, timezone="UTC")
    full = (_starts(db_session), _mastered(db_session))
    # Night after night, each two-day range resuming from the state the run before saved.
    for first in (MAR2, MAR3, MAR4):
        aggregate.aggregate(session=db_session, start=first, end=date(2026, 3, first.day + 1), timezone="UTC")
        db_session.expire_all()
    assert (_starts(db_session), _mastered(db_session)) == full
