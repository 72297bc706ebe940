"""Reminder ticks on SQLite: how long the 5-minute `reminders` job takes for many opted-in learners.

    python bench/reminders_bench.py [--learners 5000]

Builds a throw-away database under /tmp with N verified learners opted in to the daily reminder,
spread over 12 time zones with reminder times on the half hour, then times (1) a tick at an instant
when nobody is due (the usual case: it only reads and decides), (2) a tick at an instant when two
time zones' learners are due (claims, then sends to the offline outbox), and (3) the same tick again
(every claim taken: sends nothing). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ZONES = [
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Sydney",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Africa/Nairobi",
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--learners", type=int, default=5000)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="reminders-bench-"))
    os.environ.update({"ENV": "test", "DATA_DIR": str(tmp), "DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}"})

    from sqlmodel import SQLModel

    from sayzhong.accounts.models import User
    from sayzhong.db import get_engine, session_scope
    from sayzhong.models import load_all_models
    from sayzhong.notifications.models import EmailPreference
    from sayzhong.notifications.reminders import run_reminders

    load_all_models()
    SQLModel.metadata.create_all(get_engine())
    with session_scope() as session:
        for n in range(args.learners):
            user = User(
                email=f"learner{n}@example.org",
                display_name=f"Learner {n}",
                timezone=ZONES[n % len(ZONES)],
                email_verified=True,
            )
            session.add(user)
            session.flush()
            assert user.id is not None
            session.add(EmailPreference(user_id=user.id, daily_reminder=True, reminder_time="08:00"))

    quiet = datetime(2026, 6, 1, 4, 45, tzinfo=UTC)  # no zone in the list is within 08:00-10:00
    due = datetime(2026, 6, 1, 7, 0, tzinfo=UTC)  # 08:00 in London (BST), 09:00 in Berlin: 1/6 due
    for label, now in (("tick, nobody due", quiet), ("tick, 1/6 due", due), ("same tick again", due)):
        start = time.perf_counter()
        counts = run_reminders(now=now)
        elapsed = time.perf_counter() - start
        print(f"{label:<20} {elapsed * 1000:8.0f} ms   {counts}")
    print(f"learners: {args.learners}, database: SQLite at {tmp}")


if __name__ == "__main__":
    main()
