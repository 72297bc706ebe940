"""Fixtures for client integration tests (helpers live in clientharness.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from clientharness import Backend, Client, Speech
from sqlmodel import SQLModel

from sayzhong.db import get_engine
from sayzhong.models import load_all_models
from sayzhong.settings import Settings
from tests.factories import learner_with_api_token
from tests.support.human_speech import syllable_samples, to_wav


@pytest.fixture(scope="session")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Speech:
    """你好 (greetings.hello) said by a native speaker (ni2 hao3 from the shared recordings):
    a 16 kHz WAV and the same samples as raw s16le."""
    folder = tmp_path_factory.mktemp("speech")
    samples = syllable_samples("ni2 hao3", lead_s=0.4, tail_s=0.2)
    wav, raw = folder / "nihao.wav", folder / "nihao.raw"
    wav.write_bytes(to_wav(samples))
    raw.write_bytes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return Speech(wav=wav, raw=raw)


@pytest.fixture
def backend(settings: Settings, tmp_path: Path) -> Iterator[Backend]:
    load_all_models()
    SQLModel.metadata.create_all(get_engine())
    user_id, raw = learner_with_api_token(plus=True)
    env = {"ENV": "test", "DATABASE_URL": settings.effective_database_url, "DATA_DIR": str(settings.data_dir)}
    backend = Backend(env=env, token=raw, user_id=user_id, log=tmp_path / "server.log")
    try:
        yield backend
    finally:
        for server in backend.servers:
            server.stop()


@pytest.fixture
def client(tmp_path: Path) -> Client:
    home = tmp_path / "client-home"
    home.mkdir()
    return Client(home=home)
