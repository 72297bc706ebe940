"""Offline queue: takes recorded while the server was unreachable, kept on disk until synced.

Each take is two files in the queue folder: `<id>.audio` (the recording) and `<id>.json` (item,
content type, idempotency key, creation time, offline score). The audio is written first and the
JSON last, each atomically, so a take is listed only once both are complete. `sync` removes a
take only after the server has confirmed it (201, or 200 for a replay of the same key): a crash
or a dropped connection at any point leaves the take queued, and re-sending it with the same
idempotency key never creates a second attempt.

Takes the server refuses for good (e.g. unreadable audio, unknown item) move to `rejected/` so
they stop blocking the queue but are never deleted silently.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sayzhong.client.config import atomic_write, data_dir, ensure_private_dir


@dataclass
class QueuedTake:
    id: str
    item_id: str
    content_type: str
    idempotency_key: str
    created_at: str
    text: str = ""
    offline_summary: dict[str, Any] = field(default_factory=dict)
    """Overall scores from the offline engine, shown by `status`."""
    tries: int = 0
    last_error: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QueuedTake:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)


def new_idempotency_key() -> str:
    return f"take-{uuid.uuid4().hex}"


class OfflineQueue:
    def __init__(self, root: Path | None = None) -> None:
        self.root = root or (data_dir() / "queue")

    @property
    def rejected_dir(self) -> Path:
        return self.root / "rejected"

    def _paths(self, take_id: str, folder: Path | None = None) -> tuple[Path, Path]:
        base = folder or self.root
        return base / f"{take_id}.json", base / f"{take_id}.audio"

    def add(
        self,
        *,
        item_id: str,
        audio: bytes,
        content_type: str,
        idempotency_key: str,
        text: str = "",
        offline_summary: dict[str, Any] | None = None,
    ) -> QueuedTake:
        ensure_private_dir(self.root)
        now = datetime.now(UTC)
        take = QueuedTake(
            id=f"{now.strftime('%Y%m%dT%H%M%S%fZ')}-{uuid.uuid4().hex[:8]}",
            item_id=item_id,
            content_type=content_type,
            idempotency_key=idempotency_key,
            created_at=now.isoformat(),
            text=text,
            offline_summary=dict(offline_summary or {}),
        )
        meta_path, audio_path = self._paths(take.id)
        atomic_write(audio_path, audio)
        atomic_write(meta_path, json.dumps(asdict(take), ensure_ascii=False, indent=2).encode())
        return take

    def takes(self) -> list[QueuedTake]:
        """Complete takes, oldest first (ids sort by creation time)."""
        if not self.root.is_dir():
            return []
        takes = []
        for meta_path in sorted(self.root.glob("*.json")):
            audio_path = meta_path.with_suffix(".audio")
            if not audio_path.exists():
                continue
            try:
                data = json.loads(meta_path.read_text(encoding="utf-8"))
                takes.append(QueuedTake.from_dict(data))
            except (OSError, ValueError, TypeError):
                continue
        return takes

    def __len__(self) -> int:
        return len(self.takes())

    def audio(self, take: QueuedTake) -> bytes:
        return self._paths(take.id)[1].read_bytes()

    def record_failure(self, take: QueuedTake, error: str) -> None:
        take.tries += 1
        take.last_error = error[:500]
        meta_path, _ = self._paths(take.id)
        atomic_write(meta_path, json.dumps(asdict(take), ensure_ascii=False, indent=2).encode())

    def remove(self, take: QueuedTake) -> None:
        """Forget a take the server has confirmed (metadata first, so a crash leaves no half entry)."""
        meta_path, audio_path = self._paths(take.id)
        meta_path.unlink(missing_ok=True)
        audio_path.unlink(missing_ok=True)

    def reject(self, take: QueuedTake, error: str) -> Path:
        """Move a take the server refuses for good out of the queue, keeping its audio."""
        ensure_private_dir(self.rejected_dir)
        take.last_error = error[:500]
        meta_path, audio_path = self._paths(take.id)
        new_meta, new_audio = self._paths(take.id, self.rejected_dir)
        audio_path.replace(new_audio)
        atomic_write(new_meta, json.dumps(asdict(take), ensure_ascii=False, indent=2).encode())
        meta_path.unlink(missing_ok=True)
        return new_audio

    def rejected(self) -> list[QueuedTake]:
        return OfflineQueue(self.rejected_dir).takes() if self.rejected_dir.is_dir() else []

    def cleanup_orphans(self, *, older_than_s: float = 3600.0) -> int:
        """Delete old audio files whose metadata never got written (a crash between the two writes).

        Young ones are left alone: another client process may be writing that take right now.
        """
        if not self.root.is_dir():
            return 0
        cutoff = time.time() - older_than_s
        removed = 0
        for path in [*self.root.glob("*.audio"), *self.root.glob(".*.tmp")]:
            if path.suffix == ".audio" and path.with_suffix(".json").exists():
                continue
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink(missing_ok=True)
                    removed += 1
            except OSError:
                continue
        return removed
