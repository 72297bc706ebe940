"""Command-line tools the audio tests need; setup installs them, so a missing one fails the suite."""

from __future__ import annotations

import shutil

import pytest


def require_tool(tool: str) -> str:
    """Absolute path of `tool`, or a test failure that says how to get it (never a skip)."""
    path = shutil.which(tool)
    if path is None:
        pytest.fail(
            f"{tool} is not installed: run ./scripts/setup.sh (it installs espeak-ng, sox and ffmpeg)"
        )
    return path
