"""`python -m sayzhong create-admin` against a throwaway database (it commits for real)."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from sqlmodel import SQLModel

from sayzhong.accounts import service
from sayzhong.cli import main
from sayzhong.db import get_engine, session_scope
from sayzhong.models import load_all_models
from sayzhong.settings import Settings


@pytest.fixture
def cli_db(settings: Settings) -> Iterator[None]:
    """The test database (SQLite file, or PostgreSQL in that pass) with its tables: the CLI commits."""
    load_all_models()
    SQLModel.metadata.create_all(get_engine())
    yield


def _run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str], stdin: str = ""
) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_create_admin_with_password_from_stdin(
    cli_db: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(
        monkeypatch,
        capsys,
        ["create-admin", "Boss@Example.com", "--password-stdin"],
        "a long admin phrase 7\n",
    )
    assert code == 0 and "Created administrator boss@example.com" in out
    assert "a long admin phrase 7" not in out
    with session_scope() as session:
        result = service.authenticate(
            session=session,
            email="boss@example.com",
            password="a long admin phrase 7",
            ip=None,
            user_agent=None,
        )
        user, _token = result.unwrap()
    assert user.role == "admin"


def test_create_admin_without_terminal_generates_and_prints_a_password_once(
    cli_db: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(monkeypatch, capsys, ["create-admin", "ops@example.com"])
    assert code == 0
    password = out.split("shown only this once): ", 1)[1].strip()
    assert len(password) >= 20
    with session_scope() as session:
        assert service.authenticate(
            session=session, email="ops@example.com", password=password, ip=None, user_agent=None
        ).ok


def test_create_admin_promotes_an_existing_account_without_touching_its_password(
    cli_db: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with session_scope() as session:
        service.sign_up(
            session=session,
            email="ana@example.com",
            password="correct horse battery staple",
            display_name="Ana",
        )
    code, out, _ = _run(monkeypatch, capsys, ["create-admin", "ana@example.com"])
    assert code == 0 and "now an administrator" in out and "Generated password" not in out
    with session_scope() as session:
        user = service.find_user_by_email(session=session, email="ana@example.com")
        assert user is not None and user.role == "admin"
        assert service.authenticate(
            session=session,
            email="ana@example.com",
            password="correct horse battery staple",
            ip=None,
            user_agent=None,
        ).ok


def test_create_admin_rejects_a_weak_password_and_a_bad_email(
    cli_db: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(
        monkeypatch, capsys, ["create-admin", "boss@example.com", "--password-stdin"], "password\n"
    )
    assert code == 1 and "too common" in err
    code, _, err = _run(monkeypatch, capsys, ["create-admin", "not-an-email"])
    assert code == 1 and "valid e-mail" in err
    with session_scope() as session:
        assert service.find_user_by_email(session=session, email="boss@example.com") is None
