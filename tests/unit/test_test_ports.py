"""The test suite's port helper: parallel lanes never get the same loopback port for their servers."""

from __future__ import annotations

import subprocess
import sys

import pytest

from sayzhong.settings import REPO_ROOT
from tests.support import ports

_HOLD_ONE = "from tests.support.ports import free_port; print(free_port(), flush=True); input()"


def test_a_port_another_test_process_holds_is_never_handed_out(monkeypatch: pytest.MonkeyPatch) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", _HOLD_ONE],
        cwd=REPO_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdin is not None
        held = int(child.stdout.readline())
        assert ports.reserved(held)
        # The kernel offers the held port twice (it is free: nothing listens on it) before another.
        kernel = ports._kernel_port
        offers = [held, held]
        monkeypatch.setattr(ports, "_kernel_port", lambda: offers.pop() if offers else kernel())
        mine = ports.free_port()
        assert offers == []  # both offers of the held port were looked at ...
        assert mine != held  # ... and refused
        assert ports.reserved(mine)
    finally:
        if child.stdin is not None:
            child.stdin.close()
        child.wait(timeout=60)
    # The reservation ends with the process that held it.
    assert not ports.reserved(held)


def test_one_process_never_gets_the_same_port_twice() -> None:
    handed = [ports.free_port() for _ in range(20)]
    assert len(set(handed)) == len(handed)
