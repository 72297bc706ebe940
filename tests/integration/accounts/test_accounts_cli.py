"""`python -m sayzhong create-admin` against a throwaway database (it commits for real)."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from sqlmodel import SQLModel

from sayzhong.accounts import sign_in, users
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
        result = sign_in.authenticate(
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
        assert sign_in.authenticate(
            session=session, email="ops@example.com", password=password, ip=None, user_agent=None
        ).ok


def test_create_admin_promotes_an_existing_account_without_touching_its_password(
    cli_db: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with session_scope() as session:
        users.sign_up(
            session=session,
            email="ana@example.com",
            password="correct horse battery staple",
            display_name="Ana",
        )
    code, out, _ = _run(monkeypatch, capsys, ["create-admin", "ana@example.com"])
    assert code == 0 and "now an administrator" in out and "Generated password" not in out
    with session_scope() as session:
        user = users.find_user_by_email(session=session, email="ana@example.com")
        assert user is not None and user.role == "admin"
        assert sign_in.authenticate(
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
        assert users.find_user_by_email(session=session, email="boss@example.com") is None


def test_reset_two_factor_removes_the_authenticator_and_ends_sessions(
    cli_db: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import pyotp

    from sayzhong.accounts import two_factor

    with session_scope() as session:
        user = users.sign_up(
            session=session, email="lost@example.com", password="a long admin phrase 7", display_name="L"
        )
        secret = two_factor.begin_enrolment(session=session, user_id=user.id).secret
        two_factor.confirm_enrolment(session=session, user_id=user.id, code=pyotp.TOTP(secret).now())
        token = sign_in.start_session(session=session, user_id=user.id, ip=None, user_agent=None)

    with pytest.raises(SystemExit) as missing:  # the reason is required
        main(["reset-two-factor", "lost@example.com"])
    assert missing.value.code == 2 and "--reason" in capsys.readouterr().err

    code, out, _ = _run(monkeypatch, capsys, ["reset-two-factor", "lost@example.com", "--reason", "ticket 7"])
    assert code == 0 and "reset for lost@example.com" in out
    with session_scope() as session:
        assert not two_factor.two_factor_status(session=session, user_id=user.id).enabled
        assert sign_in.resolve_session(session=session, token=token) is None

    code, out, _ = _run(monkeypatch, capsys, ["reset-two-factor", "lost@example.com", "--reason", "again"])
    assert code == 0 and "nothing to reset" in out
    code, _, err = _run(monkeypatch, capsys, ["reset-two-factor", "nobody@example.com", "--reason", "x"])
    assert code == 1 and "No account" in err
