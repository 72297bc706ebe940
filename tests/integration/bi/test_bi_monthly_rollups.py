"""The learning page reads whole months of a long range from the monthly roll-ups and the partial months
at its ends from the daily rows: every range must count each day exactly once (issue 15)."""

from __future__ import annotations

import importlib.util
import os
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, text
from sqlalchemy import select as sa_select
from sqlmodel import Session

from sayzhong.bi import aggregate, metrics
from sayzhong.bi.models import (
    BiDailyContent,
    BiDailyMastery,
    BiDailyTone,
    BiDailyToneStart,
    BiMonthlyToneBucket,
    BiMonthlyTonePair,
)
from sayzhong.settings import REPO_ROOT
from tests.support.bi_scenario import build_learners

ADS, ORGANIC = "channel:ads", "channel:organic"
JAN, FEB = date(2026, 1, 5), date(2026, 2, 2)  # two sign-up weeks (Mondays)
# Day i carries 5·2^i judged syllables (2^i correct): a range's total names exactly the days it counted.
DAYS = [
    date(2026, 1, 30),
    date(2026, 1, 31),
    date(2026, 2, 1),
    date(2026, 2, 14),
    date(2026, 2, 28),
    date(2026, 3, 1),
    date(2026, 3, 31),
    date(2026, 4, 1),
]


def _write_days(session: Session) -> None:
    for i, day in enumerate(DAYS):
        # Tone 3 after tone 2, first take, with the profile: channel ads, January's sign-ups …
        session.add(
            BiDailyTone(
                day=day,
                cohort_week=JAN,
                segment=ADS,
                tone=3,
                prev_tone=2,
                speaker_profile=True,
                take_bucket="1",
                judged=5 * 2**i,
                correct=2**i,
            )
        )
        # … and 1000× as many, tone 4 without the profile, from February's organic learners.
        session.add(
            BiDailyTone(
                day=day,
                cohort_week=FEB,
                segment=ORGANIC,
                tone=4,
                prev_tone=0,
                speaker_profile=False,
                take_bucket="2-5",
                judged=5000 * 2**i,
                correct=1000 * 2**i,
            )
        )
        # Content: an item practised by 5·2^i learner-days, 10·2^i takes, 2^i failed.
        session.add(
            BiDailyContent(
                day=day,
                item_id="greetings.hello",
                segment=ADS,
                takes=10 * 2**i,
                failed_takes=2**i,
                learners=5 * 2**i,
                gave_up=0,
            )
        )
        # Time to mastery: 10·2^i learners start tone 2 and 5·2^i master it in 3 days and 7 takes.
        session.add(BiDailyToneStart(day=day, cohort_week=JAN, segment=ADS, tone=2, learners=10 * 2**i))
        session.add(
            BiDailyMastery(day=day, cohort_week=JAN, segment=ADS, tone=2, days=3, takes=7, learners=5 * 2**i)
        )
    session.flush()
    for month in (date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)):
        aggregate.refresh_month(session, month)
    session.flush()


def _days_mask(start: date, end: date) -> int:
    return sum(2**i for i, day in enumerate(DAYS) if start <= day <= end)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2026, 1, 31), date(2026, 4, 1)),  # a partial month at each end, February and March whole
        (date(2026, 2, 1), date(2026, 3, 31)),  # whole months only
        (date(2026, 2, 1), date(2026, 2, 28)),  # one whole month
        (date(2026, 2, 14), date(2026, 3, 1)),  # no whole month
        (date(2026, 1, 30), date(2026, 3, 1)),  # a partial month only at the start … and the end
        (date(2026, 2, 15), date(2026, 4, 30)),  # ends on a month's last day
    ],
)
def test_each_day_is_counted_once_whatever_the_range(db_session: Session, start: date, end: date) -> None:
    _write_days(db_session)
    mask = _days_mask(start, end)
    by_bucket, by_cohort, pairs, profile = metrics.tone_sums(
        db_session, metrics.period(start, end), metrics.ALL, metrics.ALL_COHORTS
    )
    assert by_bucket[("1", 3)] == [5 * mask, mask]
    assert by_bucket[("2-5", 4)] == [5000 * mask, 1000 * mask]
    assert by_cohort[(JAN, "1")] == [5 * mask, mask]
    assert by_cohort[(FEB, "2-5")] == [5000 * mask, 1000 * mask]
    assert pairs[(2, 3)] == [5 * mask, mask] and pairs[(0, 4)] == [5000 * mask, 1000 * mask]
    assert profile[True] == [5 * mask, mask] and profile[False] == [5000 * mask, 1000 * mask]
    page = metrics.learning(session=db_session, start=start, end=end)
    assert page.curve.row("1")[3] == 0.2 and page.curve.row("2-5")[4] == 0.2
    assert page.speaker_profile.row("with") == ("with", 5 * mask, 0.2)
    # item, takes, learner-days, failure rate, abandonment, improvement
    assert page.content.rows == [("greetings.hello", 10 * mask, 5 * mask, 0.1, 0.0, None)]
    # Time to mastery is cumulative: every day up to the range's end, whatever its start.
    until = _days_mask(date(2000, 1, 1), end)
    mastery = next(r for r in page.mastery.rows if r[:2] == ("all", 2))
    assert mastery[:5] == ("all", 2, 10 * until, 5 * until, 0.5)
    assert mastery[5:] == (3, 3, 7, 7)


def test_the_segment_and_cohort_filters_apply_to_whole_months(db_session: Session) -> None:
    _write_days(db_session)
    start, end = date(2026, 1, 31), date(2026, 4, 1)
    mask = _days_mask(start, end)
    p = metrics.period(start, end)
    ads = metrics.tone_sums(db_session, p, ADS, metrics.ALL_COHORTS)
    assert ads[3] == {True: [5 * mask, mask]}  # only the ads rows: the organic ones left out
    february = metrics.tone_sums(db_session, p, metrics.ALL, metrics.cohorts(FEB, FEB))
    assert dict(february[3]) == {False: [5000 * mask, 1000 * mask]}
    nobody = metrics.tone_sums(db_session, p, ADS, metrics.cohorts(FEB, FEB))
    assert not any(nobody)


def _rollup(session: Session, model: type) -> dict[tuple, tuple]:
    """A monthly table's rows as {(month, keys…): (values…)}."""
    rollup = next(r for r in aggregate.MONTHLY if r.monthly is model)
    keys = ("month", *rollup.keys)
    rows = session.execute(sa_select(*(getattr(model, k) for k in (*keys, *rollup.values)))).all()
    return {tuple(r[: len(keys)]): tuple(r[len(keys) :]) for r in rows}


def _direct(session: Session, keys: tuple[str, ...]) -> dict[tuple, tuple[int, int]]:
    """The daily rows summed per month here, in Python, from the daily table itself."""
    out: dict[tuple, list[int]] = {}
    for row in session.execute(sa_select(BiDailyTone)).scalars():
        key = (row.day.replace(day=1), *(getattr(row, k) for k in keys))
        acc = out.setdefault(key, [0, 0])
        acc[0] += row.judged
        acc[1] += row.correct
    return {k: (v[0], v[1]) for k, v in out.items()}


def test_the_job_keeps_each_touched_month_equal_to_its_days(db_session: Session) -> None:
    ids = build_learners(db_session)
    aggregate.aggregate(session=db_session, start=date(2026, 2, 20), end=date(2026, 3, 2), timezone="UTC")
    bucket_keys = ("cohort_week", "segment", "take_bucket", "tone")
    pair_keys = ("cohort_week", "segment", "prev_tone", "tone", "speaker_profile")
    assert _rollup(db_session, BiMonthlyToneBucket) == _direct(db_session, bucket_keys)
    assert _rollup(db_session, BiMonthlyTonePair) == _direct(db_session, pair_keys)
    judged = db_session.execute(sa_select(func.sum(BiMonthlyToneBucket.judged))).scalar_one()
    assert judged == db_session.execute(sa_select(func.sum(BiDailyTone.judged))).scalar_one() > 0
    # B's two takes on 03-02 judged 3 syllables: the sign-up-week row of March holds them.
    march = {k: v for k, v in _rollup(db_session, BiMonthlyToneBucket).items() if k[0] == date(2026, 3, 1)}
    assert sum(v[0] for k, v in march.items() if k[2] == "channel:organic") == 3

    # Re-aggregating one day of March after B's takes are gone refreshes March and nothing else.
    february = {k: v for k, v in _rollup(db_session, BiMonthlyTonePair).items() if k[0] == date(2026, 2, 1)}
    db_session.execute(text("DELETE FROM practice_syllable_result WHERE user_id = :u"), {"u": ids["B"]})
    db_session.execute(text("DELETE FROM practice_attempt WHERE user_id = :u"), {"u": ids["B"]})
    aggregate.aggregate(session=db_session, start=date(2026, 3, 2), end=date(2026, 3, 2), timezone="UTC")
    assert _rollup(db_session, BiMonthlyToneBucket) == _direct(db_session, bucket_keys)
    after = _rollup(db_session, BiMonthlyTonePair)
    assert after == _direct(db_session, pair_keys)
    assert {k: v for k, v in after.items() if k[0] == date(2026, 2, 1)} == february
    march = {k: v for k, v in _rollup(db_session, BiMonthlyToneBucket).items() if k[0] == date(2026, 3, 1)}
    assert sum(v[0] for k, v in march.items() if k[2] == "channel:organic") == 0


def _migration(name: str) -> Any:
    path = REPO_ROOT / "alembic" / "versions" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"{name}_migration", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    return migration


# The two tone roll-ups shipped first (3d9a61f0c2b7); the other three follow in their own revision.
ROLLUP_MIGRATIONS = ("20261130_15_bi_monthly_tone", "20261130_15_bi_monthly_more_rollups")


def test_the_migration_backfill_rolls_up_the_days_already_aggregated(db_session: Session) -> None:
    migrations = [_migration(name) for name in ROLLUP_MIGRATIONS]

    _write_days(db_session)
    monthly = [r.monthly for r in aggregate.MONTHLY]
    rolled = {t for m in migrations for t in m.ROLLUPS}
    assert {m.__tablename__ for m in monthly} == rolled  # the job's tables, all of them
    expected = {m: _rollup(db_session, m) for m in monthly}
    for m in monthly:
        db_session.execute(delete(m))
    for migration in migrations:
        for statement in migration.backfill(db_session.get_bind().dialect.name):
            db_session.execute(text(statement))
    assert {m: _rollup(db_session, m) for m in monthly} == expected
    assert len(expected[BiMonthlyToneBucket]) == 8  # 4 months × 2 (cohort, segment, bucket, tone) rows
    assert all(expected.values())


def _alembic(data_dir: Path, *args: str) -> None:
    env = {**os.environ, "DATA_DIR": str(data_dir), "DATABASE_URL": "", "SAYZHONG_TEST_DATABASE_URL": ""}
    subprocess.run([sys.executable, "-m", "alembic", *args], cwd=REPO_ROOT, env=env, check=True, timeout=300)


@pytest.mark.parametrize("dev_build", [False, True], ids=["released", "dev-build"])
def test_a_database_at_the_released_tone_rollups_upgrades_to_all_five(
    tmp_path: Path, dev_build: bool
) -> None:
    """3d9a61f0c2b7 shipped with the two tone tables; the other three come in the next revision, filled
    from the daily rows. A database from the short-lived build of 3d9a61f0c2b7 that already made them
    upgrades too, its rows left as they were."""
    _alembic(tmp_path, "upgrade", "3d9a61f0c2b7")
    db = sqlite3.connect(tmp_path / "sayzhong.db")
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"bi_monthly_tone_bucket", "bi_monthly_tone_pair"} <= tables
    assert "bi_monthly_tone_start" not in tables
    for day, learners in (("2026-03-02", 3), ("2026-03-20", 4), ("2026-04-01", 5)):
        db.execute(
            "INSERT INTO bi_daily_tone_start (day, cohort_week, segment, tone, learners) "
            "VALUES (?, '2026-02-23', 'channel:organic', 2, ?)",
            (day, learners),
        )
    if dev_build:
        db.execute(
            "CREATE TABLE bi_monthly_tone_start (month DATE NOT NULL, cohort_week DATE NOT NULL, "
            "segment VARCHAR(80) NOT NULL, tone INTEGER NOT NULL, learners INTEGER NOT NULL, "
            "PRIMARY KEY (month, cohort_week, segment, tone))"
        )
        db.execute(
            "INSERT INTO bi_monthly_tone_start VALUES ('2026-03-01', '2026-02-23', 'channel:organic', 2, 7)"
        )
    db.commit()
    db.close()

    _alembic(tmp_path, "upgrade", "head")
    db = sqlite3.connect(tmp_path / "sayzhong.db")
    rows = db.execute("SELECT month, learners FROM bi_monthly_tone_start ORDER BY month").fetchall()
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    db.close()
    assert {"bi_monthly_content", "bi_monthly_mastery", "bi_monthly_tone_start"} <= tables
    # Filled from the days on a released database; left alone where the dev build had filled it.
    assert rows == ([("2026-03-01", 7)] if dev_build else [("2026-03-01", 7), ("2026-04-01", 5)])
