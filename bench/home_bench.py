"""The learner home page's database work, for a learner with a long history (issue 16).

    python bench/home_bench.py [--takes 3000] [--loads 200] [--database-url postgresql://...]

Builds a throw-away database (SQLite under /tmp unless --database-url names an empty PostgreSQL
database), stores N scored takes of 3-4 syllables over the last 90 days for one learner through
`practice.score_attempt` (so the running tone tallies are maintained as in production), then times:

- `now`: `practice.home_page` — what the home page's on_load runs today (tone statistics read once
  from the tallies, the daily chart counted per take in SQL);
- `before`: the queries the home page ran until this change — the per-tone and per-pair statistics
  grouped over every syllable row, twice (once for the summary, once for the table), and the 30-day
  chart walking one row per syllable in Python — reproduced here verbatim as the baseline.

Prints milliseconds per load (median and p95 over --loads); asserts nothing. The build box is shared,
so compare the two lines of one run, not runs on different days.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _before(session, user_id: int, tz_name: str) -> object:  # type: ignore[no-untyped-def]
    """The home page's statistics queries as they were before the tallies (the baseline)."""
    from sqlalchemy import select as sa_select
    from sqlmodel import col, func, select

    from sayzhong.db import utcnow
    from sayzhong.practice.home import home_summary
    from sayzhong.practice.models import SyllableResult
    from sayzhong.practice.progress import local_date, zone
    from sayzhong.practice.results import DECIDED

    tones = (1, 2, 3, 4)

    def direct_stats() -> tuple[list, list]:
        by_tone = session.exec(
            select(SyllableResult.expected_tone, SyllableResult.verdict, func.count())
            .where(SyllableResult.user_id == user_id, col(SyllableResult.expected_tone).in_(tones))
            .group_by(col(SyllableResult.expected_tone), col(SyllableResult.verdict))
        ).all()
        pairs = session.execute(
            sa_select(
                col(SyllableResult.prev_expected_tone),
                col(SyllableResult.expected_tone),
                col(SyllableResult.prev_verdict),
                col(SyllableResult.verdict),
                func.count(),
            )
            .where(
                col(SyllableResult.user_id) == user_id,
                col(SyllableResult.prev_expected_tone).in_(tones),
                col(SyllableResult.expected_tone).in_(tones),
                col(SyllableResult.prev_verdict).in_(DECIDED),
                col(SyllableResult.verdict).in_(DECIDED),
            )
            .group_by(
                col(SyllableResult.prev_expected_tone),
                col(SyllableResult.expected_tone),
                col(SyllableResult.prev_verdict),
                col(SyllableResult.verdict),
            )
        ).all()
        return list(by_tone), list(pairs)

    direct_stats()  # inside home_summary
    summary = home_summary(session=session, user_id=user_id, user_timezone=tz_name)
    stats = direct_stats()
    tz = zone(tz_name)
    now = utcnow()
    rows = session.exec(
        select(SyllableResult.created_at, SyllableResult.expected_tone, SyllableResult.verdict).where(
            SyllableResult.user_id == user_id,
            col(SyllableResult.expected_tone).in_(tones),
            col(SyllableResult.verdict).in_(DECIDED),
            col(SyllableResult.created_at) >= now - timedelta(days=31),
        )
    ).all()
    buckets: dict = defaultdict(lambda: [0, 0])
    for created_at, tone, verdict in rows:
        entry = buckets[(local_date(created_at, tz), int(tone))]
        entry[1] += 1
        entry[0] += verdict == "correct"
    return summary, stats, buckets


def _time(label: str, loads: int, fn: Callable[[], object]) -> None:
    fn()  # warm the caches
    samples = []
    for _ in range(loads):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, int(0.95 * len(samples)))]
    print(f"{label:8s} median {statistics.median(samples):7.2f} ms   p95 {p95:7.2f} ms   ({loads} loads)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--takes", type=int, default=3000)
    parser.add_argument("--loads", type=int, default=200)
    parser.add_argument("--database-url", default="")
    parser.add_argument(
        "--profile", action="store_true", help="also print where a load's time goes (cProfile)"
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="home-bench-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    os.environ.update({"ENV": "test", "DATA_DIR": str(tmp), "DATABASE_URL": url})

    from sqlmodel import SQLModel

    from sayzhong.accounts import users
    from sayzhong.accounts.models import User
    from sayzhong.accounts.schemas import UserInfo
    from sayzhong.db import get_engine, session_scope, utcnow
    from sayzhong.models import load_all_models
    from sayzhong.practice import service as practice
    from tests.factories import PASSWORD
    from tests.support.practice_fakes import WAV_BYTES, FakeAssessor, result, syllable

    load_all_models()
    SQLModel.metadata.create_all(get_engine())
    tz_name = "Europe/Berlin"
    rng = random.Random(16)
    with session_scope() as session:
        signed_up = users.sign_up(
            session=session,
            email="long.history@example.org",
            password=PASSWORD,
            display_name="Lin",
        )
        row = session.get(User, signed_up.id)
        assert row is not None
        row.timezone = tz_name
        session.add(row)
        session.flush()
        account = UserInfo.from_row(row)  # the page's guard hands the account to the home page
        user_id = account.id
    built = time.perf_counter()
    now = utcnow()
    with session_scope() as session:
        for _ in range(args.takes):
            syllables = []
            for _ in range(rng.randint(3, 4)):
                tone = rng.choice((1, 2, 3, 4))
                syllables.append(
                    syllable("妈", f"ma{tone}", tone, tone if rng.random() < 0.7 else tone % 4 + 1)
                )
            practice.score_attempt(
                session=session,
                user_id=user_id,
                item_id="greetings.hello",
                audio=WAV_BYTES,
                content_type="audio/wav",
                assessor=FakeAssessor(result(syllables)),
                now=now - timedelta(minutes=rng.randint(0, 90 * 24 * 60)),
            )
    dialect = get_engine().dialect.name
    print(f"# home page load, one learner with {args.takes} takes over 90 days ({dialect})")
    print(f"(history built in {time.perf_counter() - built:.1f} s)")

    def now_path() -> object:
        with session_scope() as session:
            return practice.home_page(session=session, user=account)

    def before_path() -> object:
        with session_scope() as session:
            return _before(session, user_id, tz_name)

    _time("before", args.loads, before_path)
    _time("now", args.loads, now_path)
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(lambda: [now_path() for _ in range(args.loads)])
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)


if __name__ == "__main__":
    main()
