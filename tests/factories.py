"""Arrange test data directly in the database; act through HTTP."""

import itertools
from datetime import timedelta
from typing import NamedTuple

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.auth import passwords
from boxoffice.auth import service as auth_service
from boxoffice.catalogue.models import Quota, TicketType, general_admission, quota_ticket_types
from boxoffice.db import utcnow
from boxoffice.door.models import MAIN_ENTRANCE, CheckInList
from boxoffice.events.models import Event, EventStatus
from boxoffice.settings import Settings
from boxoffice.users.models import Role, User

PASSWORD = "correct horse battery"
_sequence = itertools.count(1)


_hashes: dict[str, str] = {}


async def _password_hash() -> str:
    # Hashed once: argon2 at production cost for hundreds of factory users would dominate the run.
    if PASSWORD not in _hashes:
        _hashes[PASSWORD] = await passwords.hash_password(PASSWORD)
    return _hashes[PASSWORD]


async def make_user(
    db: AsyncSession,
    *,
    role: Role = Role.ATTENDEE,
    email: str | None = None,
    full_name: str | None = None,
    is_active: bool = True,
    # Verified unless a test says otherwise: an unverified address is sent nothing but its
    # verification (SPEC §13), and most tests are about what people are sent.
    email_verified: bool = True,
) -> User:
    number = next(_sequence)
    user = User(
        email=email or f"user{number}@example.com",
        full_name=full_name or f"User {number}",
        password_hash=await _password_hash(),
        role=role,
        is_active=is_active,
        email_verified=email_verified,
    )
    db.add(user)
    await db.commit()
    return user


async def make_event(
    db: AsyncSession,
    organizer: User,
    *,
    capacity: int = 10,
    status: EventStatus = EventStatus.PUBLISHED,
    starts_in: timedelta = timedelta(days=7),
    title: str | None = None,
    location: str = "Main Hall",
    description: str = "",
    timezone: str = "UTC",
    currency: str = "EUR",
) -> Event:
    """An event with the one ticket type every event made without types gets ("General
    admission", free) and its Main entrance, as `events.service.create` makes it."""
    starts_at = utcnow() + starts_in
    event = Event(
        organizer_id=organizer.id,
        title=title or f"Event {next(_sequence)}",
        description=description,
        location=location,
        timezone=timezone,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=2),
        capacity=capacity,
        seats_booked=0,
        waitlist_count=0,
        ticket_types=[general_admission()],
        status=status,
        currency=currency,
    )
    db.add(event)
    await db.flush()
    db.add(CheckInList(event_id=event.id, name=MAIN_ENTRANCE, allow_reentry=True))
    await db.commit()
    return event


async def make_ticket_type(db: AsyncSession, event: Event, **fields: object) -> TicketType:
    """A ticket type of the event, after its others unless `position` says otherwise; `fields`
    are TicketType's columns (`price_minor=1250`, `hidden=True`, ...)."""
    values: dict[str, object] = {"name": f"Type {next(_sequence)}", "position": 100} | fields
    ticket_type = TicketType(event_id=event.id, **values)
    db.add(ticket_type)
    await db.commit()
    return ticket_type


async def first_ticket_type(db: AsyncSession, event: Event) -> TicketType:
    """The type `make_event` gave the event."""
    found = await db.scalars(
        select(TicketType).where(TicketType.event_id == event.id).order_by(TicketType.id).limit(1)
    )
    ticket_type = found.one()
    await db.commit()
    return ticket_type


async def make_quota(
    db: AsyncSession, event: Event, size: int, ticket_types: list[TicketType], **fields: object
) -> Quota:
    """A quota of the event over these types, its `seats_taken` as given (default 0): arrange
    the bookings that hold those seats apart, or call `seats.recount_quota`."""
    quota = Quota(event_id=event.id, name=f"Quota {next(_sequence)}", size=size, **fields)
    db.add(quota)
    await db.flush()
    if ticket_types:
        await db.execute(
            insert(quota_ticket_types),
            [{"quota_id": quota.id, "ticket_type_id": t.id} for t in ticket_types],
        )
    await db.commit()
    return quota


async def auth_headers(db: AsyncSession, settings: Settings, user: User) -> dict[str, str]:
    """Headers of a freshly logged-in session, without paying for a password check."""
    pair = await auth_service.start_session(db, settings, user)
    await db.commit()
    return {"Authorization": f"Bearer {pair.access_token}"}


class Caller(NamedTuple):
    """A signed-in user and the headers of their session: `caller.headers`, or unpacked as
    `user, headers = await signed_in(...)`."""

    user: User
    headers: dict[str, str]

    @property
    def id(self) -> int:
        return self.user.id


async def signed_in(
    db: AsyncSession,
    settings: Settings,
    role: Role,
    *,
    email: str | None = None,
    full_name: str | None = None,
) -> Caller:
    """A new user of this role with a live session, as every test signs people in."""
    user = await make_user(db, role=role, email=email, full_name=full_name)
    return Caller(user, await auth_headers(db, settings, user))


async def make_attendees(db: AsyncSession, settings: Settings, count: int) -> list[Caller]:
    """Many logged-in attendees in one transaction, for rushes."""
    users = [
        User(
            email=f"user{next(_sequence)}@example.com",
            full_name="Rush Attendee",
            password_hash=await _password_hash(),
            role=Role.ATTENDEE,
            is_active=True,
            email_verified=True,
        )
        for _ in range(count)
    ]
    db.add_all(users)
    await db.flush()
    pairs = [await auth_service.start_session(db, settings, user) for user in users]
    await db.commit()
    return [
        Caller(user, {"Authorization": f"Bearer {pair.access_token}"})
        for user, pair in zip(users, pairs, strict=True)
    ]


async def make_attendees_with_headers(
    db: AsyncSession, settings: Settings, count: int
) -> list[dict[str, str]]:
    """Many logged-in attendees in one transaction, for rushes: their headers."""
    return [caller.headers for caller in await make_attendees(db, settings, count)]
