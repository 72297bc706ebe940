"""Token and settings files: owner-only permissions, atomic writes, XDG locations."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from sayzhong.client import config


def test_token_is_stored_readable_by_the_owner_only(_home: Path) -> None:
    path = config.save_token("  szp_secret-token-value  \n")
    assert path == _home / ".config" / "sayzhong" / "token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert config.read_token() == "szp_secret-token-value"


def test_saving_again_replaces_the_token_and_leaves_no_temporary_files(_home: Path) -> None:
    config.save_token("szp_first")
    path = config.save_token("szp_second")
    assert config.read_token() == "szp_second"
    assert sorted(p.name for p in path.parent.iterdir()) == ["token"]


def test_a_loose_existing_folder_is_tightened(_home: Path) -> None:
    folder = _home / ".config" / "sayzhong"
    folder.mkdir(parents=True, mode=0o755)
    folder.chmod(0o755)
    config.save_token("szp_x")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_logout_deletes_the_token(_home: Path) -> None:
    config.save_token("szp_x")
    assert config.delete_token() is True
    assert config.read_token() is None
    assert config.delete_token() is False


def test_xdg_variables_move_the_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/is/ignored")
    assert config.config_dir() == tmp_path / "cfg" / "sayzhong"
    assert config.data_dir() == tmp_path / "data" / "sayzhong"
    assert config.cache_dir() == Path.home() / ".cache" / "sayzhong"


def test_server_setting_round_trips_and_a_broken_file_falls_back(_home: Path) -> None:
    assert config.ClientConfig.load().server == config.DEFAULT_SERVER
    config.ClientConfig(server="http://127.0.0.1:9999").save()
    assert config.ClientConfig.load().server == "http://127.0.0.1:9999"
    (config.config_dir() / config.CONFIG_FILE).write_text("{not json")
    assert config.ClientConfig.load().server == config.DEFAULT_SERVER
