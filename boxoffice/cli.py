"""The `boxoffice` command: serve, db upgrade, create-admin, demo."""

import asyncio
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
import uvicorn
from fastapi import FastAPI
from pydantic import ValidationError

from boxoffice import migrations
from boxoffice.admin.audit import AuditAction, TargetType, record
from boxoffice.auth import service as auth_service
from boxoffice.db import create_engine, create_sessionmaker, transaction, utcnow
from boxoffice.errors import DomainError
from boxoffice.events import service as events_service
from boxoffice.events.schemas import EventCreate
from boxoffice.observability import configure_logging
from boxoffice.settings import Settings
from boxoffice.users import service as users_service
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


@dataclass(frozen=True)
class _DemoEvent:
    title: str
    description: str
    location: str
    timezone: str
    in_days: int
    local_start: time
    hours: float
    capacity: int
    organizer: int


DEMO_PASSWORD = "demo-password"
DEMO_ORGANIZERS = (
    ("olga.organizer@example.com", "Olga Organizer"),
    ("omar.organizer@example.com", "Omar Organizer"),
)
DEMO_ATTENDEES = (
    ("ada.attendee@example.com", "Ada Attendee"),
    ("ben.attendee@example.com", "Ben Attendee"),
    ("chloe.attendee@example.com", "Chloé Attendee"),
)
DEMO_EVENTS = (
    _DemoEvent(
        title="Jazz Night at the Blue Room",
        description="A quartet plays standards and a few originals. Doors open half an hour early.",
        location="Blue Room, Oranienstraße 12, Berlin",
        timezone="Europe/Berlin",
        in_days=3,
        local_start=time(20, 0),
        hours=2.5,
        capacity=80,
        organizer=0,
    ),
    _DemoEvent(
        title="Sourdough from Scratch",
        description="Hands-on baking class: starter, shaping and scoring. Take your loaf home.",
        location="Bakehouse Studio, Rua das Flores 28, Lisbon",
        timezone="Europe/Lisbon",
        in_days=6,
        local_start=time(10, 0),
        hours=3,
        capacity=12,
        organizer=1,
    ),
    _DemoEvent(
        title="City Marathon Expo",
        description="Pick up your bib, meet the pacers and try the latest running shoes.",
        location="Javits Center, New York",
        timezone="America/New_York",
        in_days=10,
        local_start=time(9, 0),
        hours=8,
        capacity=2000,
        organizer=0,
    ),
    _DemoEvent(
        title="Python Meetup: Async in Practice",
        description="Three short talks on asyncio, databases and testing, then pizza.",
        location="Tech Hub, MG Road, Bengaluru",
        timezone="Asia/Kolkata",
        in_days=14,
        local_start=time(18, 30),
        hours=2,
        capacity=60,
        organizer=1,
    ),
    _DemoEvent(
        title="Open-Air Cinema: Classics Under the Stars",
        description="Bring a blanket; the film starts at sunset.",
        location="Harbour Park, Sydney",
        timezone="Australia/Sydney",
        in_days=17,
        local_start=time(19, 45),
        hours=3,
        capacity=300,
        organizer=0,
    ),
    _DemoEvent(
        title="Chamber Music Matinee",
        description="Schubert and Brahms, played by the house string quartet.",
        location="Konzerthaus, Vienna",
        timezone="Europe/Vienna",
        in_days=21,
        local_start=time(15, 0),
        hours=1.5,
        capacity=150,
        organizer=1,
    ),
    _DemoEvent(
        title="Startup Pitch Night",
        description="Ten founders, five minutes each, one audience vote.",
        location="Innovation Loft, Avenida Paulista 1000, São Paulo",
        timezone="America/Sao_Paulo",
        in_days=28,
        local_start=time(19, 0),
        hours=3,
        capacity=120,
        organizer=0,
    ),
    _DemoEvent(
        title="Tea Ceremony Workshop",
        description="An introduction to chanoyu in a small group; no experience needed.",
        location="Kyoto Culture Center, Kyoto",
        timezone="Asia/Tokyo",
        in_days=35,
        local_start=time(14, 0),
        hours=2,
        capacity=8,
        organizer=1,
    ),
)


@cli.command()
def demo() -> None:
    """Fill the database with sample organizers, attendees and published events."""
    settings = _settings()
    if settings.is_sqlite:
        migrations.upgrade(settings)
    if asyncio.run(_demo(settings)):
        typer.echo(
            f"boxoffice: demo data created: {len(DEMO_ORGANIZERS)} organizers, "
            f"{len(DEMO_ATTENDEES)} attendees, {len(DEMO_EVENTS)} published events"
        )
    else:
        typer.echo(
            f"boxoffice: {DEMO_ORGANIZERS[0][0]} already exists, so the demo data is there; "
            "nothing added"
        )
    typer.echo(f"Demo accounts (password for each: {DEMO_PASSWORD}):")
    for role, accounts in (("organizer", DEMO_ORGANIZERS), ("attendee", DEMO_ATTENDEES)):
        for email, full_name in accounts:
            typer.echo(f"  {role:<9}  {email:<28}  {full_name}")


async def _demo(settings: Settings) -> bool:
    """Creates the demo data in one transaction; False if it is already there."""
    engine = create_engine(settings)
    try:
        async with transaction(create_sessionmaker(engine)) as session:
            if await users_service.find_by_email(session, DEMO_ORGANIZERS[0][0]) is not None:
                return False
            organizers = [
                await auth_service.register(
                    session,
                    email=email,
                    password=DEMO_PASSWORD,
                    full_name=full_name,
                    role=Role.ORGANIZER,
                )
                for email, full_name in DEMO_ORGANIZERS
            ]
            for email, full_name in DEMO_ATTENDEES:
                await auth_service.register(
                    session,
                    email=email,
                    password=DEMO_PASSWORD,
                    full_name=full_name,
                    role=Role.ATTENDEE,
                )
            today = utcnow().date()
            for sample in DEMO_EVENTS:
                day = today + timedelta(days=sample.in_days)
                starts_at = datetime.combine(day, sample.local_start, ZoneInfo(sample.timezone))
                event = await events_service.create(
                    session,
                    organizers[sample.organizer],
                    EventCreate(
                        title=sample.title,
                        description=sample.description,
                        location=sample.location,
                        timezone=sample.timezone,
                        starts_at=starts_at,
                        ends_at=starts_at + timedelta(hours=sample.hours),
                        capacity=sample.capacity,
                    ),
                )
                await events_service.publish(session, event)
            return True
    finally:
        await engine.dispose()


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
