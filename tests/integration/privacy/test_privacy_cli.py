"""Operator CLI: `privacy export` writes the archive, `privacy erase --now` erases at once, an
unknown address exits 1 with a clear message; `jobs --once` runs one job."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from jobs.__main__ import main as jobs_main
from sayzhong.accounts.models import User
from sayzhong.cli import main
from sayzhong.db import session_scope
from sayzhong.settings import Settings
from tests.integration.privacy.conftest import populate


def test_export_and_erase_now(app_db: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mei = populate(app_db, "mei.cli@example.org")
    out = tmp_path / "out" / "mei.zip"
    assert main(["privacy", "export", "--email", "MEI.cli@example.org", "--out", str(out)]) == 0
    assert "account.json" in zipfile.ZipFile(io.BytesIO(out.read_bytes())).namelist()
    assert main(["privacy", "erase", "--email", mei.email, "--now"]) == 0
    with session_scope() as session:
        assert session.get(User, mei.id) is None
    assert "erased" in capsys.readouterr().out


def test_unknown_address_fails_clearly(
    app_db: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["privacy", "export", "--email", "nobody@example.org", "--out", str(tmp_path / "x.zip")]) == 1
    assert main(["privacy", "erase", "--email", "nobody@example.org", "--now"]) == 1
    err = capsys.readouterr().err
    assert err.count("No account uses the address nobody@example.org") == 2
    assert not (tmp_path / "x.zip").exists()


def test_erase_without_now_schedules_the_grace_period(
    app_db: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    mei = populate(app_db, "mei.grace.cli@example.org")
    assert main(["privacy", "erase", "--email", mei.email]) == 0
    assert "scheduled for" in capsys.readouterr().out
    with session_scope() as session:
        assert session.get(User, mei.id) is not None


def test_legal_check_and_one_job(app_db: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["privacy", "legal-check"]) == 0
    assert jobs_main(["--once", "retention.abandoned_calibration"]) == 0
    assert jobs_main(["--once", "exports"]) == 0
    assert "all documents are valid" in capsys.readouterr().out
