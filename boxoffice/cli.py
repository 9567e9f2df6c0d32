"""The `boxoffice` command: serve, worker, db upgrade, create-admin, demo."""

import asyncio
import os
import signal
import sys
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Annotated, TypeVar

import typer
import uvicorn
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice import demo as demo_data
from boxoffice import migrations
from boxoffice.admin import service as admin_service
from boxoffice.auth.schemas import RegisterRequest
from boxoffice.db import create_engine, create_sessionmaker, transaction
from boxoffice.errors import DomainError
from boxoffice.metrics import MULTIPROC_DIR_VARIABLE
from boxoffice.notifications.worker import Worker
from boxoffice.observability import configure_logging
from boxoffice.payments import sweeper
from boxoffice.payments.registry import providers_for
from boxoffice.settings import Environment, Settings
from boxoffice.webhooks.delivery import Deliverer

T = TypeVar("T")

# httptools parses faster than h11 (docs/benchmarks.md); uvicorn's own protocol would leave
# Nagle's algorithm on with --workers (boxoffice/server.py). The loop is uvloop where installed.
HTTP_PROTOCOL = "boxoffice.server:NoDelayHttpToolsProtocol"

cli = typer.Typer(
    help="boxoffice: events with limited seats, booked exactly.", no_args_is_help=True
)
db_cli = typer.Typer(help="Database schema.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")

# A worker that has not answered the supervisor's health check in this time is killed and
# replaced. uvicorn's default, 5 s, was too short: on a busy host importing the app alone can
# take longer, and workers were replaced in a loop.
WORKER_HEALTHCHECK_SECONDS = 30


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
    """Serve the web UI, the API and its docs."""
    settings = _settings()
    if settings.is_sqlite:
        # The embedded default needs no separate set-up step.
        migrations.upgrade(settings)
    typer.echo(f"boxoffice: serving on http://{host}:{port} (web UI at /, API docs at /docs)")
    with _metrics_shared_by(workers):
        uvicorn.run(
            "boxoffice.cli:build_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            access_log=False,
            log_level=settings.log_level.lower(),
            # The app decides which peers' X-Forwarded-For to believe
            # (BOXOFFICE_FORWARDED_ALLOW_IPS); uvicorn's own default would trust 127.0.0.1.
            proxy_headers=False,
            http=HTTP_PROTOCOL,
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
            # On SIGTERM: stop accepting, answer every request already accepted, then exit.
            timeout_graceful_shutdown=settings.shutdown_grace_seconds,
        )


@contextmanager
def _metrics_shared_by(workers: int) -> Iterator[None]:
    """Worker processes write their metrics to files in one fresh directory, so that a scrape of
    any of them counts them all (and a replaced worker's counts stay). Workers are spawned, so
    they see the variable before they load prometheus-client. One process needs no directory;
    one given by the operator is used as it is."""
    if workers == 1 or os.environ.get(MULTIPROC_DIR_VARIABLE):
        yield
        return
    with tempfile.TemporaryDirectory(prefix="boxoffice-metrics-") as directory:
        os.environ[MULTIPROC_DIR_VARIABLE] = directory
        try:
            yield
        finally:
            del os.environ[MULTIPROC_DIR_VARIABLE]


@cli.command()
def worker() -> None:
    """Send the notifications, end holds past their end, send refunds (and prune old rows)
    until SIGTERM or Ctrl-C."""
    settings = _settings()
    configure_logging(settings.log_level)
    if settings.is_sqlite:
        migrations.upgrade(settings)
    asyncio.run(_work(settings))


async def _work(settings: Settings) -> None:
    engine = create_engine(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for stopping in (signal.SIGTERM, signal.SIGINT):
        # The batch under way is sent and recorded; then the worker ends.
        loop.add_signal_handler(stopping, stop.set)
    sessionmaker = create_sessionmaker(engine, settings)
    deliverer = Deliverer(settings, sessionmaker)
    try:
        await asyncio.gather(
            Worker(settings, sessionmaker).run(stop),
            sweeper.run(settings, sessionmaker, providers_for(settings), stop),
            deliverer.run(stop),
        )
    finally:
        await deliverer.aclose()
        await engine.dispose()


@db_cli.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Migrate the database schema (to the newest revision by default)."""
    migrations.upgrade(_settings(), revision)
    typer.echo("boxoffice: database is up to date")


@cli.command("create-admin")
def create_admin(
    email: Annotated[str, typer.Option(help="the admin's e-mail address")],
    password: Annotated[
        str | None,
        typer.Option(help="at least 8 characters; left out, it is asked for (not echoed)"),
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option(help="read the password from the first line of standard input")
    ] = False,
    full_name: Annotated[str, typer.Option(help="shown in the audit log")] = "Administrator",
) -> None:
    """Create an admin account: the only way to the first one."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif password is None:
        # Kept out of the shell history and the process list.
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        # The rules of registration through the API, so that the CLI cannot store what it refuses.
        account = RegisterRequest(email=email, password=password, full_name=full_name)
    except ValidationError as error:
        for problem in error.errors():
            typer.echo(f"boxoffice: {problem['loc'][0]}: {problem['msg']}", err=True)
        raise typer.Exit(2) from error
    try:
        work = partial(
            admin_service.create_admin,
            email=account.email,
            password=account.password,
            full_name=account.full_name,
        )
        user_id = asyncio.run(_in_transaction(_settings(), work))
    except DomainError as error:
        typer.echo(f"boxoffice: {error.detail}", err=True)
        raise typer.Exit(1) from error
    typer.echo(f"boxoffice: admin {email} created (user id {user_id})")


async def _in_transaction(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Runs one unit of command-line work in a transaction of its own, then closes the engine."""
    engine = create_engine(settings)
    try:
        async with transaction(create_sessionmaker(engine, settings)) as session:
            return await work(session)
    finally:
        await engine.dispose()


@cli.command()
def demo() -> None:
    """Fill the database with sample organizers, attendees and published events."""
    settings = _settings()
    if settings.env is Environment.PRODUCTION:
        # The demo accounts share one published password: anyone could log in as them.
        typer.echo(
            "boxoffice: refusing to run: demo creates accounts with a known password, "
            "and BOXOFFICE_ENV is production",
            err=True,
        )
        raise typer.Exit(2)
    if settings.is_sqlite:
        migrations.upgrade(settings)
    organizers, attendees = demo_data.DEMO_ORGANIZERS, demo_data.DEMO_ATTENDEES
    if asyncio.run(_in_transaction(settings, demo_data.seed)):
        typer.echo(
            f"boxoffice: demo data created: {len(organizers)} organizers, "
            f"{len(attendees)} attendees, {len(demo_data.DEMO_EVENTS)} published events"
        )
    else:
        typer.echo(f"boxoffice: {organizers[0][0]} already exists, so the demo data is there")
    typer.echo(f"Demo accounts (password for each: {demo_data.DEMO_PASSWORD}):")
    for role, accounts in (("organizer", organizers), ("attendee", attendees)):
        for email, full_name in accounts:
            typer.echo(f"  {role:<9}  {email:<28}  {full_name}")


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
