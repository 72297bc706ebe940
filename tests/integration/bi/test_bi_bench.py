"""The accuracy part of `bench/bi_bench.py` (issue 15) on a small synthetic data set.

The dashboard totals (read through `sayzhong.bi.metrics` from the aggregates) must agree with the
bench's direct counts over the raw tables to ≥ 99.9 %, and the check must notice an aggregate that is
off by a single take.
"""

from __future__ import annotations

import importlib.util
import sys
from datetime import date
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import update
from sqlmodel import SQLModel

from sayzhong.bi.aggregate import ALL
from sayzhong.bi.generate import GenerateOptions, generate
from sayzhong.bi.models import BiDailyActivity
from sayzhong.db import get_engine, session_scope
from sayzhong.models import load_all_models
from sayzhong.settings import Settings

pytestmark = pytest.mark.db

END = date(2026, 10, 1)
BENCH = Path(__file__).resolve().parents[3] / "bench" / "bi_bench.py"


def _bench() -> ModuleType:
    """bench/ is a folder of scripts, not a package: load the module from its file."""
    spec = importlib.util.spec_from_file_location("bi_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bi_bench"] = module
    spec.loader.exec_module(module)
    return module


def test_dashboard_totals_agree_with_direct_counts_and_a_wrong_aggregate_is_caught(
    settings: Settings,
) -> None:
    bench = _bench()
    load_all_models()
    engine = get_engine()
    SQLModel.metadata.create_all(engine)
    generate(engine=engine, options=GenerateOptions(learners=150, months=6, seed=5, end=END))
    first, last = bench.data_days(engine, END)
    assert last == date(2026, 9, 30) and (last - first).days > 150

    bench.run_aggregation(first, last)
    segment = bench.largest_segment()
    assert segment.startswith("channel:")
    quarter = date(2026, 7, 6)  # a Monday: the cohort filter's sign-up weeks 07-06 … the last
    pairs = {
        p.name: p
        for p in bench.accuracy_pairs(engine, first, last)
        + bench.segment_pairs(engine, first, last, segment)
        + bench.cohort_pairs(engine, first, last, quarter)
    }
    assert 0 < pairs[f"new learners, {segment}"].direct < 150
    assert pairs[f"scored takes, {segment}"].direct > 0
    # The data set is not trivial: every compared figure has something in it.
    assert pairs["scored takes by learners"].direct > 1000
    assert pairs["new learners (overview)"].direct == 150
    assert pairs[f"MAU {last.isoformat()}"].direct > 0
    assert pairs[f"paying learners {last.isoformat()}"].direct > 0
    assert pairs[f"MRR {last.isoformat()} (cents)"].direct > 0
    assert {f"tone {t} accuracy" for t in (1, 2, 3, 4)} <= set(pairs)
    assert sum(1 for name in pairs if name.startswith("DAU ")) >= 5
    assert pairs["content takes, cohorts 2026-07-06…"].direct > 0
    assert pairs["review retention, cohorts 2026-07-06…"].direct > 0
    assert bench.overall_agreement(list(pairs.values())) >= bench.THRESHOLD, [
        (p.name, p.dashboard, p.direct) for p in pairs.values() if p.agreement < bench.THRESHOLD
    ]

    # One take too many in one day's aggregate: the check fails on exactly that pair.
    with session_scope() as session:
        busiest = session.exec(
            BiDailyActivity.__table__.select()  # type: ignore[attr-defined]
            .where(BiDailyActivity.segment == ALL)
            .order_by(BiDailyActivity.takes.desc())  # type: ignore[attr-defined]
            .limit(1)
        ).first()
        assert busiest is not None
        session.exec(
            update(BiDailyActivity)
            .where(BiDailyActivity.day == busiest.day, BiDailyActivity.segment == ALL)  # type: ignore[arg-type]
            .values(takes=BiDailyActivity.takes + 1)
        )
        session.commit()
    wrong = bench.accuracy_pairs(engine, first, last)
    off = [p.name for p in wrong if p.agreement < 1.0]
    assert off == ["scored takes by learners"]
    takes = next(p for p in wrong if p.name == "scored takes by learners")
    assert takes.dashboard == takes.direct + 1
