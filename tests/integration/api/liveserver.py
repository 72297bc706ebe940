"""The app as served, on a real uvicorn server on 127.0.0.1 (a subprocess), and a proxy that drops it.

Run as a script, `python liveserver.py PORT`, with DATABASE_URL, DATA_DIR and ENV=test in the
environment. It serves what `reflex run --env prod` serves as its backend: the Reflex app of
`sayzhong/sayzhong.py` with every route mounted by `create_http_app()` (the API among them) and
the security-headers middleware, pages compiled beforehand (REFLEX_SKIP_COMPILE, as Reflex's own
production backend does). One thing differs: the API's request budget is large enough that
property-based runs are not throttled (the limiter has its own tests) — unless
LIVESERVER_LIMITS=wiring asks for the budgets production chooses (`wiring.get_api_limits`).

Client tests import this module by path (tests/ is not a package).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from tests.support.ports import free_port

REPO = Path(__file__).resolve().parents[3]


def create_app() -> Any:
    from reflex.environment import environment
    from sqlmodel import SQLModel

    from sayzhong.api.operations import ApiLimits
    from sayzhong.api.ratelimit import TokenBucketLimiter
    from sayzhong.db import get_engine
    from sayzhong.models import load_all_models

    load_all_models()
    SQLModel.metadata.create_all(get_engine())
    generous = ApiLimits(
        per_token=TokenBucketLimiter(capacity=1_000_000, refill_per_s=1_000),
        auth_failures=TokenBucketLimiter(capacity=1_000_000, refill_per_s=1_000),
    )
    if os.environ.get("LIVESERVER_LIMITS") != "wiring":  # else the production choice (Redis or in-process)
        ApiLimits.default = classmethod(lambda _cls: generous)  # type: ignore[assignment,method-assign]
    environment.REFLEX_SKIP_COMPILE.set(True)
    from sayzhong.sayzhong import app

    return app()


class LiveServer:
    """One uvicorn process; `kill()` is SIGKILL (no graceful shutdown), `start()` again reuses the port."""

    def __init__(self, *, env: dict[str, str], log_path: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.env = {**os.environ, **env, "PYTHONPATH": str(REPO)}
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, ready_timeout_s: float = 60.0) -> LiveServer:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__)), str(self.port)],
            env=self.env,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + ready_timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"API server exited early:\n{self.log_path.read_text(errors='replace')}")
            try:
                if requests.get(f"{self.url}/api/v1/openapi.json", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"API server did not start:\n{self.log_path.read_text(errors='replace')}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


class DroppingProxy:
    """Loopback TCP proxy that forwards one upload, then runs `on_drop` and cuts the client off.

    mode "after_response_starts": the whole request reaches the server; when the server starts
    answering (so it has committed), `on_drop` runs (e.g. SIGKILL the server) and the client gets
    a reset connection instead of the answer.
    mode "mid_upload": only the first `forward_bytes` of the request reach the server.
    Later connections are forwarded untouched.
    """

    def __init__(
        self, target_port: int, *, mode: str, on_drop: Callable[[], None], forward_bytes: int = 4096
    ) -> None:
        self.target_port = target_port
        self.mode = mode
        self.on_drop = on_drop
        self.forward_bytes = forward_bytes
        self.dropped = threading.Event()
        self._armed = True
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(8)
        self.port = int(self._sock.getsockname()[1])
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._sock.close()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    @staticmethod
    def _reset(sock: socket.socket) -> None:
        # SO_LINGER 0: close with RST, like a crashed peer.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.close()

    def _handle(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
        except OSError:
            self._reset(client)
            return
        # Only a request carrying a body (the upload) is dropped; small GETs pass.
        first = client.recv(65536)
        armed = self._armed and first.startswith(b"POST")
        if armed:
            self._armed = False
        if not armed:
            self._pipe(client, upstream, first)
            return
        if self.mode == "mid_upload":
            sent = 0
            data = first
            while data and sent < self.forward_bytes:
                chunk = data[: self.forward_bytes - sent]
                upstream.sendall(chunk)
                sent += len(chunk)
                if sent < self.forward_bytes:
                    data = client.recv(65536)
            self.on_drop()
            self.dropped.set()
            self._reset(client)
            upstream.close()
            return
        # after_response_starts
        upstream.sendall(first)
        client.settimeout(0.2)
        upstream.settimeout(0.2)
        while True:
            try:
                data = client.recv(65536)
                if data:
                    upstream.sendall(data)
            except TimeoutError:
                pass
            try:
                answer = upstream.recv(1)
            except TimeoutError:
                continue
            if answer:
                break
            break
        self.on_drop()
        self.dropped.set()
        self._reset(client)
        upstream.close()

    @staticmethod
    def _pipe(client: socket.socket, upstream: socket.socket, first: bytes) -> None:
        upstream.sendall(first)

        def pump(src: socket.socket, dst: socket.socket) -> None:
            try:
                while data := src.recv(65536):
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                for s in (src, dst):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        t = threading.Thread(target=pump, args=(upstream, client), daemon=True)
        t.start()
        pump(client, upstream)
        t.join(timeout=30)
        client.close()
        upstream.close()


@dataclass
class LiveApi:
    server: LiveServer
    token: str
    user_id: int

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(create_app(), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
