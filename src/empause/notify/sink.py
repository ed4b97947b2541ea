"""A local SMTP sink (aiosmtpd): accepts every mail on a loopback port and keeps it, for the
demo (which prints each mail, sign-in links included, on the console) and the tests."""

from __future__ import annotations

import email
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

from aiosmtpd.controller import Controller


@dataclass(frozen=True, slots=True)
class ReceivedMail:
    sender: str
    recipients: list[str]
    subject: str
    text: str


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class _Handler:
    def __init__(self, sink: MailSink):
        self._sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=default_policy)
        assert isinstance(parsed, EmailMessage)
        body = parsed.get_body(preferencelist=("plain",))
        mail = ReceivedMail(
            sender=str(envelope.mail_from),
            recipients=[str(r) for r in envelope.rcpt_tos],
            subject=str(parsed.get("Subject", "")),
            text=body.get_content() if body is not None else "",
        )
        self._sink.received(mail)
        return "250 Message accepted for delivery"


class MailSink:
    """`with MailSink() as sink:` an SMTP server on 127.0.0.1; `sink.url` for EMPAUSE_SMTP_URL,
    `sink.mails` what it received, `sink.wait_for(to)` the next mail for an address."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0,
        on_mail: Callable[[ReceivedMail], None] | None = None, **smtp_options: Any,
    ):  # fmt: skip
        """`smtp_options` go to aiosmtpd's Controller (ssl_context, authenticator, ...)."""
        self.host = host
        self.port = port or _free_port(host)
        self.mails: list[ReceivedMail] = []
        self._on_mail = on_mail
        self._arrived = threading.Condition()
        self._controller = Controller(_Handler(self), hostname=host, port=self.port, **smtp_options)

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def received(self, mail: ReceivedMail) -> None:
        with self._arrived:
            self.mails.append(mail)
            self._arrived.notify_all()
        if self._on_mail is not None:
            self._on_mail(mail)

    def to(self, address: str) -> list[ReceivedMail]:
        return [m for m in self.mails if address.lower() in (r.lower() for r in m.recipients)]

    def wait_for(self, address: str, count: int = 1, timeout: float = 10.0) -> ReceivedMail:
        """The `count`-th mail to `address`, waiting up to `timeout` seconds for it."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.to(address)) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no mail #{count} for {address} within {timeout} s")
                self._arrived.wait(left)
            return self.to(address)[count - 1]

    def start(self) -> MailSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> MailSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
