"""The mailer against a real SMTP server (aiosmtpd on 127.0.0.1): plain, with a login, and
over TLS from the first byte (smtps://, a certificate made for the test)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from empause.config import Settings
from empause.notify.mail import MailConfigError, Mailer, MailError, SmtpServer
from empause.notify.sink import MailSink

SENDER = "empause@example.org"


def test_urls_parse_and_bad_ones_are_refused():
    plain = SmtpServer.parse("smtp://user%40x:p%3Ass@mail.example.org:2525")
    assert (plain.host, plain.port, plain.tls) == ("mail.example.org", 2525, False)
    assert (plain.username, plain.password) == ("user@x", "p:ss")
    assert SmtpServer.parse("smtps://mail.example.org").port == 465
    assert SmtpServer.parse("smtp://mail.example.org").port == 25
    for bad in ("http://mail.example.org", "mail.example.org:25", "smtp://"):
        with pytest.raises(MailConfigError):
            SmtpServer.parse(bad)
    with pytest.raises(MailConfigError):
        Mailer(plain, "no-at-sign")


def test_no_mailer_without_configuration():
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert Mailer.from_settings(settings) is None
    assert Mailer.from_settings(settings.model_copy(update={"smtp_url": "smtp://x"})) is None


async def test_plain_smtp_delivers_text_mail():
    with MailSink() as sink:
        mailer = Mailer(SmtpServer.parse(sink.url), SENDER)
        await mailer.send("em@example.org", "Hello", "a link: http://127.0.0.1/x\n")
        mail = sink.wait_for("em@example.org")
    assert mail.sender == SENDER and mail.subject == "Hello"
    assert "http://127.0.0.1/x" in mail.text


class Accounts:
    def __init__(self) -> None:
        self.logins: list[str] = []

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str,
                 data: Any) -> AuthResult:  # fmt: skip
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"u", b"pw")
        if ok:
            self.logins.append(data.login.decode())
        return AuthResult(success=ok, handled=False)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_credentials_in_the_url_log_in():
    accounts = Accounts()
    options = {"authenticator": accounts, "auth_required": True, "auth_require_tls": False}
    with MailSink(**options) as sink:
        good = Mailer(SmtpServer.parse(f"smtp://u:pw@127.0.0.1:{sink.port}"), SENDER)
        await good.send("em@example.org", "Hi", "text")
        sink.wait_for("em@example.org")
        bad = Mailer(SmtpServer.parse(f"smtp://u:wrong@127.0.0.1:{sink.port}"), SENDER)
        with pytest.raises(MailError):
            await bad.send("em@example.org", "Hi", "text")
    assert accounts.logins == ["u"] and len(sink.mails) == 1


async def test_a_password_is_not_sent_in_clear_to_another_host(monkeypatch):
    """Only loopback may get a password without TLS (the sink is reached by a name that is
    not a loopback address here, as a remote server would be)."""
    monkeypatch.setattr("empause.notify.mail._loopback", lambda host: False)
    with MailSink() as sink:
        mailer = Mailer(SmtpServer.parse(f"smtp://u:pw@127.0.0.1:{sink.port}"), SENDER)
        with pytest.raises(MailError, match="unencrypted"):
            await mailer.send("em@example.org", "Hi", "text")
    assert sink.mails == []


def _certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ))  # fmt: skip
    return cert_path, key_path


async def test_smtps_speaks_tls_and_checks_the_certificate(tmp_path: Path, monkeypatch):
    cert, key = _certificate(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    with MailSink(ssl_context=server_tls) as sink:
        mailer = Mailer(SmtpServer.parse(f"smtps://127.0.0.1:{sink.port}"), SENDER)
        with pytest.raises(MailError):  # a certificate nobody vouches for
            await mailer.send("em@example.org", "Hi", "text")
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # now the client trusts it
        await mailer.send("em@example.org", "Over TLS", "text")
        assert sink.wait_for("em@example.org").subject == "Over TLS"
