"""SMTP adapter for the mailer port (sayzhong.notifications.ports.Mailer).

Uses the standard library: STARTTLS with certificate verification when SMTP_STARTTLS is true
(the default), then AUTH when a username is configured. Credentials are never sent over a
connection that did not upgrade to TLS.
"""

from __future__ import annotations

import email.policy
import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr

from sayzhong.errors import ServiceUnavailableError
from sayzhong.notifications.ports import EmailMessageData
from sayzhong.settings import Settings

logger = logging.getLogger(__name__)
_POLICY = email.policy.default.clone(max_line_length=998)


class SmtpMailer:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        mail_from: str,
        username: str = "",
        password: str = "",
        starttls: bool = True,
        timeout_s: float = 15.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if username and not starttls:
            raise ValueError("Refusing SMTP AUTH without STARTTLS: set SMTP_STARTTLS=true")
        self._host = host
        self._port = port
        self._mail_from = mail_from
        self._username = username
        self._password = password
        self._starttls = starttls
        self._timeout_s = timeout_s
        self._ssl_context = ssl_context

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpMailer:
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            mail_from=settings.mail_from,
            username=settings.smtp_username,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
        )

    def build_message(self, message: EmailMessageData) -> EmailMessage:
        # Long lines are allowed up to RFC 5322's hard limit: at the default 78 the library would
        # RFC 2047-encode a List-Unsubscribe header holding a long link, which mail clients cannot use.
        mime = EmailMessage(policy=_POLICY)
        mime["From"] = self._mail_from
        mime["To"] = message.to
        mime["Subject"] = message.subject
        mime["Message-ID"] = make_msgid(domain=parseaddr(self._mail_from)[1].rpartition("@")[2] or None)
        for name, value in message.headers:
            mime[name] = value
        mime.set_content(message.text_body)
        if message.html_body:
            mime.add_alternative(message.html_body, subtype="html")
            if message.inline_images:
                html_part = mime.get_body(preferencelist=("html",))
                assert isinstance(html_part, EmailMessage)
                for image in message.inline_images:
                    html_part.add_related(
                        image.data,
                        maintype="image",
                        subtype=image.subtype,
                        cid=f"<{image.cid}>",
                        filename=image.filename,
                        disposition="inline",
                    )
        return mime

    def send(self, message: EmailMessageData) -> None:
        mime = self.build_message(message)
        try:
            with smtplib.SMTP(self._host, self._port, timeout=self._timeout_s) as smtp:
                smtp.ehlo()
                if self._starttls:
                    smtp.starttls(context=self._ssl_context or ssl.create_default_context())
                    smtp.ehlo()
                if self._username:
                    smtp.login(self._username, self._password)
                smtp.send_message(mime)
        except (OSError, smtplib.SMTPException) as exc:
            logger.warning(
                "SMTP delivery to %s:%s failed: %s", self._host, self._port, exc.__class__.__name__
            )
            raise ServiceUnavailableError(
                "We could not send the e-mail just now. Please try again shortly."
            ) from exc
