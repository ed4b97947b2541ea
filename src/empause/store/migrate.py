"""Alembic, driven from code so `empause db upgrade` works from an installed package."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Apply migrations up to `revision`; running it again changes nothing.

    Synchronous (Alembic runs its own event loop): from async code use asyncio.to_thread.
    """
    if url is None:
        from empause.config import get_settings

        url = get_settings().database_url
    command.upgrade(alembic_config(url), revision)
