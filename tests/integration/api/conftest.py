"""A live API server on 127.0.0.1 with a temporary SQLite database, a learner and their token."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from liveserver import LiveServer
from sqlmodel import SQLModel

from sayzhong.accounts import service as accounts
from sayzhong.api import tokens
from sayzhong.db import get_engine, session_scope
from sayzhong.models import load_all_models
from sayzhong.settings import Settings


@dataclass
class LiveApi:
    server: LiveServer
    token: str
    user_id: int

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def make_learner(
    email: str = "mei@example.org", scopes: str = "practice:read practice:write"
) -> tuple[int, str]:
    with session_scope() as session:
        user = accounts.sign_up(
            session=session, email=email, password="learning tones daily", display_name="Mei"
        )
        _info, raw = tokens.create_token(session=session, user_id=user.id, name="tests", scopes=scopes)
    return user.id, raw


@pytest.fixture
def live_api(settings: Settings, tmp_path: Path) -> Iterator[LiveApi]:
    load_all_models()
    SQLModel.metadata.create_all(get_engine())
    user_id, raw = make_learner()
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
