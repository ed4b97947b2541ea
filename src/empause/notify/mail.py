"""Sending mail through the installation's SMTP server (EMPAUSE_SMTP_URL, EMPAUSE_MAIL_FROM).

`smtp://user:pass@host:port` speaks plain SMTP (upgraded with STARTTLS when the server offers
it; a password is never sent unencrypted except to a loopback address), `smtps://` TLS from
the start. The standard library's smtplib does the talking, in a
thread, so the event loop never waits on a mail server. No usable default: without a URL and
a sender, `Mailer.from_settings` answers None and the features that need mail say so.
"""

from __future__ import annotations

import asyncio
import ipaddress
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import unquote, urlsplit

from empause.config import Settings

SMTP_TIMEOUT = 15.0  # seconds for the whole conversation with the mail server
DEFAULT_PORTS = {"smtp": 25, "smtps": 465}


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class MailError(RuntimeError):
    """The mail could not be handed to the SMTP server."""


class MailConfigError(ValueError):
    """EMPAUSE_SMTP_URL or EMPAUSE_MAIL_FROM is not usable."""


@dataclass(frozen=True, slots=True)
class SmtpServer:
    host: str
    port: int
    tls: bool  # smtps: TLS from the first byte
    username: str | None
    password: str | None

    @classmethod
    def parse(cls, url: str) -> SmtpServer:
        parts = urlsplit(url)
        if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
            raise MailConfigError(
                "EMPAUSE_SMTP_URL must look like smtp://user:pass@host:port or smtps://..."
            )
        return cls(
            host=parts.hostname,
            port=parts.port or DEFAULT_PORTS[parts.scheme],
            tls=parts.scheme == "smtps",
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


class Mailer:
    def __init__(self, server: SmtpServer, sender: str, *, timeout: float = SMTP_TIMEOUT):
        if "@" not in sender:
            raise MailConfigError("EMPAUSE_MAIL_FROM must be an email address")
        self.server = server
        self.sender = sender
        self.timeout = timeout

    @classmethod
    def from_settings(cls, settings: Settings) -> Mailer | None:
        """The installation's mailer, or None when mail is not configured."""
        if not settings.smtp_url or not settings.mail_from:
            return None
        return cls(SmtpServer.parse(settings.smtp_url), settings.mail_from)

    def message(self, to: str, subject: str, text: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        message.set_content(text)
        return message

    async def send(self, to: str, subject: str, text: str) -> None:
        """Hand one plain-text mail to the SMTP server (raises MailError if it will not)."""
        message = self.message(to, subject, text)
        try:
            await asyncio.to_thread(self._send_blocking, message)
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(f"could not send mail via {self.server.host}: {exc}") from exc

    def _send_blocking(self, message: EmailMessage) -> None:
        server = self.server
        smtp: smtplib.SMTP
        if server.tls:
            context = ssl.create_default_context()
            smtp = smtplib.SMTP_SSL(server.host, server.port, timeout=self.timeout,
                                    context=context)  # fmt: skip
        else:
            smtp = smtplib.SMTP(server.host, server.port, timeout=self.timeout)
        with smtp:
            smtp.ehlo()
            encrypted = server.tls
            if not server.tls and smtp.has_extn("starttls"):
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
                encrypted = True
            if server.username and not encrypted and not _loopback(server.host):
                raise MailError(
                    f"{server.host} offers no STARTTLS: refusing to send the SMTP password "
                    "unencrypted (use smtps://)"
                )
            if server.username:
                smtp.login(server.username, server.password or "")
            smtp.send_message(message)
