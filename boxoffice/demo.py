"""Sample organizers, attendees and published events, so that a new install shows something."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.auth import service as auth_service
from boxoffice.db import utcnow
from boxoffice.events import service as events_service
from boxoffice.events.schemas import EventCreate
from boxoffice.users import service as users_service
from boxoffice.users.models import Role, User


@dataclass(frozen=True)
class DemoEvent:
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
    DemoEvent(
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
    DemoEvent(
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
    DemoEvent(
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
    DemoEvent(
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
    DemoEvent(
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
    DemoEvent(
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
    DemoEvent(
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
    DemoEvent(
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


async def seed(session: AsyncSession) -> bool:
    """Creates the demo data; False if it is already there."""
    if await users_service.find_by_email(session, DEMO_ORGANIZERS[0][0]) is not None:
        return False
    organizers = [
        await _account(session, email, full_name, Role.ORGANIZER)
        for email, full_name in DEMO_ORGANIZERS
    ]
    for email, full_name in DEMO_ATTENDEES:
        await _account(session, email, full_name, Role.ATTENDEE)
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


async def _account(session: AsyncSession, email: str, full_name: str, role: Role) -> User:
    return await auth_service.create_account(
        session, email=email, password=DEMO_PASSWORD, full_name=full_name, role=role, verified=True
    )
