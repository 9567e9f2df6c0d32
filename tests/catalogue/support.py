"""What the catalogue tests share: paths, request bodies, and bookings arranged in the database
with their tickets, as the booking path leaves them."""

from collections.abc import Sequence
from typing import TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.bookings.models import Booking, BookingStatus, Ticket
from boxoffice.bookings.tickets import new_ticket_code
from boxoffice.catalogue.models import Quota, TicketType, quota_ticket_types
from boxoffice.db import utcnow
from boxoffice.events.models import Event
from boxoffice.notifications.models import Notification, NotificationKind
from boxoffice.users.models import User

EVENTS = "/api/v1/events"


def types_path(event_id: int, type_id: int | None = None) -> str:
    return f"{EVENTS}/{event_id}/ticket-types" + ("" if type_id is None else f"/{type_id}")


def quotas_path(event_id: int, quota_id: int | None = None) -> str:
    return f"{EVENTS}/{event_id}/quotas" + ("" if quota_id is None else f"/{quota_id}")


def new_type(**overrides: object) -> dict[str, object]:
    return {"name": "Adult", "price": "12.50", **overrides}


async def book(
    db: AsyncSession,
    event: Event,
    holder: User,
    tickets: Sequence[tuple[TicketType, int]],
    *,
    status: BookingStatus = BookingStatus.CONFIRMED,
) -> Booking:
    """A booking with one ticket per seat, counted where the ledger counts it: confirmed seats
    in the event's `seats_booked` and each quota's `seats_taken`, a waitlisted booking in
    `waitlist_count`."""
    seats = sum(quantity for _, quantity in tickets)
    cancelled = status is BookingStatus.CANCELLED
    booking = Booking(
        event_id=event.id,
        user_id=holder.id,
        seats=seats,
        # `active` is NULL only once cancelled, which an INSERT would fill with its default.
        status=BookingStatus.CONFIRMED if cancelled else status,
        ticket_code=new_ticket_code(),
    )
    db.add(booking)
    await db.flush()
    if cancelled:
        await db.execute(
            update(Booking)
            .where(Booking.id == booking.id)
            .values(status=status, active=None, cancelled_at=utcnow())
        )
    db.add_all(
        Ticket(
            booking_id=booking.id,
            ticket_type_id=ticket_type.id,
            code=new_ticket_code(),
            unit_price_minor=ticket_type.price_minor,
        )
        for ticket_type, quantity in tickets
        for _ in range(quantity)
    )
    if status is BookingStatus.CONFIRMED:
        await db.execute(
            update(Event)
            .where(Event.id == event.id)
            .values(seats_booked=Event.seats_booked + seats)
        )
        for ticket_type, quantity in tickets:
            in_quotas = select(quota_ticket_types.c.quota_id).where(
                quota_ticket_types.c.ticket_type_id == ticket_type.id
            )
            await db.execute(
                update(Quota)
                .where(Quota.id.in_(in_quotas))
                .values(seats_taken=Quota.seats_taken + quantity)
            )
    elif status is BookingStatus.WAITLISTED:
        await db.execute(
            update(Event)
            .where(Event.id == event.id)
            .values(waitlist_count=Event.waitlist_count + 1)
        )
    await db.commit()
    return booking


Stored = TypeVar("Stored", Event, TicketType, Quota)


async def stored(db: AsyncSession, model: type[Stored], id_: int) -> Stored | None:
    """The row as the database has it now; None once it is gone."""
    found = await db.get(model, id_, populate_existing=True)
    await db.commit()
    return found


async def catalogue_version(db: AsyncSession, event_id: int) -> int:
    version = await db.scalar(select(Event.catalogue_version).where(Event.id == event_id))
    await db.commit()
    assert version is not None
    return version


async def booking_status(db: AsyncSession, booking_id: int) -> BookingStatus:
    status = await db.scalar(select(Booking.status).where(Booking.id == booking_id))
    await db.commit()
    assert status is not None
    return status


async def promotions_told(
    db: AsyncSession, booking_id: int, kind: NotificationKind = NotificationKind.WAITLIST_PROMOTED
) -> int:
    """How often the booking's holder was told it left the line: promoted, or (`kind`)
    offered the seats."""
    told = await db.scalar(
        select(func.count(Notification.id)).where(
            Notification.booking_id == booking_id, Notification.kind == kind
        )
    )
    await db.commit()
    return int(told or 0)
