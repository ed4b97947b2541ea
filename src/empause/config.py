"""Settings shared by the CLI and the server, so both see one database and one upstream."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from empause.domain.organization import OrganizationConfig, PlatformName
from empause.domain.timeutil import parse_duration

# Where Hootsuite's dashboard runs and serves its SDK (seed 003); the demo uses the sandbox's.
HOOTSUITE_DASHBOARD_ORIGINS = "https://hootsuite.com,https://*.hootsuite.com"
HOOTSUITE_HSP_JS_URL = "https://d2l6uygi1pgnys.cloudfront.net/jsapi/2-0/hsp.js"
# How often prescreening polls what awaits approval on platforms without webhooks (SocialHub).
PENDING_POLL_INTERVAL = timedelta(seconds=2)
APP_NAME = "empause"
DATABASE_FILE = "empause.db"


def user_data_dir() -> Path:
    """This user's data directory for empause (platformdirs: XDG_DATA_HOME on Linux)."""
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path.expanduser().resolve()}"


def default_database_url() -> str:
    """Without EMPAUSE_DATABASE_URL: one SQLite file in the user's data directory, whatever
    the current directory, so the CLI, the server and the demo all see the same one."""
    folder = user_data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return sqlite_url(folder / DATABASE_FILE)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EMPAUSE_", env_file=".env", extra="ignore")

    database_url: str = Field(default_factory=default_database_url)
    hootsuite_base_url: str = "http://127.0.0.1:8900"
    hootsuite_client_id: str = "empause-demo"
    hootsuite_client_secret: str = "empause-demo-secret"
    # The platform of the organization in EMPAUSE_ORGANIZATION_ID (others: `empause org add`).
    platform: Literal["hootsuite", "socialhub"] = "hootsuite"
    socialhub_base_url: str = ""
    socialhub_access_token: str = ""
    organization_id: str = "832420"
    emergency_team_id: str = "501006"
    public_url: str = "http://127.0.0.1:8000"
    # No usable default: `empause serve` and `empause worker` refuse to start without real
    # values (see check_secrets); only `empause demo` and the tests use the DEMO_* ones.
    webhook_secret: str = ""
    secret_key: str = ""
    metrics_token: str = ""  # bearer token for /metrics; unset: /metrics is not served

    # Mail (SocialHub sign-in links): smtp://user:pass@host:port, smtps:// for TLS. No usable
    # default: without it, the email sign-in says mail is not configured (the demo sets both).
    smtp_url: str = ""
    mail_from: str = ""

    # The app stream inside Hootsuite (seed 003). Optional: unset, /hootsuite/stream answers
    # 503. The secret is the app's shared secret from the App Directory (signs the SSO token).
    hootsuite_app_secret: str = ""
    sso_max_skew: timedelta = timedelta(seconds=300)  # SSO timestamps older or newer: refused
    hootsuite_dashboard_origins: str = HOOTSUITE_DASHBOARD_ORIGINS  # comma-separated
    hsp_js_url: str = HOOTSUITE_HSP_JS_URL  # the App Directory SDK, from Hootsuite

    # Engine defaults (durations accept "7d", "12h", "30m", "45s" or seconds).
    horizon: timedelta = timedelta(days=7)
    shift: timedelta = timedelta(days=7)
    sweep_interval: timedelta = timedelta(minutes=5)  # the whole horizon, while paused
    # ...and the next minutes, every few seconds: catches what becomes due while paused,
    # whatever the webhook inbox is busy with (a flood of forged events cannot delay it).
    fast_sweep_interval: timedelta = timedelta(seconds=0.5)
    fast_sweep_window: timedelta = timedelta(minutes=10)
    concurrency: int = Field(default=8, ge=1, le=64)
    rate_limit: float = Field(default=20.0, gt=0)

    # Prescreening
    held_action: Literal["hold", "reject"] = "hold"
    prescreen_when_normal: Literal["approve", "ignore"] = "approve"
    pending_poll_interval: timedelta = PENDING_POLL_INTERVAL

    @field_validator(
        "horizon", "shift", "sweep_interval", "fast_sweep_interval", "fast_sweep_window",
        "sso_max_skew", "pending_poll_interval", mode="before",
    )
    @classmethod
    def _duration(cls, value: object) -> object:
        return parse_duration(value) if isinstance(value, str) else value


def default_organization(settings: Settings) -> OrganizationConfig:
    """The organization the environment names (EMPAUSE_ORGANIZATION_ID), with the
    installation's defaults: what a single-organization installation protects."""
    return OrganizationConfig(
        organization_id=str(settings.organization_id),
        platform=PlatformName(settings.platform),
        emergency_team_id=str(settings.emergency_team_id),
        horizon=settings.horizon,
        shift=settings.shift,
        concurrency=settings.concurrency,
        rate_limit=settings.rate_limit,
        held_action=settings.held_action,
        prescreen_when_normal=settings.prescreen_when_normal,
        fast_sweep_window=settings.fast_sweep_window,
    )


@lru_cache
def get_settings() -> Settings:
    return Settings()


DEMO_SECRET_KEY = "demo-secret-key-change-me-in-production"
DEMO_WEBHOOK_SECRET = "demo-webhook-secret-change-me"
MIN_SECRET_LENGTH = 32
_SECRETS = {"secret_key": DEMO_SECRET_KEY, "webhook_secret": DEMO_WEBHOOK_SECRET}
MAKE_A_SECRET = 'python3 -c "import secrets; print(secrets.token_urlsafe(48))"'


DEMO_HOOTSUITE_APP_SECRET = "demo-hootsuite-app-secret-change-me"
MIN_APP_SECRET_LENGTH = 16


def secret_problems(settings: Settings) -> list[str]:
    """What is wrong with the secrets a real deployment needs (empty when all are good)."""
    problems = _app_secret_problems(settings.hootsuite_app_secret)
    for name, demo in _SECRETS.items():
        variable = f"EMPAUSE_{name.upper()}"
        value = str(getattr(settings, name) or "")
        if not value:
            why = "is not set"
        elif value == demo:
            why = "is the public demo value"
        elif len(value) < MIN_SECRET_LENGTH:
            why = f"is shorter than {MIN_SECRET_LENGTH} characters"
        else:
            continue
        problems.append(f"{variable} {why}; set it to a random value, e.g. from: {MAKE_A_SECRET}")
    return problems


def _app_secret_problems(value: str) -> list[str]:
    """The app stream is optional (unset: it answers 503), but a set secret must be real."""
    if not value:
        return []
    if value == DEMO_HOOTSUITE_APP_SECRET:
        why = "is the public demo value"
    elif len(value) < MIN_APP_SECRET_LENGTH:
        why = f"is shorter than {MIN_APP_SECRET_LENGTH} characters"
    else:
        return []
    return [
        f"EMPAUSE_HOOTSUITE_APP_SECRET {why}; use your app's secret from Hootsuite's App "
        "Directory, or unset it to turn the app stream off"
    ]


def with_demo_secrets(settings: Settings) -> Settings:
    """The demo's settings: any secret left unset takes its (public) demo value."""
    demo_values = {**_SECRETS, "hootsuite_app_secret": DEMO_HOOTSUITE_APP_SECRET}
    return settings.model_copy(
        update={name: getattr(settings, name) or demo for name, demo in demo_values.items()}
    )


def demo_stream_settings(dashboard_origin: str) -> dict[str, str]:
    """The demo's app stream: framed by, and loading hsp.js from, the sandbox's dashboard."""
    origin = dashboard_origin.rstrip("/")
    return {"hootsuite_dashboard_origins": origin, "hsp_js_url": f"{origin}/jsapi/2-0/hsp.js"}


def dashboard_origins(settings: Settings) -> list[str]:
    """EMPAUSE_HOOTSUITE_DASHBOARD_ORIGINS as a list (commas or spaces between)."""
    return [o.rstrip("/") for o in settings.hootsuite_dashboard_origins.replace(",", " ").split()]
