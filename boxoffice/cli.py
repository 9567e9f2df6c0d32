"""The `boxoffice` command: serve, db upgrade, create-admin."""

import asyncio
from typing import Annotated

import typer
import uvicorn
from fastapi import FastAPI
from pydantic import ValidationError

from boxoffice import migrations
from boxoffice.admin.audit import AuditAction, TargetType, record
from boxoffice.auth import service as auth_service
from boxoffice.db import create_engine, create_sessionmaker, transaction
from boxoffice.errors import DomainError
from boxoffice.observability import configure_logging
from boxoffice.settings import Settings
from boxoffice.users.models import Role

cli = typer.Typer(
    help="boxoffice: events with limited seats, booked exactly.", no_args_is_help=True
)
db_cli = typer.Typer(help="Database schema.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        reasons = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in error.errors())
        typer.echo(f"boxoffice: refusing to start: {reasons}", err=True)
        raise typer.Exit(2) from error


def build_app() -> FastAPI:
    """The app uvicorn serves in every worker process, configured from the environment."""
    from boxoffice.app import create_app

    settings = _settings()
    configure_logging(settings.log_level)
    return create_app(settings)


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="server processes")] = 1,
) -> None:
    """Serve the API, its docs and the web UI."""
    settings = _settings()
    if settings.is_sqlite:
        # The embedded default needs no separate set-up step.
        migrations.upgrade(settings)
    typer.echo(f"boxoffice: serving on http://{host}:{port} (API docs at /docs)")
    uvicorn.run(
        "boxoffice.cli:build_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        log_level=settings.log_level.lower(),
    )


@db_cli.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Migrate the database schema (to the newest revision by default)."""
    migrations.upgrade(_settings(), revision)
    typer.echo("boxoffice: database is up to date")


@cli.command("create-admin")
def create_admin(
    email: Annotated[str, typer.Option(help="the admin's e-mail address")],
    password: Annotated[str, typer.Option(help="at least 8 characters")],
    full_name: Annotated[str, typer.Option(help="shown in the audit log")] = "Administrator",
) -> None:
    """Create an admin account: the only way to the first one."""
    if len(password) < 8:
        typer.echo("boxoffice: the password needs at least 8 characters", err=True)
        raise typer.Exit(2)
    try:
        user_id = asyncio.run(_create_admin(_settings(), email, password, full_name))
    except DomainError as error:
        typer.echo(f"boxoffice: {error.detail}", err=True)
        raise typer.Exit(1) from error
    typer.echo(f"boxoffice: admin {email} created (user id {user_id})")


async def _create_admin(settings: Settings, email: str, password: str, full_name: str) -> int:
    engine = create_engine(settings)
    try:
        async with transaction(create_sessionmaker(engine)) as session:
            admin = await auth_service.register(
                session, email=email, password=password, full_name=full_name, role=Role.ADMIN
            )
            await record(
                session,
                actor_id=None,
                action=AuditAction.ADMIN_CREATED,
                target_type=TargetType.USER,
                target_id=admin.id,
                via="cli",
            )
            return admin.id
    finally:
        await engine.dispose()


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
