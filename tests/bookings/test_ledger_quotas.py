"""The seat ledger with quotas, on its own, on every engine: a claim on several quotas is taken
whole or not at all, the waiting list is served in order while every quota has room, what a
booking held goes back to its quotas, and terms that changed refuse the sale."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.bookings import orders, seats
from boxoffice.bookings.models import Booking, BookingStatus, Ticket
from boxoffice.bookings.tickets import new_ticket_code
from boxoffice.catalogue import terms
from boxoffice.catalogue.models import Quota, TicketType
from boxoffice.db import utcnow
from boxoffice.events.models import Event
from boxoffice.users.models import Role
from tests.bookings.invariants import assert_quotas_exact
from tests.factories import make_event, make_quota, make_ticket_type, make_user


async def order(db: AsyncSession, event: Event, lines: dict[TicketType, int]) -> orders.Order:
    """The order for these lines, priced and claimed as a booking is."""
    current = await terms.load(db, event.id)
    assert current is not None
    wanted = [(kind.id, quantity) for kind, quantity in lines.items()]
    return orders.order(current, wanted, access_code=None, now=utcnow())


async def booked(
    db: AsyncSession, event: Event, lines: dict[TicketType, int], *, wait: bool = False
) -> int:
    """A booking of these lines that the ledger confirmed (or put in line), with its tickets,
    committed; its id."""
    asked = await order(db, event, lines)
    if wait:
        placed = await seats.join_waitlist(db, event.id, version=asked.version, now=utcnow())
    else:
        placed = await seats.take(db, event.id, asked.claim, version=asked.version, now=utcnow())
    assert placed is not None
    holder = await make_user(db)
    booking = Booking(
        event_id=event.id,
        user_id=holder.id,
        seats=asked.seats,
        status=BookingStatus.WAITLISTED if wait else BookingStatus.CONFIRMED,
        active=True,
        ticket_code=new_ticket_code(),
        created_at=utcnow(),
    )
    db.add(booking)
    await db.flush()
    db.add_all(
        Ticket(
            booking_id=booking.id,
            ticket_type_id=kind.id,
            code=new_ticket_code(),
            unit_price_minor=kind.price_minor,
        )
        for kind in asked.ticket_types()
    )
    await db.commit()
    return booking.id


async def counts(db: AsyncSession, event: Event, *quotas: Quota) -> tuple[int, ...]:
    """The event's seats_booked and waitlist_count, then each quota's seats_taken, as stored."""
    stored = (
        await db.execute(
            select(Event.seats_booked, Event.waitlist_count).where(Event.id == event.id)
        )
    ).one()
    taken = [
        (await db.scalars(select(Quota.seats_taken).where(Quota.id == quota.id))).one()
        for quota in quotas
    ]
    await db.commit()
    return (*stored, *taken)


async def status_of(db: AsyncSession, booking_id: int) -> BookingStatus:
    status = (await db.scalars(select(Booking.status).where(Booking.id == booking_id))).one()
    await db.commit()
    return status


async def test_a_claim_one_of_whose_quotas_is_short_takes_nothing(db: AsyncSession) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=10)
    adult = await make_ticket_type(db, event, name="Adult")
    child = await make_ticket_type(db, event, name="Child")
    adults = await make_quota(db, event, 5, [adult])
    children = await make_quota(db, event, 3, [child])
    await booked(db, event, {child: 2})
    assert await counts(db, event, adults, children) == (2, 0, 0, 2)

    short = await order(db, event, {adult: 2, child: 2})
    refused = await seats.take(db, event.id, short.claim, version=short.version, now=utcnow())
    await db.commit()

    assert refused is None
    assert await counts(db, event, adults, children) == (2, 0, 0, 2)
    fitting = await order(db, event, {adult: 2, child: 1})
    taken = await seats.take(db, event.id, fitting.claim, version=fitting.version, now=utcnow())
    seats_after = None if taken is None else taken.seats_booked
    await db.rollback()
    assert seats_after == 5


async def test_a_type_in_two_quotas_takes_from_both_or_from_neither(db: AsyncSession) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=10)
    friday = await make_ticket_type(db, event, name="Friday")
    weekend = await make_ticket_type(db, event, name="Weekend")
    fridays = await make_quota(db, event, 6, [friday, weekend])
    weekends = await make_quota(db, event, 3, [weekend])

    await booked(db, event, {weekend: 2, friday: 1})
    short = await order(db, event, {weekend: 2})
    refused = await seats.take(db, event.id, short.claim, version=short.version, now=utcnow())
    await db.commit()

    assert refused is None
    assert await counts(db, event, fridays, weekends) == (3, 0, 3, 2)
    await assert_quotas_exact(db, event.id)


async def test_the_line_stops_at_the_first_booking_a_quota_cannot_take(db: AsyncSession) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=10)
    student = await make_ticket_type(db, event, name="Student")
    adult = await make_ticket_type(db, event, name="Adult")
    students = await make_quota(db, event, 2, [student])
    holder = await booked(db, event, {student: 2})
    first = await booked(db, event, {student: 1}, wait=True)
    second = await booked(db, event, {student: 2}, wait=True)
    behind = await booked(db, event, {adult: 1}, wait=True)

    await seats.lock_event(db, event.id)
    nobody = (await seats.serve_waitlist(db, event.id)).promoted
    await db.commit()
    # The adult behind fits the event, and no quota of its own is full: it still waits.
    assert nobody == []
    assert await counts(db, event, students) == (2, 3, 2)

    await seats.lock_event(db, event.id)
    released = await seats.release(db, holder)
    promoted = (await seats.serve_waitlist(db, event.id)).promoted
    await db.commit()

    assert released is not None
    assert promoted == [first]
    assert await counts(db, event, students) == (1, 2, 1)
    assert (await status_of(db, second), await status_of(db, behind)) == (
        BookingStatus.WAITLISTED,
        BookingStatus.WAITLISTED,
    )
    await assert_quotas_exact(db, event.id)


async def test_the_line_stops_at_the_event_too_whatever_the_quotas_have(
    db: AsyncSession,
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=4)
    vip = await make_ticket_type(db, event, name="VIP")
    general = await make_ticket_type(db, event, name="General")
    vips = await make_quota(db, event, 4, [vip])
    holder = await booked(db, event, {general: 4})
    first = await booked(db, event, {vip: 1}, wait=True)
    big = await booked(db, event, {general: 3, vip: 1}, wait=True)
    small = await booked(db, event, {vip: 1}, wait=True)

    await seats.lock_event(db, event.id)
    await seats.release(db, holder)
    promoted = (await seats.serve_waitlist(db, event.id)).promoted
    await db.commit()

    assert promoted == [first]
    assert await counts(db, event, vips) == (1, 2, 1)
    assert (await status_of(db, big), await status_of(db, small)) == (
        BookingStatus.WAITLISTED,
        BookingStatus.WAITLISTED,
    )
    await assert_quotas_exact(db, event.id)


async def test_releasing_a_confirmed_booking_gives_each_of_its_quotas_back(
    db: AsyncSession,
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=10)
    friday = await make_ticket_type(db, event, name="Friday")
    weekend = await make_ticket_type(db, event, name="Weekend")
    fridays = await make_quota(db, event, 6, [friday, weekend])
    weekends = await make_quota(db, event, 3, [weekend])
    stays = await booked(db, event, {friday: 1})
    leaves = await booked(db, event, {weekend: 2, friday: 1})
    waits = await booked(db, event, {weekend: 2}, wait=True)
    assert await counts(db, event, fridays, weekends) == (4, 1, 4, 2)

    await seats.lock_event(db, event.id)
    left_line = await seats.release(db, waits)
    await db.commit()
    assert left_line is not None
    assert await counts(db, event, fridays, weekends) == (4, 0, 4, 2)

    await seats.lock_event(db, event.id)
    released = await seats.release(db, leaves)
    await db.commit()

    assert released is not None
    assert await counts(db, event, fridays, weekends) == (1, 0, 1, 0)
    assert await status_of(db, stays) is BookingStatus.CONFIRMED
    await assert_quotas_exact(db, event.id)


async def test_releasing_every_booking_empties_every_quota(db: AsyncSession) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=6)
    friday = await make_ticket_type(db, event, name="Friday")
    weekend = await make_ticket_type(db, event, name="Weekend")
    fridays = await make_quota(db, event, 6, [friday, weekend])
    weekends = await make_quota(db, event, 3, [weekend])
    ids = [
        await booked(db, event, {weekend: 3, friday: 1}),
        await booked(db, event, {friday: 2}),
        await booked(db, event, {weekend: 1}, wait=True),
    ]

    await seats.lock_event(db, event.id)
    await seats.release_all(db, event.id)
    await db.commit()

    assert await counts(db, event, fridays, weekends) == (0, 0, 0, 0)
    assert [await status_of(db, booking_id) for booking_id in ids] == [BookingStatus.CANCELLED] * 3
    await assert_quotas_exact(db, event.id)


async def test_terms_that_changed_since_the_booking_was_priced_take_nothing(
    db: AsyncSession,
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=10)
    adult = await make_ticket_type(db, event, name="Adult")
    adults = await make_quota(db, event, 5, [adult])
    stale = await order(db, event, {adult: 2})
    await seats.lock_event(db, event.id)
    await seats.catalogue_changed(db, event.id)
    await db.commit()

    took = await seats.take(db, event.id, stale.claim, version=stale.version, now=utcnow())
    joined = await seats.join_waitlist(db, event.id, version=stale.version, now=utcnow())
    await db.commit()

    assert (took, joined) == (None, None)
    assert await counts(db, event, adults) == (0, 0, 0)
    fresh = await order(db, event, {adult: 2})
    assert fresh.version != stale.version
    taken = await seats.take(db, event.id, fresh.claim, version=fresh.version, now=utcnow())
    await db.rollback()
    assert taken is not None


async def test_every_booking_the_line_serves_is_counted_in_each_of_its_quotas(
    db: AsyncSession,
) -> None:
    """Two waiting bookings on one quota, both promoted at once: the quota counts both (the
    claims of a promotion add up), and the room left after the first decides the second."""
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=10)
    student = await make_ticket_type(db, event, name="Student")
    students = await make_quota(db, event, 5, [student])
    holder = await booked(db, event, {student: 5})
    first = await booked(db, event, {student: 2}, wait=True)
    second = await booked(db, event, {student: 3}, wait=True)

    await seats.lock_event(db, event.id)
    await seats.release(db, holder)
    promoted = (await seats.serve_waitlist(db, event.id)).promoted
    await db.commit()

    assert promoted == [first, second]
    assert await counts(db, event, students) == (5, 0, 5)
    await assert_quotas_exact(db, event.id)


async def test_a_quota_recounted_over_types_nobody_booked_has_nothing_taken(
    db: AsyncSession,
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=10)
    quiet = await make_ticket_type(db, event, name="Quiet")
    quota = await make_quota(db, event, 0, [quiet])

    await seats.lock_event(db, event.id)
    taken = await seats.recount_quota(db, quota.id)
    await db.commit()

    assert taken == 0
    assert await counts(db, event, quota) == (0, 0, 0)
