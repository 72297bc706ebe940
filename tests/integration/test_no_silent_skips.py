"""The suite's own rule: a skip (a missing tool, an importorskip) fails the run instead of passing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sayzhong.settings import REPO_ROOT

SKIPPING = """
import pytest

def test_skipped_at_run_time():
    pytest.skip("espeak-ng is not installed")

@pytest.mark.skipif(True, reason="needs sox")
def test_skipped_by_mark():
    pass

def test_passes():
    pass
"""

IMPORTORSKIP = """
import pytest

pytest.importorskip("no_such_pinned_dependency_anywhere")

def test_never_collected():
    pass
"""


def _run(folder: Path, name: str, source: str) -> subprocess.CompletedProcess[str]:
    path = folder / name
    path.write_text(source, encoding="utf-8")
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "--rootdir",
            str(REPO_ROOT),
            "-c",
            str(REPO_ROOT / "pyproject.toml"),
            str(path),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_skipped_tests_fail_the_run(tmp_path: Path) -> None:
    run = _run(tmp_path, "test_skipping.py", SKIPPING)
    assert run.returncode == 1, run.stdout + run.stderr
    summary = run.stdout.splitlines()[-1]
    # A run-time skip reports as a failure, a skipif mark (decided in setup) as an error.
    assert "1 failed, 1 passed, 1 error" in summary
    assert "skipped" not in summary
    assert "skips are failures" in run.stdout


def test_importorskip_is_an_error(tmp_path: Path) -> None:
    run = _run(tmp_path, "test_importorskip.py", IMPORTORSKIP)
    assert run.returncode != 0, run.stdout + run.stderr
    assert "no_such_pinned_dependency_anywhere" in run.stdout
    assert " skipped" not in run.stdout.splitlines()[-1]
