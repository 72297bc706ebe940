from __future__ import annotations

import pytest

from sayzhong import routes
from sayzhong.http.session_cookie import make_ticket, read_ticket, token_from_cookie_header
from sayzhong.settings import Settings


def test_ticket_round_trip_and_tamper(settings: Settings) -> None:
    ticket = make_ticket(settings, "tok123")
    assert read_ticket(settings, ticket) == "tok123"
    assert read_ticket(settings, ticket[:-2] + "xx") is None


def test_ticket_signed_with_another_secret_is_refused(settings: Settings) -> None:
    other = settings.model_copy(update={"secret_key": "another-secret-" * 3})
    assert read_ticket(settings, make_ticket(other, "tok")) is None


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("sz_session=abc; other=1", "abc"),
        ("other=1", None),
        ('sz_session="unterminated', None),
        ("sz_session=" + "x" * 500, None),
    ],
)
def test_token_from_cookie_header(settings: Settings, header: str | None, expected: str | None) -> None:
    assert token_from_cookie_header(settings, header) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, routes.HOME),
        ("/account", "/account"),
        ("//evil.example", routes.HOME),
        ("https://evil.example", routes.HOME),
        ("/\\evil", routes.HOME),
    ],
)
def test_safe_next_blocks_open_redirects(value: str | None, expected: str) -> None:
    assert routes.safe_next(value) == expected


def test_production_refuses_the_default_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    monkeypatch.setenv("ENV", "prod")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings()
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    assert Settings().is_prod


def test_production_refuses_to_start_without_a_real_mail_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without SMTP, reset links would land in an outbox staff can read instead of reaching users."""
    from pydantic import ValidationError

    monkeypatch.setenv("ENV", "prod")
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.delenv("SMTP_HOST", raising=False)
    with pytest.raises(ValidationError, match="SMTP_HOST") as refused:
        Settings(_env_file=None)  # type: ignore[call-arg]
    assert "e-mail" in str(refused.value)
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    assert Settings(_env_file=None).is_prod  # type: ignore[call-arg]
