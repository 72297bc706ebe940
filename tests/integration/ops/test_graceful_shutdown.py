"""Graceful shutdown: a server told to stop (SIGTERM) while a take is being uploaded finishes scoring
and storing it, answers it, and accepts no new connections — and a replica stopped in the middle of
a stream of uploads (a deploy or a scale-in) loses none of them.

The server is granian — the HTTP server Reflex runs in production — serving the app's server routes.
A take is sent in two halves with the SIGTERM in between, so the request is certainly in flight when
the signal arrives (no timing guesses).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path

import requests
from sqlmodel import SQLModel, select

from sayzhong.db import get_engine, session_scope
from sayzhong.http import practice as practice_routes
from sayzhong.models import load_all_models
from sayzhong.practice.models import Attempt
from sayzhong.settings import REPO_ROOT, Settings
from tests.factories import signed_in_learner
from tests.support.ports import free_port
from tests.support.pron_synth import synth_wav_bytes


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


def _granian(port: int, *, workers: int, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            str(REPO_ROOT / ".venv/bin/granian"),
            "--interface",
            "asgi",
            "--factory",
            "--workers",
            str(workers),
            "--workers-kill-timeout",
            "30",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "sayzhong.http.app:create_http_app",
        ],
        cwd=REPO_ROOT,
        env={**os.environ, "APP_URL": f"http://127.0.0.1:{port}"},
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
        start_new_session=True,  # so a failed run can stop the workers too, not only the master
    )


def _server_errors(folder: Path) -> str:
    """The replicas' error lines (a failed assertion shows why a take was not stored)."""
    lines = [
        f"{log.name}: {line}"
        for log in sorted(folder.glob("granian*.log"))
        for line in log.read_text(errors="replace").splitlines()
        if '"level": "error"' in line or "Traceback" in line or "Error" in line
    ]
    return "\n".join(lines[-40:])


def _half_sent_upload(port: int, cookie: str, body: bytes, key: str) -> socket.socket:
    """A take whose first half the server has read: in flight until the rest is sent."""
    head = (
        f"POST {practice_routes.UPLOAD_ATTEMPT} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Origin: http://127.0.0.1:{port}\r\nCookie: {cookie}\r\nIdempotency-Key: {key}\r\n"
        f"Content-Type: audio/wav\r\nX-Item-Id: greetings.hello\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    conn = socket.create_connection(("127.0.0.1", port), timeout=60)
    conn.sendall(head + body[: len(body) // 2])
    _wait_until_read(port, conn.getsockname()[1])
    return conn


def _wait_until_read(server_port: int, client_port: int) -> None:
    """Until the server has read everything sent on this connection, so its request has begun.

    A connection still in the accept queue, or accepted but not yet read, is not a request in
    flight: a server told to stop may close it (a busy box once turned the test's "in flight" take
    into exactly that). The kernel's receive queue of the server's end (/proc/net/tcp) says when
    the bytes were read.
    """
    local = f"0100007F:{server_port:04X}"
    remote = f"0100007F:{client_port:04X}"
    for _ in range(600):
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[1] == local and fields[2] == remote and int(fields[4].split(":")[1], 16) == 0:
                return
        time.sleep(0.05)
    raise AssertionError("the server never read the first half of the take")


def _finish(conn: socket.socket, body: bytes) -> bytes:
    with conn:
        conn.sendall(body[len(body) // 2 :])
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    return answer.split(b"\r\n", 1)[0]


def test_sigterm_during_an_upload_finishes_the_take_and_refuses_new_connections(
    settings: Settings, tmp_path: Path
) -> None:
    load_all_models()
    SQLModel.metadata.create_all(get_engine())
    token = signed_in_learner("mei@example.org")
    port = free_port()
    proc = _granian(port, workers=2, log=tmp_path / "granian.log")
    try:
        _wait_serving(port, proc)
        body = synth_wav_bytes([2, 3])
        conn = _half_sent_upload(port, f"{settings.session_cookie_name}={token}", body, "only-take")
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)  # let the signal reach the workers while the body is half sent
        status_line = _finish(conn, body)
        assert b" 201 " in status_line, f"{status_line!r}\n{_server_errors(tmp_path)}"
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


def test_a_replica_stopped_in_the_middle_of_a_stream_of_uploads_loses_no_take(
    settings: Settings, tmp_path: Path
) -> None:
    """Two replicas (as behind the Container Apps ingress), four learners uploading back to back to
    both in turn. Replica A is stopped after the first answers, with one take half-sent to it; each
    learner's last take is sent to A after it has gone. The client does what the ingress and the
    apps do: a take whose connection failed goes to the other replica under the same idempotency
    key. Every take must end up stored exactly once."""
    load_all_models()
    SQLModel.metadata.create_all(get_engine())
    cookies = [
        f"{settings.session_cookie_name}={signed_in_learner(f'learner{i}@example.org')}" for i in range(4)
    ]
    ports = [free_port(), free_port()]
    replicas = [_granian(port, workers=1, log=tmp_path / f"granian-{i}.log") for i, port in enumerate(ports)]
    body = synth_wav_bytes([2, 3])
    takes_each = 6
    answered: dict[str, int] = {}
    moved_elsewhere: list[str] = []
    failures: list[str] = []
    lock = threading.Lock()
    first_answers = threading.Semaphore(0)
    a_stopped = threading.Event()

    def upload(cookie: str, port: int, key: str, http: requests.Session) -> int:
        response = http.post(
            f"http://127.0.0.1:{port}{practice_routes.UPLOAD_ATTEMPT}",
            data=body,
            headers={
                "Origin": f"http://127.0.0.1:{port}",
                "Cookie": cookie,
                "Content-Type": "audio/wav",
                "X-Item-Id": "greetings.hello",
                "Idempotency-Key": key,
            },
            timeout=120,
        )
        return response.status_code

    def learner(n: int) -> None:
        with requests.Session() as http:
            for i in range(takes_each):
                key = f"take-{n}-{i}-{uuid.uuid4().hex[:8]}"
                port = ports[(n + i) % 2]
                if i == takes_each - 1:  # the last take of each goes to replica A once it is gone
                    a_stopped.wait()
                    port = ports[0]
                try:
                    try:
                        status = upload(cookies[n], port, key, http)
                    except requests.ConnectionError:
                        other = ports[1] if port == ports[0] else ports[0]
                        with lock:
                            moved_elsewhere.append(key)
                        try:
                            status = upload(cookies[n], other, key, http)
                        except requests.RequestException as error:  # pragma: no cover - reported below
                            with lock:
                                failures.append(f"{key}: {error}")
                            continue
                    with lock:
                        answered[key] = status
                finally:
                    first_answers.release()  # answered or not, so the main thread never waits forever

    try:
        for port, proc in zip(ports, replicas, strict=True):
            _wait_serving(port, proc)
        threads = [threading.Thread(target=learner, args=(n,), daemon=True) for n in range(4)]
        for thread in threads:
            thread.start()
        for _ in range(4):
            first_answers.acquire()  # four takes answered: the stream is under way
        in_flight = _half_sent_upload(ports[0], cookies[0], body, "in-flight-take")
        replicas[0].send_signal(signal.SIGTERM)
        time.sleep(0.5)  # let the signal reach the worker while the body is half sent
        status_line = _finish(in_flight, body)
        assert b" 201 " in status_line, f"{status_line!r}\n{_server_errors(tmp_path)}"
        replicas[0].wait(timeout=120)  # a hang guard (raises), not a measurement
        assert replicas[0].returncode == 0  # replica A drained and stopped cleanly
        a_stopped.set()
        for thread in threads:
            thread.join(timeout=600)
        assert replicas[1].poll() is None, "the other replica must keep serving"
    finally:
        a_stopped.set()  # never leave a learner thread waiting, whatever happened above
        for proc in replicas:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    assert failures == [], _server_errors(tmp_path)
    assert len(moved_elsewhere) >= 4  # at least every learner's last take found A gone
    assert len(answered) == 4 * takes_each
    assert set(answered.values()) <= {200, 201}, f"{answered}\n{_server_errors(tmp_path)}"
    with session_scope() as session:
        stored = session.exec(select(Attempt)).all()
    keys = [a.idempotency_key for a in stored]
    assert sorted(keys) == sorted([*answered, "in-flight-take"])  # each take exactly once
    assert all((settings.data_dir / "attempts" / a.audio_path).is_file() for a in stored)
