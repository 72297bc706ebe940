"""The app as served on 127.0.0.1 with a temporary database, a learner and their token; a spoken take."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from liveserver import LiveApi, LiveServer
from sqlmodel import SQLModel

from sayzhong.db import get_engine
from sayzhong.models import load_all_models
from sayzhong.settings import Settings
from tests.factories import learner_with_api_token
from tests.support.tools import require_tool


@pytest.fixture
def live_api(settings: Settings, tmp_path: Path) -> Iterator[LiveApi]:
    load_all_models()
    SQLModel.metadata.create_all(get_engine())
    user_id, raw = learner_with_api_token(plus=True)
    server = LiveServer(
        env={
            "ENV": "test",
            "DATABASE_URL": settings.effective_database_url,
            "DATA_DIR": str(settings.data_dir),
        },
        log_path=tmp_path / "server.log",
    ).start()
    try:
        yield LiveApi(server=server, token=raw, user_id=user_id)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def spoken_wav(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """你好 said by espeak-ng, 16 kHz mono WAV."""
    espeak, sox = require_tool("espeak-ng"), require_tool("sox")
    folder = tmp_path_factory.mktemp("speech")
    subprocess.run([espeak, "-v", "cmn-latn-pinyin", "-w", str(folder / "a.wav"), "你好"], check=True)
    subprocess.run(
        [sox, str(folder / "a.wav"), "-r", "16000", "-c", "1", "-b", "16", str(folder / "b.wav")],
        check=True,
    )
    return (folder / "b.wav").read_bytes()
