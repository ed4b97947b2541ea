"""Settings shared by the CLI and the server, so both see one database and one upstream."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from empause.domain.timeutil import parse_duration


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EMPAUSE_", env_file=".env", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./empause.db"
    hootsuite_base_url: str = "http://127.0.0.1:8900"
    hootsuite_client_id: str = "empause-demo"
    hootsuite_client_secret: str = "empause-demo-secret"
    organization_id: str = "832420"
    emergency_team_id: str = "501006"
    public_url: str = "http://127.0.0.1:8000"
    webhook_secret: str = "demo-webhook-secret-change-me"
    secret_key: str = "demo-secret-key-change-me-in-production"

    # Engine defaults (durations accept "7d", "12h", "30m", "45s" or seconds).
    horizon: timedelta = timedelta(days=7)
    shift: timedelta = timedelta(days=7)
    sweep_interval: timedelta = timedelta(minutes=5)
    concurrency: int = Field(default=8, ge=1, le=64)
    rate_limit: float = Field(default=20.0, gt=0)

    # Prescreening
    held_action: Literal["hold", "reject"] = "hold"
    prescreen_when_normal: Literal["approve", "ignore"] = "approve"

    @field_validator("horizon", "shift", "sweep_interval", mode="before")
    @classmethod
    def _duration(cls, value: object) -> object:
        return parse_duration(value) if isinstance(value, str) else value


@lru_cache
def get_settings() -> Settings:
    return Settings()
