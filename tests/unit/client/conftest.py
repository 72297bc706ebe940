"""Client unit tests run with a temporary HOME so nothing touches the real ~/.config."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for var in (
        "XDG_CONFIG_HOME",
        "XDG_DATA_HOME",
        "XDG_CACHE_HOME",
        "NO_COLOR",
        "FORCE_COLOR",
        "SAYZHONG_SERVER",
    ):
        monkeypatch.delenv(var, raising=False)
    return home
