"""The seat ledger on its own, on every engine: the guards it keeps even when a caller's earlier
read has gone stale, which only a race reaches through the API."""

from datetime import timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.bookings import seats
from boxoffice.bookings.claims import Claim
from boxoffice.bookings.models import Booking, BookingStatus
from boxoffice.db import utcnow
from boxoffice.events.models import Event, EventStatus
from boxoffice.notifications.models import Notification
from boxoffice.users.models import Role
from tests.factories import make_event, make_user
from tests.notifications.support import make_booking


async def stored(db: AsyncSession, event_id: int) -> Event:
    event = (
        await db.scalars(
            select(Event).where(Event.id == event_id).execution_options(populate_existing=True)
        )
    ).one()
    await db.commit()
    return event


@pytest.mark.parametrize(
    "change",
    [
        {"status": EventStatus.CANCELLED},
        {"status": EventStatus.DRAFT},
        {"deleted_at": utcnow()},
        {"starts_at": utcnow() - timedelta(minutes=1)},
    ],
    ids=["cancelled", "draft", "deleted", "started"],
)
async def test_seats_and_places_in_line_are_not_taken_for_an_event_that_is_not_bookable(
    db: AsyncSession, change: dict[str, object]
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=5)
    await db.execute(update(Event).where(Event.id == event.id).values(**change))
    await db.commit()

    version = event.catalogue_version
    took = await seats.take(db, event.id, Claim(1), version=version, now=utcnow()) is not None
    joined = await seats.join_waitlist(db, event.id, version=version, now=utcnow()) is not None
    await db.commit()

    assert (took, joined) == (False, False)
    after = await stored(db, event.id)
    assert (after.seats_booked, after.waitlist_count) == (0, 0)


async def test_the_event_is_read_as_committed_now_not_as_this_session_last_saw_it(
    app: FastAPI, db: AsyncSession
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=5)
    seen = (await db.scalars(select(Event).where(Event.id == event.id))).one()
    assert seen.seats_booked == 0  # this session now holds the event as it was
    async with app.state.sessionmaker() as other:
        await other.execute(update(Event).where(Event.id == event.id).values(seats_booked=3))
        await other.commit()

    current = await seats.current_event(db, event.id)
    assert current is not None
    current_seats = current.seats_booked
    locked = await seats.lock_event(db, event.id)
    assert locked is not None
    locked_seats = locked.seats_booked
    await db.rollback()

    assert (current_seats, locked_seats) == (3, 3)


async def test_a_change_answers_the_event_as_it_left_it_in_a_session_that_saw_it_before(
    db: AsyncSession,
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=5)
    seen = (await db.scalars(select(Event).where(Event.id == event.id))).one()
    assert (seen.seats_booked, seen.waitlist_count) == (0, 0)  # the session holds it as it was

    taken = await seats.take(db, event.id, Claim(2), version=event.catalogue_version, now=utcnow())
    seats_after_take = None if taken is None else taken.seats_booked
    joined = await seats.join_waitlist(db, event.id, version=event.catalogue_version, now=utcnow())
    line_after_join = None if joined is None else joined.waitlist_count
    await db.rollback()

    assert (seats_after_take, line_after_join) == (2, 1)


async def test_a_deleted_event_is_gone_for_the_ledger(db: AsyncSession) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER))
    await db.execute(update(Event).where(Event.id == event.id).values(deleted_at=utcnow()))
    await db.commit()

    assert await seats.current_event(db, event.id) is None
    assert await seats.lock_event(db, event.id) is None
    await db.rollback()


async def test_a_booking_cancelled_elsewhere_gives_nothing_back_twice(
    app: FastAPI, db: AsyncSession
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=5)
    booking = await make_booking(db, event)
    await db.execute(update(Event).where(Event.id == event.id).values(seats_booked=1))
    await db.commit()
    assert booking.status is BookingStatus.CONFIRMED  # what this session has seen
    async with app.state.sessionmaker() as other:
        await seats.lock_event(other, event.id)
        assert await seats.release(other, booking.id) is not None
        await other.commit()

    await seats.lock_event(db, event.id)
    released_again = await seats.release(db, booking.id)
    await db.commit()

    assert released_again is None
    assert (await stored(db, event.id)).seats_booked == 0


async def test_nobody_is_promoted_once_the_event_has_started(db: AsyncSession) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=2)
    waiting = await make_booking(db, event, status=BookingStatus.WAITLISTED)
    await db.execute(
        update(Event)
        .where(Event.id == event.id)
        .values(waitlist_count=1, starts_at=utcnow() - timedelta(minutes=1))
    )
    await db.commit()

    await seats.lock_event(db, event.id)
    promoted = (await seats.serve_waitlist(db, event.id)).promoted
    await db.commit()

    assert promoted == []
    still = (await db.scalars(select(Booking).where(Booking.id == waiting.id))).one()
    assert still.status is BookingStatus.WAITLISTED


@pytest.mark.engines("postgresql", "mariadb")
async def test_locking_an_event_locks_that_event_and_no_other(
    app: FastAPI, db: AsyncSession
) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER)
    locked, free = (await make_event(db, organizer)).id, (await make_event(db, organizer)).id
    # Ask for the row without waiting: refused while another transaction holds it.
    nowait = "FOR UPDATE NOWAIT"

    await seats.lock_event(db, locked)
    try:
        async with app.state.sessionmaker() as other:
            await other.execute(text(f"SELECT id FROM events WHERE id = {free} {nowait}"))
            with pytest.raises(DBAPIError):
                await other.execute(text(f"SELECT id FROM events WHERE id = {locked} {nowait}"))
            await other.rollback()
    finally:
        await db.rollback()


async def test_the_ledger_says_what_it_changed_and_writes_no_message(db: AsyncSession) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=2)
    holder = await make_booking(db, event, seats=2)
    waiting = await make_booking(db, event, status=BookingStatus.WAITLISTED, seats=2)
    await db.execute(
        update(Event).where(Event.id == event.id).values(seats_booked=2, waitlist_count=1)
    )
    await db.commit()

    await seats.lock_event(db, event.id)
    released = await seats.release(db, holder.id)
    released_id = None if released is None else released.id
    promoted = (await seats.serve_waitlist(db, event.id)).promoted
    written = (await db.scalars(select(Notification.id))).all()
    await db.commit()

    assert released_id == holder.id
    assert promoted == [waiting.id]
    assert written == []
