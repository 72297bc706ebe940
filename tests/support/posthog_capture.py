"""A local stand-in for PostHog's capture endpoint: a real HTTP server on 127.0.0.1 that records every
POSTed batch (gzip or plain JSON), as the official `posthog` library sends them to `/batch/`.

Modes: "ok" answers 200, "fail" answers 503 (the library retries, then gives up), "hang" accepts
the connection and never answers (a dead PostHog that holds the sender thread). Used by the
integration tests and by e2e/conftest.py, which points the app's POSTHOG_HOST at it.
"""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class PostHogCapture:
    def __init__(self) -> None:
        self.batches: list[dict[str, Any]] = []
        self.gets: list[str] = []
        self.requests = 0
        self.mode = "ok"
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.url = ""

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> PostHogCapture:
        capture = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(min(length, 20 * 1024 * 1024))
                if self.headers.get("Content-Encoding") == "gzip":
                    raw = gzip.decompress(raw)
                with capture._lock:
                    capture.requests += 1
                    mode = capture.mode
                    if mode == "ok":
                        body = json.loads(raw or b"{}")
                        capture.batches.append({"path": self.path, "body": body})
                status = 200 if mode == "ok" else 503
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"status": 1}' if status == 200 else b'{"error": "down"}')

            def do_GET(self) -> None:
                # Marketing-tag stand-in: a script (and anything it asks for) is served and recorded.
                with capture._lock:
                    capture.gets.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "text/javascript")
                self.end_headers()
                self.wfile.write(b"/* test tag */ window.__szTestTag = (window.__szTestTag || 0) + 1;\n")

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def reset(self, mode: str = "ok") -> None:
        with self._lock:
            self.batches.clear()
            self.gets.clear()
            self.requests = 0
            self.mode = mode

    # --- reading what arrived ------------------------------------------------------------------

    def events(self) -> list[dict[str, Any]]:
        with self._lock:
            return [event for batch in self.batches for event in batch["body"].get("batch", [])]

    def wait_for(self, predicate: Any, timeout_s: float = 15.0) -> list[dict[str, Any]]:
        """Events once `predicate(events)` holds (the sender thread posts in the background)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            events = self.events()
            if predicate(events):
                return events
            time.sleep(0.05)
        return self.events()


class HangingServer:
    """Accepts TCP connections and never answers: what a dead PostHog looks like to a client."""

    def __init__(self) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(64)
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        self.accepted = 0
        self._conns: list[socket.socket] = []
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop:
            try:
                conn, _ = self._socket.accept()
            except OSError:
                return
            self._conns.append(conn)
            self.accepted += 1

    def wait_accepted(self, n: int = 1, timeout_s: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and self.accepted < n:
            time.sleep(0.02)
        return self.accepted >= n

    def stop(self) -> None:
        self._stop = True
        for conn in self._conns:
            conn.close()
        self._socket.close()
