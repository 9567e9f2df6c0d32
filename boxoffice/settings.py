from enum import StrEnum
from functools import cached_property
from typing import Annotated, Self

from fastapi import Depends, Request
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from boxoffice.catalogue.money import CURRENCIES

DEVELOPMENT_SECRET_KEY = "development-only-secret-key-change-me-in-production"
MIN_SECRET_KEY_BYTES = 32


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class EmailBackend(StrEnum):
    CONSOLE = "console"
    SMTP = "smtp"


class PaymentProviderName(StrEnum):
    MANUAL = "manual"
    STRIPE = "stripe"


class Settings(BaseSettings):
    """Every setting of the service; the only place that reads the environment."""

    model_config = SettingsConfigDict(env_prefix="BOXOFFICE_", env_file=".env", extra="ignore")

    env: Environment = Environment.DEVELOPMENT
    database_url: str = "sqlite+aiosqlite:///./boxoffice.db"
    database_pool_size: int = Field(default=10, ge=1)
    # A pooled connection idle longer than this is tested with a round trip before use
    # (PostgreSQL, MariaDB); 0 tests it at every use.
    database_pool_ping_idle_seconds: float = Field(default=10, ge=0)
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
    # Per account, on every password check (login and password change), from any address.
    rate_limit_password: str = "10/15 minutes"
    # Keeps several deployments (or test runs) apart when they share one Redis.
    rate_limit_prefix: str = "boxoffice"

    email_backend: EmailBackend = EmailBackend.CONSOLE
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    # Whether the mail server takes SMTPUTF8, so that an address whose part before the @ is not
    # ASCII can be registered and written to. Said by the operator, not asked of the server: a
    # sign-up must not depend on the mail server being up, and the console backend has none.
    smtp_utf8: bool = False
    email_from: str = "boxoffice <no-reply@boxoffice.invalid>"
    # Where people reach the web UI (scheme, host and any path prefix): messages link to its
    # pages, such as a booking's, to pay for it or accept an offer.
    public_url: str = "http://localhost:8000"
    # Bookings and event creation only from accounts whose address is verified (SPEC §13).
    require_verified_email: bool = False
    smtp_timeout_seconds: float = Field(default=30, gt=0)
    reminder_lead_minutes: int = Field(default=1440, ge=1)
    email_max_attempts: int = Field(default=5, ge=1)
    # The first retry's delay; each later one doubles it (with jitter).
    email_retry_seconds: float = Field(default=30, gt=0)

    # The notification worker: inside `serve` unless turned off, and as `boxoffice worker`.
    worker_enabled: bool = True
    worker_poll_seconds: float = Field(default=2, gt=0)
    worker_batch_size: int = Field(default=20, ge=1, le=1000)
    # How long a claimed message stays a worker's before another may take it over: longer than
    # a batch takes to send (the sends of a batch run at once, each bounded by the SMTP timeout).
    worker_lease_seconds: float = Field(default=120, gt=0)
    # Housekeeping, done by the worker: how often, and how long finished rows are kept.
    housekeeping_interval_seconds: float = Field(default=3600, gt=0)
    sent_notifications_keep_days: float = Field(default=30, gt=0)
    ended_sessions_keep_days: float = Field(default=30, gt=0)

    # After SIGTERM, how long a server waits for the requests it accepted before it exits.
    shutdown_grace_seconds: int = Field(default=30, ge=1)

    # A bearer token /metrics asks for; unset, /metrics answers anyone (keep it off the internet).
    metrics_token: SecretStr | None = None

    # The currency of an event created without one (ISO 4217).
    default_currency: str = "EUR"

    # Comma-separated payment providers buyers may choose from: manual, stripe (SPEC §10).
    payment_providers: Annotated[list[PaymentProviderName], NoDecode] = [PaymentProviderName.MANUAL]
    # What the buyer who chose `manual` is told (bank details, the desk's hours); the booking's
    # reference and deadline are added.
    manual_payment_instructions: str = (
        "Pay by bank transfer to the organizer, or in cash at the desk, before the deadline."
    )
    stripe_secret_key: SecretStr | None = None
    # Shown to the checkout page, which loads Stripe.js with it.
    stripe_publishable_key: str | None = None
    stripe_webhook_secret: SecretStr | None = None
    # Another Stripe API server (a test server such as localstripe); unset: Stripe's own.
    stripe_api_base: str | None = None
    # How often the worker ends holds past their end and sends the refunds decided.
    hold_sweep_seconds: float = Field(default=5, gt=0)

    # Webhooks (SPEC §12): the waits before each retry of a failed delivery, in seconds; after
    # the last one the message has failed.
    webhook_retry_schedule: Annotated[list[int], NoDecode] = [
        5,
        300,
        1800,
        7200,
        18000,
        36000,
        50400,
        72000,
        86400,
    ]
    # Deliveries under way at once in one worker process.
    webhook_concurrency: int = Field(default=4, ge=1, le=100)
    # Webhook URLs may name loopback, private, link-local addresses: tests and closed networks.
    webhooks_allow_private: bool = False

    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    log_level: str = "INFO"

    # Comma-separated origins (https://app.example.com) allowed to call the API from a browser.
    cors_origins: Annotated[list[str], NoDecode] = []
    # Comma-separated addresses or networks of reverse proxies whose X-Forwarded-For is believed;
    # empty: nobody's (the peer's address is the client's).
    forwarded_allow_ips: Annotated[list[str], NoDecode] = []

    @field_validator("cors_origins", "forwarded_allow_ips", "payment_providers", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("webhook_retry_schedule", mode="before")
    @classmethod
    def _seconds_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(part) for part in value.split(",") if part.strip()]
        return value

    @field_validator("webhook_retry_schedule")
    @classmethod
    def _non_negative(cls, value: list[int]) -> list[int]:
        if any(seconds < 0 for seconds in value):
            raise ValueError("retry waits are seconds, 0 or more")
        return value

    @field_validator("default_currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        if value not in CURRENCIES:
            raise ValueError(f"'{value}' is not an ISO 4217 currency code such as 'EUR'")
        return value

    @field_validator("public_url")
    @classmethod
    def _web_address(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"'{value}' is not an http:// or https:// address")
        # Links are made by appending a path that starts with "/".
        return value.rstrip("/")

    @model_validator(mode="after")
    def _stripe_configured(self) -> Self:
        if PaymentProviderName.STRIPE in self.payment_providers and not (
            self.stripe_secret_key and self.stripe_webhook_secret
        ):
            raise ValueError(
                "BOXOFFICE_PAYMENT_PROVIDERS names stripe: set BOXOFFICE_STRIPE_SECRET_KEY and "
                "BOXOFFICE_STRIPE_WEBHOOK_SECRET"
            )
        return self

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Self:
        if self.env is not Environment.PRODUCTION:
            return self
        key = self.secret_key.get_secret_value()
        if key == DEVELOPMENT_SECRET_KEY:
            raise ValueError(
                "BOXOFFICE_ENV=production needs BOXOFFICE_SECRET_KEY set to a secret of your own"
            )
        if len(key.encode()) < MIN_SECRET_KEY_BYTES:
            # HS256 with a short key can be brute-forced offline from any token it signed.
            raise ValueError(
                f"BOXOFFICE_ENV=production needs a BOXOFFICE_SECRET_KEY of at least "
                f"{MIN_SECRET_KEY_BYTES} bytes (it has {len(key.encode())})"
            )
        return self

    @cached_property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


async def _app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


AppSettings = Annotated[Settings, Depends(_app_settings)]
