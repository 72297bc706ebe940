"""Helpers for client integration tests: a backend (DB + live API server), a client in its own HOME.

Each client gets its own HOME (token, queue, and the `.asoundrc` that gives it a virtual microphone:
ALSA's file plugin reading a raw 16 kHz recording made with espeak-ng). PortAudio reads the ALSA
configuration when the client starts, so every client run is a fresh process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import select

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))

from liveserver import REPO, DroppingProxy, LiveServer, free_port

from sayzhong.db import session_scope

SERVER_ENV_VARS = ("ENV", "DATABASE_URL", "DATA_DIR", "SAYZHONG_TEST_DATABASE_URL")


@dataclass
class Backend:
    env: dict[str, str]
    token: str
    user_id: int
    log: Path
    port: int = field(default_factory=free_port)
    servers: list[LiveServer] = field(default_factory=list)

    def server(self) -> LiveServer:
        """A server on this backend's port (start() it; a restarted one reuses the port)."""
        server = LiveServer(env=self.env, log_path=self.log, port=self.port)
        self.servers.append(server)
        return server

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def attempts(self) -> list[tuple[int, str | None]]:
        from sayzhong.practice.models import Attempt

        with session_scope() as session:
            rows = session.exec(select(Attempt).where(Attempt.user_id == self.user_id)).all()
            return [(row.id or 0, row.idempotency_key) for row in rows]


@dataclass
class Client:
    home: Path

    def run(self, *args: str, stdin: str = "", timeout: float = 240) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k not in SERVER_ENV_VARS and not k.startswith("XDG_")}
        env.update(HOME=str(self.home), NO_COLOR="1", PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")
        env.pop("FORCE_COLOR", None)
        return subprocess.run(
            [sys.executable, "-m", "sayzhong.client", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            cwd=self.home,
            timeout=timeout,
        )

    def save_token(self, token: str) -> None:
        folder = self.home / ".config" / "sayzhong"
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        (folder / "token").write_text(token + "\n")
        (folder / "token").chmod(0o600)

    @property
    def token_file(self) -> Path:
        return self.home / ".config" / "sayzhong" / "token"

    @property
    def queue_dir(self) -> Path:
        return self.home / ".local" / "share" / "sayzhong" / "queue"

    def queued(self) -> list[Path]:
        return sorted(self.queue_dir.glob("*.json")) if self.queue_dir.is_dir() else []

    def virtual_microphone(self, raw: Path) -> None:
        """Default ALSA device: capture reads `raw` (16 kHz s16le mono), playback goes nowhere."""
        (self.home / ".asoundrc").write_text(
            "pcm.!default {\n"
            "    type file\n"
            '    slave.pcm "null"\n'
            '    file "/dev/null"\n'
            f'    infile "{raw}"\n'
            '    format "raw"\n'
            "}\n"
        )

    def speakers_only(self) -> None:
        """Default ALSA device with playback and no capture: a computer without a microphone."""
        (self.home / ".asoundrc").write_text('pcm.!default {\n    type asym\n    playback.pcm "null"\n}\n')


@dataclass(frozen=True)
class Speech:
    wav: Path
    raw: Path


__all__ = ["REPO", "Backend", "Client", "DroppingProxy", "Speech"]
