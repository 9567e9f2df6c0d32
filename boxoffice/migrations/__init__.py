"""Alembic, driven from code: `boxoffice db upgrade`, `serve` on SQLite, and the tests."""

from pathlib import Path

from alembic import command
from alembic.config import Config

from boxoffice.db import create_private_sqlite_file
from boxoffice.settings import Settings

HERE = Path(__file__).parent


def alembic_config(settings: Settings) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    # ConfigParser interpolation would read "%" in a password as a placeholder.
    config.set_main_option("sqlalchemy.url", settings.database_url.replace("%", "%%"))
    return config


def upgrade(settings: Settings, revision: str = "head") -> None:
    if settings.is_sqlite:
        create_private_sqlite_file(settings.database_url)
    command.upgrade(alembic_config(settings), revision)


def downgrade(settings: Settings, revision: str) -> None:
    command.downgrade(alembic_config(settings), revision)
