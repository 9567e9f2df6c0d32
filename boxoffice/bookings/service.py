"""Booking rules. Seats change only in conditional UPDATEs of the event row, under its row lock.

Every change to an event's seats or waiting list first takes that event's row lock (the
conditional UPDATE itself, or `_lock_event`), and only then touches bookings. A user's row is
locked before any event's (`users.service.hold_active`, or the UPDATE a ban starts with), and a
user's sessions after both. One lock order everywhere means no deadlocks
between booking, cancelling, banning and serving the waiting list, and whatever a transaction
reads after taking the lock is the truth.
"""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.admin.audit import AuditAction, TargetType, record
from boxoffice.bookings import repository
from boxoffice.bookings.models import ACTIVE_STATUSES, Booking, BookingStatus
from boxoffice.bookings.tickets import new_ticket_code, normalize
from boxoffice.db import count_of, lock_rows, utcnow
from boxoffice.errors import Conflict, Forbidden, NotFound
from boxoffice.events import service as events_service
from boxoffice.events.models import Event, EventStatus
from boxoffice.schemas import PageParams
from boxoffice.users import service as users_service
from boxoffice.users.models import Role, User


class SoldOut(Conflict):
    code = "sold_out"


class AlreadyBooked(Conflict):
    code = "already_booked"


class EventNotBookable(Conflict):
    code = "event_not_bookable"


class EventStarted(Conflict):
    code = "event_started"


class AlreadyCheckedIn(Conflict):
    code = "already_checked_in"


class BookingNotConfirmed(Conflict):
    code = "booking_not_confirmed"


def _bookable(event: Event, now: datetime) -> bool:
    return (
        event.status is EventStatus.PUBLISHED and event.deleted_at is None and event.starts_at > now
    )


def _not_bookable(event: Event) -> EventNotBookable:
    if event.status is EventStatus.CANCELLED:
        return EventNotBookable("this event has been cancelled")
    return EventNotBookable("this event has already started")


async def book(
    session: AsyncSession, attendee: User, *, event_id: int, seats: int, join_waitlist: bool
) -> Booking:
    event = await events_service.get_visible(session, event_id, attendee)
    now = utcnow()
    if not _bookable(event, now):
        raise _not_bookable(event)
    # Only for a precise answer; the unique index is what makes "one active booking" true.
    if (await session.scalars(repository.active_of(attendee.id, event_id))).first() is not None:
        raise AlreadyBooked("you already have a booking for this event; cancel it to book again")

    # The account before the event, the lock order a ban follows too: a booking racing a ban of
    # its holder is either swept by the ban or refused.
    await users_service.hold_active(session, attendee.id)
    if await _take_seats(session, event_id, seats, now):
        status = BookingStatus.CONFIRMED
    elif join_waitlist:
        await _join_waitlist(session, event_id, now)
        status = BookingStatus.WAITLISTED
    else:
        raise await _sold_out(session, event_id, seats)

    booking = Booking(
        event_id=event_id,
        user_id=attendee.id,
        seats=seats,
        status=status,
        active=True,
        ticket_code=new_ticket_code(),
        created_at=now,
        event=event,
    )
    session.add(booking)
    try:
        await session.flush()
    except IntegrityError as error:
        # A concurrent request of the same attendee won the unique index; our seat change
        # rolls back with this transaction.
        raise AlreadyBooked("you already have a booking for this event") from error
    if status is BookingStatus.CONFIRMED:
        # Everything the answer shows is at hand: no need to read the booking back.
        return booking
    # Seats freed between our failed take and joining the line must not sit idle.
    await serve_waitlist(session, event_id)
    # Its place in line, or its promotion just now, is the database's to tell.
    return await get(session, booking.id)


async def _take_seats(session: AsyncSession, event_id: int, seats: int, now: datetime) -> bool:
    """The one statement that sells seats: it succeeds for all of them or changes nothing."""
    taken = await session.execute(
        events_service.update_row(event_id)
        .where(
            Event.status == EventStatus.PUBLISHED,
            Event.deleted_at.is_(None),
            Event.starts_at > now,
            # Nobody jumps the queue: while anyone waits, seats go to the waiting list first.
            Event.waitlist_count == 0,
            Event.seats_booked + seats <= Event.capacity,
        )
        .values(seats_booked=Event.seats_booked + seats)
    )
    return bool(taken.rowcount == 1)  # type: ignore[attr-defined]


async def _join_waitlist(session: AsyncSession, event_id: int, now: datetime) -> None:
    joined = await session.execute(
        events_service.update_row(event_id)
        .where(
            Event.status == EventStatus.PUBLISHED,
            Event.deleted_at.is_(None),
            Event.starts_at > now,
        )
        .values(waitlist_count=Event.waitlist_count + 1)
    )
    if joined.rowcount != 1:  # type: ignore[attr-defined]
        raise _not_bookable(await _event(session, event_id))


async def _sold_out(session: AsyncSession, event_id: int, seats: int) -> Conflict:
    event = await _event(session, event_id)
    if not _bookable(event, utcnow()):
        return _not_bookable(event)
    if event.waitlist_count:
        return SoldOut(
            f"{event.waitlist_count} bookings are waiting for seats; send join_waitlist=true "
            "to wait in line",
            seats_available=event.seats_available,
        )
    return SoldOut(
        f"only {event.seats_available} seats left, {seats} asked; send join_waitlist=true "
        "to wait in line",
        seats_available=event.seats_available,
    )


async def _event(session: AsyncSession, event_id: int) -> Event:
    found = await session.scalars(
        select(Event).where(Event.id == event_id).execution_options(populate_existing=True)
    )
    return found.one()


async def _lock_event(session: AsyncSession, event_id: int) -> None:
    await lock_rows(session, Event.seats_booked, Event.id == event_id)


async def serve_waitlist(session: AsyncSession, event_id: int) -> list[int]:
    """Confirms waitlisted bookings, oldest first, while their seats fit; the ids promoted.

    The caller holds the event's row lock. When the oldest does not fit, nobody behind it
    jumps ahead.
    """
    event = await _event(session, event_id)
    if not _bookable(event, utcnow()) or event.waitlist_count == 0:
        return []
    free = event.seats_available
    promoted: list[int] = []
    promoted_seats = 0
    line = await session.execute(repository.waiting_line(event_id, limit=free))
    for booking_id, seats in line.all():
        if seats > free:
            break
        promoted.append(booking_id)
        promoted_seats += seats
        free -= seats
    if promoted:
        await session.execute(
            update(Booking)
            .where(Booking.id.in_(promoted), Booking.status == BookingStatus.WAITLISTED)
            .values(status=BookingStatus.CONFIRMED)
        )
        await session.execute(
            events_service.update_row(event_id).values(
                seats_booked=Event.seats_booked + promoted_seats,
                waitlist_count=Event.waitlist_count - len(promoted),
            )
        )
    return promoted


async def get(session: AsyncSession, booking_id: int) -> Booking:
    return (await session.scalars(repository.by_id(booking_id))).one()


async def get_visible(session: AsyncSession, booking_id: int, viewer: User) -> Booking:
    """Holder, the event's organizer and admins see a booking; for anyone else it does not exist."""
    booking = (await session.scalars(repository.by_id(booking_id))).one_or_none()
    if booking is None or not (
        viewer.role is Role.ADMIN
        or booking.user_id == viewer.id
        or booking.event.organizer_id == viewer.id
    ):
        raise NotFound(f"there is no booking {booking_id}")
    return booking


async def list_mine(
    session: AsyncSession,
    attendee: User,
    page: PageParams,
    *,
    status: BookingStatus | None,
    upcoming_only: bool,
) -> tuple[Sequence[Booking], int]:
    query = repository.of_user(attendee.id)
    if status is not None:
        query = query.where(Booking.status == status)
    if upcoming_only:
        query = query.join(Booking.event).where(Event.starts_at > utcnow())
    total = (await session.execute(count_of(query))).scalar_one()
    found = await session.scalars(query.limit(page.limit).offset(page.offset))
    return found.all(), total


async def recent_of_user(session: AsyncSession, user_id: int, limit: int) -> Sequence[Booking]:
    return (await session.scalars(repository.of_user(user_id).limit(limit))).all()


async def cancel(session: AsyncSession, booking_id: int, actor: User) -> Booking:
    booking = await get_visible(session, booking_id, actor)
    if actor.role is not Role.ADMIN and booking.user_id != actor.id:
        raise Forbidden("only the booking's holder or an admin may cancel it")
    if booking.status is BookingStatus.CANCELLED:
        return booking
    if booking.event.starts_at <= utcnow():
        raise EventStarted("the event has started; its bookings can no longer be cancelled")
    await _lock_event(session, booking.event_id)
    if await _cancel_locked(session, booking_id):
        await serve_waitlist(session, booking.event_id)
        if booking.user_id != actor.id:
            await record(
                session,
                actor_id=actor.id,
                action=AuditAction.BOOKING_CANCELLED_BY_ADMIN,
                target_type=TargetType.BOOKING,
                target_id=booking_id,
                event_id=booking.event_id,
                holder_id=booking.user_id,
            )
    return await get(session, booking_id)


async def _cancel_locked(session: AsyncSession, booking_id: int) -> bool:
    """Cancels one active booking and gives back what it held; False if it was not active."""
    booking = (
        await session.scalars(
            select(Booking)
            .where(Booking.id == booking_id)
            .execution_options(populate_existing=True)
        )
    ).one()
    if booking.status not in ACTIVE_STATUSES:
        return False
    held = booking.status
    await session.execute(
        update(Booking)
        .where(Booking.id == booking_id, Booking.status == held)
        .values(status=BookingStatus.CANCELLED, active=None, cancelled_at=utcnow())
    )
    released = (
        {"seats_booked": Event.seats_booked - booking.seats}
        if held is BookingStatus.CONFIRMED
        else {"waitlist_count": Event.waitlist_count - 1}
    )
    await session.execute(events_service.update_row(booking.event_id).values(**released))
    return True


async def cancel_all_for_event(session: AsyncSession, event_id: int) -> None:
    """Every active booking of a cancelled event ends; the event row is already locked."""
    await session.execute(
        update(Booking)
        .where(Booking.event_id == event_id, Booking.active.is_(True))
        .values(status=BookingStatus.CANCELLED, active=None, cancelled_at=utcnow())
    )
    await session.execute(
        events_service.update_row(event_id).values(seats_booked=0, waitlist_count=0)
    )


async def cancel_upcoming_of_user(session: AsyncSession, user_id: int) -> list[int]:
    """A banned user's bookings for events still to come; their seats go to the waiting lists."""
    upcoming = await session.execute(
        select(Booking.id, Booking.event_id)
        .join(Event, Event.id == Booking.event_id)
        .where(Booking.user_id == user_id, Booking.active.is_(True), Event.starts_at > utcnow())
        # Locks in event-id order, so two such sweeps cannot deadlock each other.
        .order_by(Booking.event_id)
    )
    cancelled: list[int] = []
    for booking_id, event_id in upcoming.all():
        await _lock_event(session, event_id)
        if await _cancel_locked(session, booking_id):
            await serve_waitlist(session, event_id)
            cancelled.append(booking_id)
    return cancelled


async def guest_list(
    session: AsyncSession, event: Event, status: BookingStatus | None, page: PageParams | None
) -> tuple[Sequence[tuple[Booking, User]], int]:
    statuses = (status,) if status is not None else ACTIVE_STATUSES
    query = repository.guests(event.id, statuses)
    total = (await session.execute(count_of(query))).scalar_one()
    if page is not None:
        query = query.limit(page.limit).offset(page.offset)
    rows = await session.execute(query)
    return [(booking, user) for booking, user in rows.all()], total


async def check_in(session: AsyncSession, event: Event, ticket_code: str) -> Booking:
    code = normalize(ticket_code)
    booking = (
        await session.scalars(
            select(Booking).where(Booking.event_id == event.id, Booking.ticket_code == code)
        )
    ).one_or_none()
    if booking is None:
        raise NotFound("no booking of this event has that ticket code")
    if booking.status is not BookingStatus.CONFIRMED:
        raise BookingNotConfirmed(f"this booking is {booking.status.value}, not confirmed")
    checked = await session.execute(
        update(Booking)
        .where(
            Booking.id == booking.id,
            Booking.status == BookingStatus.CONFIRMED,
            Booking.checked_in_at.is_(None),
        )
        .values(checked_in_at=utcnow())
    )
    if checked.rowcount != 1:  # type: ignore[attr-defined]
        raise AlreadyCheckedIn("this ticket has already been checked in")
    return await get(session, booking.id)
