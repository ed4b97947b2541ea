"""`empause demo --platform socialhub`: the seeded SocialHub sandbox, a local SMTP sink and the
app together, on SQLite, one command.

SocialHub has no sign-in for people, so members sign in by emailed link: the demo's mail goes
to an SMTP sink on 127.0.0.1 that prints every mail (the sign-in link) on this console.
The sandbox listens on 8901, the app on EMPAUSE_PUBLIC_URL's port (8000 by default). Its
database is a file of its own (unless EMPAUSE_DATABASE_URL says otherwise), so it does not
mix with the Hootsuite demo's. Ctrl-C stops everything.
"""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

from empause.config import Settings, get_settings, sqlite_url, user_data_dir, with_demo_secrets
from empause.notify.sink import MailSink, ReceivedMail
from empause.sandbox.socialhub import seed
from empause.sandbox.socialhub.server import SocialHubSandboxServer
from empause.web import logs
from empause.web.app import create_app
from empause.web.server import ServerThread, bind

SANDBOX_PORT = 8901
POSTS = 300
DEMO_DATABASE_FILE = "empause-socialhub.db"  # beside the Hootsuite demo's, not the same
DEMO_MAIL_FROM = "emergency-pause@demo.localhost"


def print_mail(mail: ReceivedMail) -> None:
    """The sink's console: every mail the app sends, sign-in links included."""
    rule = "  " + "-" * 72
    print(
        f"\n{rule}\n  mail to {', '.join(mail.recipients)}: {mail.subject}\n{rule}\n"
        + "\n".join(f"  {line}" for line in mail.text.splitlines())
        + f"\n{rule}\n",
        flush=True,
    )


def demo_settings(base: Settings, sandbox_url: str, smtp_url: str) -> Settings:
    """The app protecting the sandbox's demo account, mailing through the sink."""
    return base.model_copy(
        update={
            "platform": "socialhub",
            "socialhub_base_url": sandbox_url,
            "socialhub_access_token": seed.ACCOUNT_TOKEN,
            "organization_id": seed.ACCOUNT_ID,
            "emergency_team_id": seed.EM_TEAM_ID,
            "smtp_url": smtp_url,
            "mail_from": DEMO_MAIL_FROM,
            "database_url": base.database_url
            if "database_url" in base.model_fields_set
            else sqlite_url(user_data_dir() / DEMO_DATABASE_FILE),
        }
    )


def run(sandbox_port: int = SANDBOX_PORT, posts: int = POSTS) -> None:
    logs.configure()
    base = with_demo_secrets(get_settings())
    app_url = urlsplit(base.public_url)
    app_port = app_url.port or 8000
    with (
        SocialHubSandboxServer(seed="demo", posts=posts, port=sandbox_port) as sandbox,
        MailSink(on_mail=print_mail) as sink,
    ):
        settings = demo_settings(base, sandbox.base_url, sink.url)
        sock = bind(app_url.hostname or "127.0.0.1", app_port)
        with ServerThread(create_app(settings), sock):
            public = settings.public_url.rstrip("/")
            print(
                "\n  Emergency Pause demo (SocialHub) is running\n"
                f"    dashboard:         {public}/\n"
                f"    SocialHub sandbox: {sandbox.base_url} ({posts} posts,"
                f" account {seed.ACCOUNT_NAME}, control API {sandbox.base_url}/_sandbox/)\n"
                f"    mail (SMTP sink):  {sink.url} — every mail is printed here\n"
                f"    database:          {settings.database_url}\n\n"
                f"  Sign in: open {public}/, choose 'Sign in with an email link' and enter\n"
                f"    {seed.EM_EMAIL:<20} (emergency team: controls)\n"
                f"    {seed.STAFF_EMAIL:<20} (staff: read-only)\n"
                "  The link arrives on this console.\n\n"
                "  Press Ctrl-C to stop.\n",
                flush=True,
            )
            try:
                threading.Event().wait()
            except KeyboardInterrupt:
                print("\n  stopping…", flush=True)
