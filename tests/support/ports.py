"""Loopback ports for the servers the tests start, unique across the parallel lanes of `make test`.

Asking the kernel for a free port (bind to port 0, read it, close) leaves a window before the server
binds it, and `make test` runs several pytest processes at once, each starting servers. Two of them
can be handed the same port; granian binds with SO_REUSEPORT, so the second server would not even
fail — the two would silently share the port and answer each other's tests.

`free_port()` therefore also takes a lock on a file named after the port, held until this process
exits: a port another test process holds is skipped. Ports are cheap and sessions are short, so they
are never handed back early. The lock files stay in the temp folder; a lock, not the file, is what
counts, so a crashed process leaves nothing behind that blocks a port.
"""

from __future__ import annotations

import fcntl
import os
import socket
import tempfile
from pathlib import Path

RESERVATIONS = Path(tempfile.gettempdir()) / "sayzhong-test-ports"

_held: dict[int, int] = {}
"""Port -> the open lock file's descriptor, for as long as this process lives."""


def free_port() -> int:
    """A loopback TCP port that is free now and that no other test process has been handed."""
    RESERVATIONS.mkdir(exist_ok=True)
    for _ in range(200):
        port = _kernel_port()
        if port in _held:
            continue
        fd = os.open(RESERVATIONS / str(port), os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # another test process holds it
            os.close(fd)
            continue
        _held[port] = fd
        return port
    raise RuntimeError(
        f"no free loopback port found that another test process does not hold ({RESERVATIONS})"
    )


def _kernel_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def reserved(port: int) -> bool:
    """Whether a process holds `port`'s reservation through a descriptor other than this call's."""
    fd = os.open(RESERVATIONS / str(port), os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)
