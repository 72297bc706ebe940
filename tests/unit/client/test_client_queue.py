"""The offline queue: complete takes only, oldest first, removed only when told, refused ones kept."""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

from sayzhong.client.queue import OfflineQueue, new_idempotency_key


def _add(queue: OfflineQueue, item: str = "greetings.hello", audio: bytes = b"RIFF-audio") -> str:
    key = new_idempotency_key()
    queue.add(item_id=item, audio=audio, content_type="audio/wav", idempotency_key=key, text="你好")
    return key


def test_takes_are_listed_oldest_first_with_their_audio(tmp_path: Path) -> None:
    queue = OfflineQueue(tmp_path / "q")
    keys = [_add(queue, audio=f"take {i}".encode()) for i in range(3)]
    takes = queue.takes()
    assert [t.idempotency_key for t in takes] == keys
    assert [queue.audio(t) for t in takes] == [b"take 0", b"take 1", b"take 2"]
    assert takes[0].created_at <= takes[-1].created_at
    assert len(queue) == 3
    assert stat.S_IMODE((tmp_path / "q").stat().st_mode) == 0o700


def test_idempotency_keys_are_unique_and_accepted_by_the_api() -> None:
    import re

    from sayzhong.practice.schemas import IDEMPOTENCY_KEY_PATTERN

    keys = {new_idempotency_key() for _ in range(100)}
    assert len(keys) == 100
    assert all(re.match(IDEMPOTENCY_KEY_PATTERN, k) for k in keys)


def test_a_take_whose_metadata_was_never_written_is_not_listed(tmp_path: Path) -> None:
    queue = OfflineQueue(tmp_path)
    _add(queue)
    (tmp_path / "20990101T000000000000Z-deadbeef.audio").write_bytes(b"half-written take")
    assert len(queue.takes()) == 1


def test_removing_forgets_exactly_that_take(tmp_path: Path) -> None:
    queue = OfflineQueue(tmp_path)
    _add(queue, audio=b"one")
    _add(queue, audio=b"two")
    first = queue.takes()[0]
    queue.remove(first)
    assert [queue.audio(t) for t in queue.takes()] == [b"two"]
    assert not list(tmp_path.glob(f"{first.id}.*"))


def test_failures_are_recorded_on_the_take(tmp_path: Path) -> None:
    queue = OfflineQueue(tmp_path)
    _add(queue)
    take = queue.takes()[0]
    queue.record_failure(take, "server unreachable")
    again = queue.takes()[0]
    assert again.tries == 1 and again.last_error == "server unreachable"
    assert again.idempotency_key == take.idempotency_key


def test_a_refused_take_moves_to_rejected_with_its_audio(tmp_path: Path) -> None:
    queue = OfflineQueue(tmp_path)
    _add(queue, audio=b"unreadable")
    take = queue.takes()[0]
    kept = queue.reject(take, "audio_corrupt")
    assert queue.takes() == []
    assert kept.read_bytes() == b"unreadable"
    assert [t.last_error for t in queue.rejected()] == ["audio_corrupt"]


def test_only_old_orphans_are_cleaned_up(tmp_path: Path) -> None:
    queue = OfflineQueue(tmp_path)
    _add(queue)
    young = tmp_path / "20990101T000000000000Z-young.audio"
    old = tmp_path / "20000101T000000000000Z-old.audio"
    young.write_bytes(b"x")
    old.write_bytes(b"x")
    past = time.time() - 7200
    os.utime(old, (past, past))
    assert queue.cleanup_orphans() == 1
    assert young.exists() and not old.exists() and len(queue) == 1


def test_metadata_is_plain_json(tmp_path: Path) -> None:
    queue = OfflineQueue(tmp_path)
    _add(queue)
    meta = json.loads(next(tmp_path.glob("*.json")).read_text())
    assert {"item_id", "content_type", "idempotency_key", "created_at"} <= set(meta)
