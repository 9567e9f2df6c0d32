"""What the admin tests share: paths, signed-in callers, bookings made through the API."""

from datetime import timedelta

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.audit import AuditEntry
from boxoffice.bookings.models import Booking, BookingStatus
from boxoffice.bookings.tickets import new_ticket_code
from boxoffice.db import utcnow
from boxoffice.events.models import Event
from boxoffice.users.models import User
from tests.factories import Caller, make_event

ADMIN = "/api/v1/admin"
USERS = f"{ADMIN}/users"
STATS = f"{ADMIN}/stats"
AUDIT_LOG = f"{ADMIN}/audit-log"
BOOKINGS = "/api/v1/bookings"
EVENTS = "/api/v1/events"
ME = "/api/v1/users/me"


def user_path(user_id: int | str) -> str:
    return f"{USERS}/{user_id}"


async def book(
    client: httpx.AsyncClient,
    attendee: Caller,
    event_id: int,
    seats: int = 1,
    *,
    wait: bool = False,
) -> dict[str, object]:
    response = await client.post(
        BOOKINGS,
        headers=attendee.headers,
        json={"event_id": event_id, "seats": seats, "join_waitlist": wait},
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


async def past_booking(db: AsyncSession, holder: User, organizer: User, seats: int = 1) -> Booking:
    """A confirmed booking for an event that has already started (the API cannot make one)."""
    return await _stored_booking(db, holder, organizer, seats, starts_in=-timedelta(hours=1))


async def upcoming_booking(db: AsyncSession, holder: User, organizer: User) -> Booking:
    """A confirmed booking, made straight in the database: quicker than the API for many."""
    return await _stored_booking(db, holder, organizer, 1, starts_in=timedelta(days=7))


async def _stored_booking(
    db: AsyncSession, holder: User, organizer: User, seats: int, *, starts_in: timedelta
) -> Booking:
    event = await make_event(db, organizer, capacity=10, starts_in=starts_in)
    await db.execute(update(Event).where(Event.id == event.id).values(seats_booked=seats))
    booking = Booking(
        event_id=event.id,
        user_id=holder.id,
        seats=seats,
        status=BookingStatus.CONFIRMED,
        active=True,
        ticket_code=new_ticket_code(),
    )
    db.add(booking)
    await db.commit()
    return booking


async def stored_user(db: AsyncSession, user_id: int) -> User:
    return (
        await db.scalars(
            select(User).where(User.id == user_id).execution_options(populate_existing=True)
        )
    ).one()


async def stored_booking(db: AsyncSession, booking_id: object) -> Booking:
    return (
        await db.scalars(
            select(Booking)
            .where(Booking.id == booking_id)
            .execution_options(populate_existing=True)
        )
    ).one()


def event_body(**overrides: object) -> dict[str, object]:
    """A valid POST /events body: a two-hour event a week from now."""
    starts_at = utcnow() + timedelta(days=7)
    return {
        "title": "Jazz Night",
        "location": "Blue Room",
        "starts_at": starts_at.isoformat(),
        "ends_at": (starts_at + timedelta(hours=2)).isoformat(),
        "capacity": 50,
        **overrides,
    }


async def audit_entries(db: AsyncSession) -> list[AuditEntry]:
    return list((await db.scalars(select(AuditEntry).order_by(AuditEntry.id))).all())
