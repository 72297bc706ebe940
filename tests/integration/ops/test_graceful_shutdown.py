"""Graceful shutdown: a server told to stop (SIGTERM) while a take is being uploaded finishes scoring
and storing it, answers it, and accepts no new connections.

The server is granian — the HTTP server Reflex runs in production — with two workers, serving the
app's server routes. The take is sent in two halves with the SIGTERM in between, so the request is
certainly in flight when the signal arrives (no timing guesses).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from sqlmodel import SQLModel, select

from sayzhong.db import get_engine, session_scope
from sayzhong.http import practice as practice_routes
from sayzhong.models import load_all_models
from sayzhong.practice.models import Attempt
from sayzhong.settings import REPO_ROOT, Settings
from tests.factories import signed_in_learner
from tests.support.pron_synth import synth_wav_bytes


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_serving(port: int, proc: subprocess.Popen[bytes]) -> None:
    """Until both workers have started: several answers in a row (each a new connection)."""
    answered = 0
    for _ in range(1200):
        assert proc.poll() is None, "granian exited"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
                conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                answered = answered + 1 if b" 200 " in conn.recv(100) else 0
        except OSError:
            answered = 0
        if answered >= 6:
            return
        time.sleep(0.1)
    raise AssertionError("granian did not start")


def test_sigterm_during_an_upload_finishes_the_take_and_refuses_new_connections(
    settings: Settings, tmp_path: Path
) -> None:
    load_all_models()
    SQLModel.metadata.create_all(get_engine())
    token = signed_in_learner("mei@example.org")
    port = _free_port()
    env = {**os.environ, "APP_URL": f"http://127.0.0.1:{port}"}
    proc = subprocess.Popen(
        [
            str(REPO_ROOT / ".venv/bin/granian"),
            "--interface",
            "asgi",
            "--factory",
            "--workers",
            "2",
            "--workers-kill-timeout",
            "30",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "sayzhong.http.app:create_http_app",
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "granian.log").open("wb"),
        start_new_session=True,  # so a failed run can stop the workers too, not only the master
    )
    try:
        _wait_serving(port, proc)
        body = synth_wav_bytes([2, 3])
        half = len(body) // 2
        head = (
            f"POST {practice_routes.UPLOAD_ATTEMPT} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Origin: http://127.0.0.1:{port}\r\nCookie: {settings.session_cookie_name}={token}\r\n"
            f"Content-Type: audio/wav\r\nX-Item-Id: greetings.hello\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n"
        ).encode()
        with socket.create_connection(("127.0.0.1", port), timeout=60) as conn:
            conn.sendall(head + body[:half])
            proc.send_signal(signal.SIGTERM)
            time.sleep(0.5)  # let the signal reach the workers while the body is half sent
            conn.sendall(body[half:])
            answer = b""
            while chunk := conn.recv(65536):
                answer += chunk
        status_line = answer.split(b"\r\n", 1)[0]
        assert b" 201 " in status_line, answer[:300]
        proc.wait(timeout=120)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            refused = False
        except OSError:
            refused = True
        assert refused
        with session_scope() as session:
            stored = session.exec(select(Attempt)).all()
        assert len(stored) == 1 and (settings.data_dir / "attempts" / stored[0].audio_path).is_file()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
