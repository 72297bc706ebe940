"""SmtpMailer against a real aiosmtpd server on 127.0.0.1: plain, and STARTTLS + AUTH with a test CA."""

from __future__ import annotations

import datetime as dt
import email
import ipaddress
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from sayzhong.errors import ServiceUnavailableError
from sayzhong.integrations.smtp_mailer import SmtpMailer
from sayzhong.notifications.ports import EmailMessageData
from tests.support.ports import free_port

MAIL_FROM = "SayZhong <hello@sayzhong.example>"
MESSAGE = EmailMessageData(
    to="ana@example.com",
    subject="Reset your SayZhong password",
    text_body="Open http://localhost:3000/reset-password?token=abc\n",
    html_body="<p>Open the link</p>",
)


@dataclass
class Inbox:
    messages: list[tuple[str, list[str], Message]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(
            (envelope.mail_from, list(envelope.rcpt_tos), email.message_from_bytes(envelope.original_content))
        )
        return "250 OK"


@pytest.fixture
def tls_files(tmp_path: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@pytest.fixture
def plain_server() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
def tls_auth_server(tls_files: tuple[Path, Path]) -> Iterator[tuple[Inbox, int]]:
    cert_path, key_path = tls_files
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert_path, key_path)

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"mailer", b"s3cret-pass")
        return AuthResult(success=ok)

    inbox, port = Inbox(), free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=server_ctx,
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
        auth_require_tls=True,
    )
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def test_plain_smtp_delivers_text_and_html(plain_server: tuple[Inbox, int]) -> None:
    inbox, port = plain_server
    SmtpMailer(host="127.0.0.1", port=port, mail_from=MAIL_FROM, starttls=False).send(MESSAGE)
    assert len(inbox.messages) == 1
    mail_from, rcpts, msg = inbox.messages[0]
    assert mail_from == "hello@sayzhong.example" and rcpts == ["ana@example.com"]
    assert msg["Subject"] == MESSAGE.subject and msg["Message-ID"]
    parts = {
        part.get_content_type(): part.get_payload(decode=True).decode()
        for part in msg.walk()
        if not part.is_multipart()
    }
    assert (
        "reset-password?token=abc" in parts["text/plain"]
        and parts["text/html"].strip() == "<p>Open the link</p>"
    )


def test_starttls_with_auth_delivers(
    tls_auth_server: tuple[Inbox, int], tls_files: tuple[Path, Path]
) -> None:
    inbox, port = tls_auth_server
    client_ctx = ssl.create_default_context(cafile=str(tls_files[0]))
    SmtpMailer(
        host="127.0.0.1",
        port=port,
        mail_from=MAIL_FROM,
        username="mailer",
        password="s3cret-pass",
        starttls=True,
        ssl_context=client_ctx,
    ).send(MESSAGE)
    assert [rcpts for _, rcpts, _ in inbox.messages] == [["ana@example.com"]]


def test_wrong_smtp_password_is_a_clear_unavailable_error(
    tls_auth_server: tuple[Inbox, int], tls_files: tuple[Path, Path]
) -> None:
    inbox, port = tls_auth_server
    mailer = SmtpMailer(
        host="127.0.0.1",
        port=port,
        mail_from=MAIL_FROM,
        username="mailer",
        password="wrong",
        timeout_s=2,  # aiosmtpd answers a failed AUTH slowly; either way the send must fail cleanly
        ssl_context=ssl.create_default_context(cafile=str(tls_files[0])),
    )
    with pytest.raises(ServiceUnavailableError, match="could not send the e-mail"):
        mailer.send(MESSAGE)
    assert inbox.messages == []


def test_untrusted_certificate_is_refused(tls_auth_server: tuple[Inbox, int]) -> None:
    inbox, port = tls_auth_server
    mailer = SmtpMailer(
        host="127.0.0.1", port=port, mail_from=MAIL_FROM, username="mailer", password="s3cret-pass"
    )
    with pytest.raises(ServiceUnavailableError):
        mailer.send(MESSAGE)
    assert inbox.messages == []


def test_auth_without_starttls_is_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="STARTTLS"):
        SmtpMailer(host="127.0.0.1", port=25, mail_from=MAIL_FROM, username="u", password="p", starttls=False)


def test_unreachable_server_is_a_clear_unavailable_error() -> None:
    mailer = SmtpMailer(host="127.0.0.1", port=free_port(), mail_from=MAIL_FROM, starttls=False, timeout_s=5)
    with pytest.raises(ServiceUnavailableError):
        mailer.send(MESSAGE)
