"""Stored takes: audio files under DATA_DIR/attempts, named by the server, never by the client.

A file name is `<user id>/<yyyy-mm>/<random hex>.<ext>`; the extension comes from sniffing the
bytes (the client's file name and MIME type are not trusted). The database stores only the
relative path, so DATA_DIR can move.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sayzhong.db import utcnow
from sayzhong.errors import NotFoundError
from sayzhong.settings import get_settings

log = logging.getLogger(__name__)

_RELATIVE = re.compile(r"^\d{1,12}/\d{4}-\d{2}/[0-9a-f]{32}\.[a-z0-9]{2,5}$")


@dataclass(frozen=True, slots=True)
class StoredAudio:
    relative_path: str
    content_type: str
    size: int


def attempts_root() -> Path:
    return get_settings().data_dir / "attempts"


def sniff_audio(data: bytes) -> tuple[str, str]:
    """(extension, content type) recognised from the first bytes; ("bin", octet-stream) otherwise."""
    head = data[:64]
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav", "audio/wav"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "webm", "audio/webm"
    if head[:4] == b"OggS":
        return "ogg", "audio/ogg"
    if head[:4] == b"fLaC":
        return "flac", "audio/flac"
    if head[4:8] == b"ftyp":
        return "m4a", "audio/mp4"
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3", "audio/mpeg"
    return "bin", "application/octet-stream"


def save_take(*, user_id: int, data: bytes, now: datetime | None = None) -> StoredAudio:
    """Write the take atomically under a fresh random name."""
    extension, content_type = sniff_audio(data)
    when = now or utcnow()
    relative = f"{int(user_id)}/{when:%Y-%m}/{secrets.token_hex(16)}.{extension}"
    target = attempts_root() / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(target.suffix + ".part")
    with open(partial, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, target)
    return StoredAudio(relative_path=relative, content_type=content_type, size=len(data))


def path_of(relative_path: str) -> Path:
    """Absolute path of a stored take; refuses anything that is not a name this module made."""
    if not _RELATIVE.match(relative_path):
        raise NotFoundError("That recording is not available.", code="audio_not_found")
    path = attempts_root() / relative_path
    if not path.is_file():
        raise NotFoundError("That recording is no longer available.", code="audio_not_found")
    return path


def delete_take(relative_path: str) -> None:
    if not _RELATIVE.match(relative_path):
        return
    try:
        (attempts_root() / relative_path).unlink()
    except FileNotFoundError:
        pass


def iter_stored(older_than: timedelta = timedelta(0)) -> Iterable[str]:
    """Relative paths of stored takes whose file is older than `older_than`."""
    root = attempts_root()
    if not root.is_dir():
        return
    cutoff = utcnow().timestamp() - older_than.total_seconds()
    for path in root.glob("*/*/*"):
        relative = path.relative_to(root).as_posix()
        if _RELATIVE.match(relative) and path.stat().st_mtime <= cutoff:
            yield relative
