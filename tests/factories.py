"""Arrange test data directly in the database; act through HTTP."""

import itertools
from datetime import timedelta
from typing import NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.auth import passwords
from boxoffice.auth import service as auth_service
from boxoffice.catalogue.models import general_admission
from boxoffice.db import utcnow
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
) -> User:
    number = next(_sequence)
    user = User(
        email=email or f"user{number}@example.com",
        full_name=full_name or f"User {number}",
        password_hash=await _password_hash(),
        role=role,
        is_active=is_active,
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
) -> Event:
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
    )
    db.add(event)
    await db.commit()
    return event


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


async def make_attendees_with_headers(
    db: AsyncSession, settings: Settings, count: int
) -> list[dict[str, str]]:
    """Many logged-in attendees in one transaction, for rushes."""
    users = [
        User(
            email=f"user{next(_sequence)}@example.com",
            full_name="Rush Attendee",
            password_hash=await _password_hash(),
            role=Role.ATTENDEE,
            is_active=True,
        )
        for _ in range(count)
    ]
    db.add_all(users)
    await db.flush()
    pairs = [await auth_service.start_session(db, settings, user) for user in users]
    await db.commit()
    return [{"Authorization": f"Bearer {pair.access_token}"} for pair in pairs]
