"""Helpers for curriculum tests: a writable copy of the shipped content to break on purpose."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sayzhong.curriculum.loader import CONTENT_DIR


class ContentCopy:
    def __init__(self, root: Path) -> None:
        self.root = root

    def edit(self, relative: str, change: Callable[[Any], None]) -> None:
        path = self.root / relative
        data = json.loads(path.read_text(encoding="utf-8"))
        change(data)
        path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


@pytest.fixture
def content_copy(tmp_path: Path) -> ContentCopy:
    root = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, root)
    return ContentCopy(root)
