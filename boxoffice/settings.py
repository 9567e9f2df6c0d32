from enum import StrEnum
from functools import cached_property
from typing import Annotated, Self

from fastapi import Depends, Request
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_SECRET_KEY = "development-only-secret-key-change-me-in-production"


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class EmailBackend(StrEnum):
    CONSOLE = "console"
    SMTP = "smtp"


class Settings(BaseSettings):
    """Every setting of the service; the only place that reads the environment."""

    model_config = SettingsConfigDict(env_prefix="BOXOFFICE_", env_file=".env", extra="ignore")

    env: Environment = Environment.DEVELOPMENT
    database_url: str = "sqlite+aiosqlite:///./boxoffice.db"
    database_pool_size: int = Field(default=10, ge=1)
    # How long opening a database connection may take before the request fails (503), and how
    # long one statement may run: a database that is gone must not hold requests forever.
    database_connect_timeout: float = Field(default=5, gt=0)
    database_command_timeout: float = Field(default=60, gt=0)
    # Behind PgBouncer in transaction mode (PostgreSQL): no prepared statements kept across
    # transactions, because the next transaction may run on another server connection.
    database_pgbouncer: bool = False
    secret_key: SecretStr = SecretStr(DEVELOPMENT_SECRET_KEY)
    access_token_minutes: int = Field(default=15, ge=1)
    refresh_token_days: int = Field(default=7, ge=1)
    jwt_issuer: str = "boxoffice"
    jwt_audience: str = "boxoffice-api"

    redis_url: str | None = None
    rate_limits_enabled: bool = True
    rate_limit_auth: str = "5/minute"
    rate_limit_bookings: str = "30/minute"
    rate_limit_default: str = "300/minute"
    # Keeps several deployments (or test runs) apart when they share one Redis.
    rate_limit_prefix: str = "boxoffice"

    email_backend: EmailBackend = EmailBackend.CONSOLE
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    email_from: str = "boxoffice <no-reply@boxoffice.invalid>"
    reminder_lead_minutes: int = Field(default=1440, ge=1)

    # After SIGTERM, how long a server waits for the requests it accepted before it exits.
    shutdown_grace_seconds: int = Field(default=30, ge=1)

    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Self:
        if (
            self.env is Environment.PRODUCTION
            and self.secret_key.get_secret_value() == DEVELOPMENT_SECRET_KEY
        ):
            raise ValueError(
                "BOXOFFICE_ENV=production needs BOXOFFICE_SECRET_KEY set to a secret of your own"
            )
        return self

    @cached_property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


async def _app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


AppSettings = Annotated[Settings, Depends(_app_settings)]
