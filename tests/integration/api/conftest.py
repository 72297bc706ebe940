"""The app as served on 127.0.0.1 with a temporary database, a learner and their token; a spoken take."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from liveserver import LiveApi, LiveServer
from sqlmodel import SQLModel

from sayzhong.db import get_engine
from sayzhong.models import load_all_models
from sayzhong.settings import Settings
from tests.factories import learner_with_api_token
from tests.support.tools import espeak_wav


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
    return espeak_wav("你好", tmp_path_factory.mktemp("speech") / "b.wav").read_bytes()
