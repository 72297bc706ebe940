"""Run the real `localstripe` server (PyPI) on a free loopback port for the billing tests.

`python -m tests.support.localstripe_server PORT` starts it; `LocalStripe` starts/stops that process
and drives its `/_config` routes (webhook registration, data reset). One change from the stock
command: localstripe pickles its whole store to the fixed path /tmp/localstripe.pickle after every
write; on a machine where several test runs share /tmp that file is a race, so persistence is
switched off (the tests reset the store with `DELETE /_config/data` anyway).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field

import requests

SECRET_KEY = "sk_test_sayzhong_localstripe"
PUBLISHABLE_KEY = "pk_test_sayzhong_localstripe"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LocalStripe:
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def js_url(self) -> str:
        return f"{self.url}/js.stripe.com/v3/"

    def start(self, log_path: str | None = None) -> LocalStripe:
        out = open(log_path, "wb") if log_path else subprocess.DEVNULL
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.localstripe_server", str(self.port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"localstripe exited with {self.process.returncode} (log: {log_path})")
            try:
                requests.get(self.js_url, timeout=1)
                return self
            except requests.ConnectionError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("localstripe did not start within 30 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def reset(self) -> None:
        requests.delete(f"{self.url}/_config/data", timeout=5).raise_for_status()

    def register_webhook(self, url: str, secret: str, hook_id: str = "sayzhong") -> None:
        requests.post(
            f"{self.url}/_config/webhooks/{hook_id}", data={"url": url, "secret": secret}, timeout=5
        ).raise_for_status()

    def unregister_webhook(self, hook_id: str = "sayzhong") -> None:
        # localstripe has no delete route: point the hook at a closed port (deliveries fail quietly).
        self.register_webhook(f"http://127.0.0.1:{free_port()}/gone", "off", hook_id)


def _serve(port: int) -> None:
    from localstripe import resources, server

    resources.Store.dump_to_disk = lambda self: None  # type: ignore[method-assign]
    resources.Store.try_load_from_disk = lambda self: None  # type: ignore[method-assign]
    sys.argv = ["localstripe", "--port", str(port), "--from-scratch"]
    server.start()


if __name__ == "__main__":
    _serve(int(sys.argv[1]))
