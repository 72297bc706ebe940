"""`python -m sayzhong email …`: the operator's bounce import and suppression list."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import SQLModel

from sayzhong.cli import main
from sayzhong.db import get_engine, session_scope
from sayzhong.models import load_all_models
from sayzhong.notifications import preferences
from sayzhong.settings import Settings
from tests.unit.notifications.test_reminder_schedule import DSN


@pytest.fixture
def db(settings: Settings) -> Settings:
    load_all_models()
    SQLModel.metadata.create_all(get_engine())
    return settings


def test_import_then_unsuppress(db: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    box = tmp_path / "bounces.mbox"
    box.write_bytes(b"From MAILER-DAEMON Sat Mar  7 13:00:00 2026\n" + DSN + b"\n")
    assert main(["email", "import-bounces", str(box)]) == 0
    assert '"suppressed": 1' in capsys.readouterr().out
    with session_scope() as session:
        assert preferences.is_suppressed(session=session, email="gone.user@example.org")
    assert main(["email", "unsuppress", "gone.user@example.org"]) == 0
    assert main(["email", "unsuppress", "gone.user@example.org"]) == 1
    assert main(["email", "suppress", "not-an-address"]) == 1
    assert "not an e-mail address" in capsys.readouterr().out


def test_a_missing_mbox_is_a_plain_error(
    db: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["email", "import-bounces", str(tmp_path / "missing.mbox")]) == 1
    assert "Could not import" in capsys.readouterr().out
