"""scripts/image_check.py's checks of a built image's configuration and files (scripts/build_image.sh
--check runs them, then the image's own commands, on a real image; that needs root and a build, so
here the static half is held to what it must catch, on a made-up image filesystem)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from sayzhong.settings import REPO_ROOT


def _module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("image_check", REPO_ROOT / "scripts/image_check.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _config(user: str, **changes: Any) -> dict[str, Any]:
    oci = {"User": user, "Cmd": ["scripts/serve.sh"], "Env": ["DATA_DIR=/data"], "WorkingDir": "/app"}
    docker = {"Healthcheck": {"Test": ["CMD", "python", "-c", "..."]}}
    oci.update(changes.get("oci", {}))
    docker.update(changes.get("docker", {}))
    return {"OCIv1": {"config": oci}, "Docker": {"config": docker}}


@pytest.fixture
def rootfs(tmp_path: Path) -> Path:
    """A made-up image: the compiled front end, a data folder owned by the current user."""
    (tmp_path / "app/.web/build/client").mkdir(parents=True)
    (tmp_path / "app/.web/build/client/index.html").write_text("<html></html>")
    (tmp_path / "data").mkdir()
    (tmp_path / "usr/bin").mkdir(parents=True)
    (tmp_path / "usr/bin/python3").write_text("")
    return tmp_path


@pytest.fixture
def image_user(rootfs: Path) -> str:
    """The image's user, owning the data folder: this test's own user, or 10001 when that is root."""
    if os.getuid() != 0:
        return str(os.getuid())
    os.chown(rootfs / "data", 10001, 10001)
    return "10001"


def _failed(rootfs: Path, config: dict[str, Any]) -> list[str]:
    return [what for ok, what in _module().static_checks(rootfs, config) if not ok]


def test_a_good_image_passes_every_check(rootfs: Path, image_user: str) -> None:
    assert _failed(rootfs, _config(image_user)) == []


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda fs, cfg: cfg["OCIv1"]["config"].update(User="root"), "non-root"),
        (lambda fs, cfg: cfg["OCIv1"]["config"].update(User=""), "non-root"),
        (lambda fs, cfg: cfg["Docker"]["config"].pop("Healthcheck"), "health check"),
        (lambda fs, cfg: cfg["OCIv1"]["config"].update(Cmd=["sh", "-c", "scripts/serve.sh"]), "exec form"),
        (lambda fs, cfg: (fs / "usr/bin/gcc").write_text(""), "/usr/bin/gcc"),
        (lambda fs, cfg: (fs / "usr/bin/npm").write_text(""), "/usr/bin/npm"),
        (lambda fs, cfg: (fs / "app/.web/build/client/index.html").unlink(), "compiled front end"),
        (lambda fs, cfg: (fs / "data").rmdir(), "data folder"),
    ],
)
def test_each_mistake_is_caught(rootfs: Path, image_user: str, change, problem: str) -> None:  # type: ignore[no-untyped-def]
    config = _config(image_user)
    change(rootfs, config)
    failed = _failed(rootfs, config)
    assert any(problem in what for what in failed), failed
