"""The seat ledger: the only code that changes an event's `seats_booked` or `waitlist_count`, a
quota's `seats_taken`, or confirms a waitlisted booking. Events, quotas and bookings all come
here; it calls no service. It counts and says what it changed (the booking released, the
bookings promoted); telling anyone is its callers' part, through the outbox, in the same
transaction.

What a booking takes is a `Claim`: seats of the event and of each quota its tickets count
against, all or nothing.

Lock order, the same in every transaction, so that booking, cancelling, banning, editing
quotas and serving the waiting list never deadlock, and whatever a transaction reads after
taking a lock is the truth:

1. a user's row: `users.service.hold_active` (shared) before a booking, or the UPDATE a ban
   starts with;
2. an event's row: `take` and `join_waitlist` are conditional UPDATEs that lock it, and
   `lock_event` locks it before anything else here touches that event's bookings, quotas or
   ticket types;
3. that event's quotas and ticket types: written only by a transaction that holds the event's
   row lock, so they need no order of their own, and reading them under it reads the truth;
4. that event's bookings and their tickets;
5. a user's sessions (`auth.service`), last.

Every function that needs the event's row lock says so; none of them waits on anything but the
database while holding it.
"""

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, Update, bindparam, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.bookings import repository
from boxoffice.bookings.claims import Claim
from boxoffice.bookings.models import (
    ACTIVE_STATUSES,
    HOLDING_STATUSES,
    Booking,
    BookingStatus,
    Ticket,
)
from boxoffice.catalogue.models import Quota, quota_ticket_types
from boxoffice.db import RowLock, changed_one, utcnow
from boxoffice.events import policy
from boxoffice.events.models import Event, EventStatus, new_catalogue_version, update_event


def is_bookable(event: Event, now: datetime) -> bool:
    return (
        event.status is EventStatus.PUBLISHED and event.deleted_at is None and event.starts_at > now
    )


# The statements every booking runs are built once, here, with bound parameters: building one
# and computing its cache key cost more CPU than the database spends running it.

# `is_bookable` as a WHERE clause, so that the check and the change are one statement; and the
# booking was priced with the ticket types as they are (catalogue.terms).
_BOOKABLE_NOW = (
    Event.status == EventStatus.PUBLISHED,
    Event.deleted_at.is_(None),
    Event.starts_at > bindparam("now"),
    Event.catalogue_version == bindparam("version"),
)


def _returning_event(change: Update) -> tuple[Update, Update]:
    return change, change.returning(Event).execution_options(populate_existing=True)


_TAKE = _returning_event(
    update_event(bindparam("event_id"))
    .where(
        *_BOOKABLE_NOW,
        # Nobody jumps the queue: while anyone waits, seats go to the waiting list first.
        Event.waitlist_count == 0,
        Event.seats_booked + Event.seats_held + bindparam("seats") <= Event.capacity,
    )
    .values(seats_booked=Event.seats_booked + bindparam("seats"))
    .execution_options(synchronize_session=False)
)
_JOIN_WAITLIST = _returning_event(
    update_event(bindparam("event_id"))
    .where(*_BOOKABLE_NOW)
    .values(waitlist_count=Event.waitlist_count + 1)
    .execution_options(synchronize_session=False)
)
_GIVE_BACK = update_event(bindparam("event_id")).values(
    seats_booked=Event.seats_booked - bindparam("seats")
)


async def take(
    session: AsyncSession, event_id: int, claim: Claim, *, version: int, now: datetime
) -> Event | None:
    """Sells the claim's seats of the event and of each of its quotas, all of them or nothing
    (None): the event's conditional UPDATE, and only for a claim on quotas, a read of them
    (current: this holds the event's lock now) and their UPDATE."""
    parameters = {"event_id": event_id, "seats": claim.seats, "now": now, "version": version}
    event = await _change(session, _TAKE, parameters)
    if event is None or not claim.quotas:
        return event
    if any(
        left < claim.quotas[quota_id] for quota_id, left in (await room(session, claim)).items()
    ):
        await session.execute(_GIVE_BACK, {"event_id": event_id, "seats": claim.seats})
        return None
    await _add_to_quotas(session, claim.quotas)
    return event


async def join_waitlist(
    session: AsyncSession, event_id: int, *, version: int, now: datetime
) -> Event | None:
    """Makes room for one more booking in line; None if the event is no longer bookable (or its
    ticket types changed since the booking was priced)."""
    parameters = {"event_id": event_id, "now": now, "version": version}
    return await _change(session, _JOIN_WAITLIST, parameters)


async def room(session: AsyncSession, claim: Claim) -> dict[int, int]:
    """The seats left in each quota of the claim; true while the event's row lock is held."""
    return await _room(session, Quota.id.in_(claim.quotas))


def fits(claim: Claim, quota_room: Mapping[int, int]) -> bool:
    """Whether the claim's quota seats fit in what is left of each quota."""
    return all(seats <= quota_room[quota_id] for quota_id, seats in claim.quotas.items())


async def _room(session: AsyncSession, which: ColumnElement[bool]) -> dict[int, int]:
    found = await session.execute(select(Quota.id, Quota.size - Quota.seats_taken).where(which))
    return {quota_id: left for quota_id, left in found.all()}  # noqa: C416 (Row to pairs)


async def _add_to_quotas(session: AsyncSession, seats: Mapping[int, int]) -> None:
    """Adds seats (negative: gives them back) to each quota, in one statement."""
    await session.execute(
        update(Quota)
        .where(Quota.id.in_(seats))
        .values(seats_taken=Quota.seats_taken + case(dict(seats), value=Quota.id, else_=0))
    )


async def _change(
    session: AsyncSession, change: tuple[Update, Update], parameters: dict[str, Any]
) -> Event | None:
    """Runs a conditional UPDATE of one event: the event as the change left it, or None when its
    WHERE did not hold and nothing changed."""
    plain, returning = change
    if session.get_bind().dialect.update_returning:
        # The event comes back with the change: a round trip less than reading it apart.
        return (await session.scalars(returning, parameters)).one_or_none()
    # MariaDB's UPDATE returns nothing; the row lock it took keeps the event as it left it.
    if await changed_one(session, plain, parameters):
        return await current_event(session, parameters["event_id"])
    return None


async def current_event(session: AsyncSession, event_id: int) -> Event | None:
    """The event as stored now (not as this session last saw it); None if it is gone."""
    found = await session.scalars(policy.EVENT, {"event_id": event_id})
    return found.one_or_none()


_LOCK_EVENT = RowLock(Event.seats_booked, Event.id == bindparam("event_id"))


async def lock_event(session: AsyncSession, event_id: int) -> Event | None:
    """Takes the event's row lock until the transaction ends; the event as stored then."""
    await _LOCK_EVENT(session, event_id=event_id)
    return await current_event(session, event_id)


async def release(session: AsyncSession, booking_id: int) -> Booking | None:
    """Cancels one active booking (its holder, an admin or a ban did) and gives back what it held:
    its seats and their quotas, or its place in line. The booking as it was, or None if it was
    no longer active. Needs the event's row lock."""
    booking = (
        await session.scalars(
            select(Booking)
            .where(Booking.id == booking_id)
            .execution_options(populate_existing=True)
        )
    ).one()
    if booking.status not in ACTIVE_STATUSES:
        return None
    held = booking.status
    await session.execute(
        update(Booking)
        .where(Booking.id == booking_id, Booking.status == held)
        .values(status=BookingStatus.CANCELLED, active=None, cancelled_at=utcnow())
    )
    if held is BookingStatus.WAITLISTED:
        given_back = {"waitlist_count": Event.waitlist_count - 1}
    else:
        given_back = {"seats_booked": Event.seats_booked - booking.seats}
        quotas = (await _claims(session, [booking_id])).get(booking_id)
        if quotas:
            await _add_to_quotas(session, {quota_id: -n for quota_id, n in quotas.items()})
    await session.execute(update_event(booking.event_id).values(**given_back))
    return booking


async def release_all(session: AsyncSession, event_id: int) -> None:
    """Every active booking of the event ends (it was cancelled). Needs the event's row lock.
    The bookings it ends are those still active when it is called, so whoever tells their
    holders does so before calling it."""
    await session.execute(
        update(Booking)
        .where(Booking.event_id == event_id, Booking.active.is_(True))
        .values(status=BookingStatus.CANCELLED, active=None, cancelled_at=utcnow())
    )
    await session.execute(update_event(event_id).values(seats_booked=0, waitlist_count=0))
    await session.execute(update(Quota).where(Quota.event_id == event_id).values(seats_taken=0))


async def serve_waitlist(session: AsyncSession, event_id: int) -> list[int]:
    """Confirms waitlisted bookings, oldest first, while all their seats fit, in the event and in
    every quota they count against; the ids promoted, oldest first. Needs the event's row lock.
    When the oldest does not fit, nobody behind it jumps ahead."""
    event = await current_event(session, event_id)
    if event is None or not is_bookable(event, utcnow()) or event.waitlist_count == 0:
        return []
    free = event.seats_available
    line = (await session.execute(repository.waiting_line(event_id, limit=free))).all()
    quota_room = await _room(session, Quota.event_id == event_id)
    claims = await _claims(session, [booking_id for booking_id, _ in line]) if quota_room else {}
    promoted: list[int] = []
    taken = Claim(0)
    for booking_id, seats in line:
        claim = Claim(seats, claims.get(booking_id, {}))
        if claim.seats > free or not fits(claim, quota_room):
            break
        promoted.append(booking_id)
        taken += claim
        free -= claim.seats
        for quota_id, n in claim.quotas.items():
            quota_room[quota_id] -= n
    if promoted:
        await session.execute(
            update(Booking)
            .where(Booking.id.in_(promoted), Booking.status == BookingStatus.WAITLISTED)
            .values(status=BookingStatus.CONFIRMED)
        )
        await session.execute(
            update_event(event_id).values(
                seats_booked=Event.seats_booked + taken.seats,
                waitlist_count=Event.waitlist_count - len(promoted),
            )
        )
        if taken.quotas:
            await _add_to_quotas(session, taken.quotas)
    return promoted


async def _claims(session: AsyncSession, booking_ids: list[int]) -> dict[int, dict[int, int]]:
    """The seats each booking's tickets count against each quota: {booking: {quota: seats}}."""
    if not booking_ids:
        return {}
    found = await session.execute(
        select(Ticket.booking_id, quota_ticket_types.c.quota_id, func.count())
        .join(quota_ticket_types, quota_ticket_types.c.ticket_type_id == Ticket.ticket_type_id)
        .where(Ticket.booking_id.in_(booking_ids))
        .group_by(Ticket.booking_id, quota_ticket_types.c.quota_id)
    )
    claims: dict[int, dict[int, int]] = {}
    for booking_id, quota_id, seats in found.all():
        claims.setdefault(booking_id, {})[quota_id] = seats
    return claims


_BUMP_CATALOGUE = update_event(bindparam("event_id")).values(catalogue_version=bindparam("version"))


async def catalogue_changed(session: AsyncSession, event_id: int) -> None:
    """Records that the event's ticket types or quotas changed, so that no booking priced from
    what they were can take seats. Needs the event's row lock."""
    await session.execute(
        _BUMP_CATALOGUE, {"event_id": event_id, "version": new_catalogue_version()}
    )


async def recount_quota(session: AsyncSession, quota_id: int) -> int:
    """Sets the quota's `seats_taken` to the seats its ticket types hold in active, non-waiting
    bookings (after its types changed); the count. Needs the event's row lock. The quota's CHECK
    refuses a count above its size: callers compare first (`seats_held_by_types`)."""
    taken = await seats_held_by_types(session, _types_of_quota(quota_id))
    await session.execute(update(Quota).where(Quota.id == quota_id).values(seats_taken=taken))
    return taken


def _types_of_quota(quota_id: int) -> Select[tuple[int]]:
    return select(quota_ticket_types.c.ticket_type_id).where(
        quota_ticket_types.c.quota_id == quota_id
    )


async def seats_held_by_types(
    session: AsyncSession, ticket_type_ids: Select[tuple[int]] | Collection[int]
) -> int:
    """The seats these ticket types hold in bookings that count against quotas (confirmed; later
    pending and offered too). Needs the event's row lock to stay true."""
    held = await session.scalar(
        select(func.count(Ticket.id))
        .join(Booking, Booking.id == Ticket.booking_id)
        .where(Ticket.ticket_type_id.in_(ticket_type_ids), Booking.status.in_(HOLDING_STATUSES))
    )
    return int(held or 0)
