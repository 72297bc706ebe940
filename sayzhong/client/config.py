"""Where the terminal client keeps its settings, token and offline queue.

- `$XDG_CONFIG_HOME/sayzhong/` (default `~/.config/sayzhong/`): `client.json` (server URL) and
  `token` (the personal access token, mode 0600 in a 0700 folder);
- `$XDG_DATA_HOME/sayzhong/queue/` (default `~/.local/share/sayzhong/queue/`): takes waiting to sync;
- `$XDG_CACHE_HOME/sayzhong/` (default `~/.cache/sayzhong/`): reference audio rendered offline.

Every file is written atomically (temporary file in the same folder, fsync, rename).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_SERVER = "http://localhost:3000"
CONFIG_FILE = "client.json"
TOKEN_FILE = "token"


def _xdg(var: str, fallback: str) -> Path:
    value = os.environ.get(var, "").strip()
    return Path(value) if value and Path(value).is_absolute() else Path.home() / fallback


def config_dir() -> Path:
    return _xdg("XDG_CONFIG_HOME", ".config") / "sayzhong"


def data_dir() -> Path:
    return _xdg("XDG_DATA_HOME", ".local/share") / "sayzhong"


def cache_dir() -> Path:
    return _xdg("XDG_CACHE_HOME", ".cache") / "sayzhong"


def ensure_private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def atomic_write(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    """Write `data` so that readers see either the old file or the whole new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@dataclass
class ClientConfig:
    server: str = DEFAULT_SERVER

    @classmethod
    def load(cls) -> ClientConfig:
        path = config_dir() / CONFIG_FILE
        try:
            data: Any = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        server = data.get("server") if isinstance(data, dict) else None
        return cls(server=server if isinstance(server, str) and server else DEFAULT_SERVER)

    def save(self) -> None:
        ensure_private_dir(config_dir())
        body = json.dumps({"server": self.server}, indent=2).encode()
        atomic_write(config_dir() / CONFIG_FILE, body, mode=0o600)


def read_token() -> str | None:
    path = config_dir() / TOKEN_FILE
    try:
        token = path.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return token or None


def save_token(token: str) -> Path:
    """Store the token readable by the owner only (0600 file in a 0700 folder)."""
    folder = ensure_private_dir(config_dir())
    path = folder / TOKEN_FILE
    atomic_write(path, (token.strip() + "\n").encode(), mode=0o600)
    return path


def delete_token() -> bool:
    path = config_dir() / TOKEN_FILE
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True
