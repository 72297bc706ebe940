"""Fixtures for client integration tests (helpers live in clientharness.py)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from clientharness import Backend, Client, Speech
from sqlmodel import SQLModel

from sayzhong.db import get_engine
from sayzhong.models import load_all_models
from sayzhong.settings import Settings
from tests.factories import learner_with_api_token
from tests.support.tools import require_tool


@pytest.fixture(scope="session")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Speech:
    """你好 (greetings.hello) said by espeak-ng: a 16 kHz WAV and the same samples as raw s16le."""
    espeak, sox = require_tool("espeak-ng"), require_tool("sox")
    folder = tmp_path_factory.mktemp("speech")
    source = folder / "espeak.wav"
    subprocess.run([espeak, "-v", "cmn-latn-pinyin", "-w", str(source), "你好"], check=True)
    wav, raw = folder / "nihao.wav", folder / "nihao.raw"
    common = ["-r", "16000", "-c", "1", "-b", "16", "-e", "signed-integer"]
    subprocess.run([sox, str(source), *common, str(wav)], check=True)
    subprocess.run([sox, str(source), *common, "-t", "raw", str(raw)], check=True)
    return Speech(wav=wav, raw=raw)


@pytest.fixture
def backend(settings: Settings, tmp_path: Path) -> Iterator[Backend]:
    load_all_models()
    SQLModel.metadata.create_all(get_engine())
    user_id, raw = learner_with_api_token()
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
