"""How fast the synthetic data generator fills a database, and what the data looks like.

    python bench/bi_generate_bench.py [--learners 10000] [--months 12] [--seed 1]
                                      [--database-url postgresql://…]

Without `--database-url` it builds a throw-away SQLite database under /tmp (schema from the models);
with one it writes there (an empty database with the migrations applied). Prints the generator's
progress, rows per table, total time and rows/s, then a few shape figures computed straight from
the raw tables (visit → sign-up, onboarding completion, D1/D7/D30 return, trial → paid, tone
accuracy by tone, first takes vs later takes). Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _pct(num: Any, den: Any) -> str:
    return f"{100.0 * float(num) / float(den):.1f} %" if den else "—"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--learners", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--end", default="2026-11-30")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bi-generate-bench-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    os.environ.update({"ENV": "test", "DATA_DIR": str(tmp), "DATABASE_URL": url})

    from sqlalchemy import text
    from sqlmodel import SQLModel

    from sayzhong.bi.generate import GenerateOptions, generate
    from sayzhong.db import get_engine
    from sayzhong.models import load_all_models

    load_all_models()
    engine = get_engine()
    if args.database_url is None:
        SQLModel.metadata.create_all(engine)
    summary = generate(
        engine=engine,
        options=GenerateOptions(
            learners=args.learners, months=args.months, seed=args.seed, end=date.fromisoformat(args.end)
        ),
        progress=print,
    )
    print(f"\n{engine.dialect.name}, {args.learners:,} learners, {args.months} months")
    for name, count in sorted(summary.counts.items()):
        print(f"  {name:28} {count:>12,}")
    takes = summary.counts.get("practice_attempt", 0)
    print(
        f"total {summary.rows:,} rows in {summary.seconds:.1f} s: "
        f"{summary.rows / summary.seconds:,.0f} rows/s, {takes / summary.seconds:,.0f} takes/s"
    )

    def one(sql: str) -> Any:
        with engine.connect() as conn:
            return conn.execute(text(sql)).scalar()

    def rows(sql: str) -> list[Any]:
        with engine.connect() as conn:
            return list(conn.execute(text(sql)))

    learners = one("SELECT COUNT(*) FROM user_account WHERE role = 'learner'")
    visitors = one("SELECT COUNT(DISTINCT visitor_id) FROM consent_record")
    print("\nshape (from the raw tables):")
    print(f"  takes per learner: {takes / learners:.1f}")
    print(f"  browsers that answered the banner → signed up: {_pct(learners, visitors)}")
    finished = one("SELECT COUNT(*) FROM learner_profile WHERE onboarding_finished_at IS NOT NULL")
    started = one("SELECT COUNT(*) FROM learner_profile WHERE onboarding_started_at IS NOT NULL")
    print(f"  onboarding completion (finished / started): {_pct(finished, started)}")
    day = "(julianday(a.created_at) - julianday(u.created_at))"
    if engine.dialect.name == "postgresql":
        day = "(EXTRACT(EPOCH FROM a.created_at - u.created_at) / 86400.0)"
    for label, lo, hi in (("D1", 1, 2), ("D7", 7, 8), ("D30", 30, 31)):
        back = one(
            "SELECT COUNT(DISTINCT a.user_id) FROM practice_attempt a "  # noqa: S608 - constants only
            f"JOIN user_account u ON u.id = a.user_id WHERE {day} >= {lo} AND {day} < {hi}"
        )
        print(f"  {label} return (a take on day {lo} after sign-up): {_pct(back, learners)}")
    trials = one("SELECT COUNT(*) FROM billing_trial_claim")
    paid_users = one(
        "SELECT COUNT(DISTINCT s.user_id) FROM billing_subscription s WHERE s.trial_end IS NOT NULL AND "
        "(s.status IN ('active', 'past_due') "
        "OR (s.status = 'canceled' AND s.current_period_end > s.trial_end))"
    )
    print(f"  trials: {_pct(trials, learners)} of learners; trial → paid ≈ {_pct(paid_users, trials)}")
    for status, n in rows(
        "SELECT status, COUNT(*) FROM billing_subscription GROUP BY status ORDER BY status"
    ):
        print(f"    subscriptions {status}: {n:,}")
    for kind, n in rows("SELECT type, COUNT(*) FROM billing_webhook_event GROUP BY type ORDER BY type"):
        print(f"    {kind}: {n:,}")
    for tone, acc, n in rows(
        "SELECT expected_tone, AVG(CASE WHEN correct THEN 1.0 ELSE 0.0 END), COUNT(*) "
        "FROM practice_syllable_result WHERE verdict IN ('correct', 'wrong_tone') GROUP BY expected_tone "
        "ORDER BY expected_tone"
    ):
        print(f"  tone {tone}: {100 * float(acc):.1f} % right ({n:,} judged syllables)")


if __name__ == "__main__":
    main()
