"""Privacy jobs on SQLite: how long the nightly voice-take purge and one account erasure take.

    python bench/privacy_bench.py [--takes 5000]

Builds a throw-away database and DATA_DIR under /tmp, stores N expired takes (small WebM files)
for one learner, times `retention.expired_audio` (all batches in one run), then fills the learner
again and times a complete erasure (every participant, secure_delete, WAL checkpoint). Prints figures;
asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--takes", type=int, default=5000)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="privacy-bench-"))
    os.environ.update({"ENV": "test", "DATA_DIR": str(tmp), "DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}"})

    from sqlmodel import SQLModel

    from jobs.retention import PURGES, purge_in_session
    from sayzhong.accounts import users
    from sayzhong.db import get_engine, session_scope, utcnow
    from sayzhong.models import load_all_models
    from sayzhong.practice import storage
    from sayzhong.practice.models import Attempt
    from sayzhong.privacy import erasure

    load_all_models()
    SQLModel.metadata.create_all(get_engine())
    webm = b"\x1a\x45\xdf\xa3" + os.urandom(8000)

    def fill(user_id: int, age_days: int) -> None:
        with session_scope() as session:
            when = utcnow() - timedelta(days=age_days)
            for _ in range(args.takes):
                stored = storage.save_take(user_id=user_id, data=webm)
                session.add(
                    Attempt(
                        user_id=user_id,
                        item_id="greetings.hello",
                        mode="practice",
                        text="你好",
                        engine="offline",
                        audio_path=stored.relative_path,
                        audio_bytes=stored.size,
                        created_at=when,
                    )
                )

    with session_scope() as session:
        user = users.sign_up(
            session=session,
            email="bench@example.org",
            password="learning tones daily",  # noqa: S106 - a throw-away benchmark account
            display_name="B",
        )
    fill(user.id, 200)
    start = time.perf_counter()
    purged = purge_in_session(PURGES["expired_audio"])
    purge_s = time.perf_counter() - start
    fill(user.id, 1)
    start = time.perf_counter()
    erasure.erase_now(session_factory=session_scope, user_id=user.id)
    erase_s = time.perf_counter() - start
    print(f"takes per run: {args.takes}")
    print(f"expired-audio purge: {purged} takes in {purge_s:.2f} s ({purged / purge_s:.0f} takes/s)")
    print(f"erasure of a learner with {args.takes} attempts and takes: {erase_s:.2f} s")


if __name__ == "__main__":
    main()
