"""The seat ledger: the only code that changes an event's `seats_booked`, `seats_held` or
`waitlist_count`, a quota's `seats_taken`, or moves a booking between statuses that hold seats
(pending, offered and confirmed hold them; waitlisted, cancelled and expired do not). Confirmed
seats count in `seats_booked`, held ones (pending, offered) in `seats_held`; quotas count both.
Events, quotas and bookings all come here; it calls no service. It counts and says what it
changed (the booking released, the bookings served); telling anyone is its callers' part,
through the outbox, in the same transaction.

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
5. those bookings' payments and refunds (`payments`);
6. a user's sessions (`auth.service`), last.

Every function that needs the event's row lock says so; none of them waits on anything but the
database while holding it.
"""

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, Update, bindparam, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.bookings import repository
from boxoffice.bookings.claims import Claim
from boxoffice.bookings.models import (
    ACTIVE_STATUSES,
    HOLD_STATUSES,
    HOLDING_STATUSES,
    Booking,
    BookingStatus,
    Ticket,
)
from boxoffice.catalogue.models import Quota, TicketType, quota_ticket_types
from boxoffice.db import RowLock, changed_one, utcnow
from boxoffice.events import policy
from boxoffice.events.models import (
    Event,
    EventStatus,
    WaitlistMode,
    new_catalogue_version,
    update_event,
)


def is_bookable(event: Event, now: datetime) -> bool:
    return (
        event.status is EventStatus.PUBLISHED and event.deleted_at is None and event.starts_at > now
    )


# The statements every booking runs are built once, here, with bound parameters: building one
# and computing its cache key cost more CPU than the database spends running it.

# `is_bookable` as a WHERE clause, so that the check and the change are one statement.
_BOOKABLE = (
    Event.status == EventStatus.PUBLISHED,
    Event.deleted_at.is_(None),
    Event.starts_at > bindparam("now"),
)
# ... and the booking was priced with the ticket types as they are (catalogue.terms).
_BOOKABLE_NOW = (*_BOOKABLE, Event.catalogue_version == bindparam("version"))


def _returning_event(change: Update) -> tuple[Update, Update]:
    return change, change.returning(Event).execution_options(populate_existing=True)


def _taking(bookable: tuple[ColumnElement[bool], ...], counter: str) -> tuple[Update, Update]:
    return _returning_event(
        update_event(bindparam("event_id"))
        .where(
            *bookable,
            # Nobody jumps the queue: while anyone waits, seats go to the waiting list first.
            Event.waitlist_count == 0,
            Event.seats_booked + Event.seats_held + bindparam("seats") <= Event.capacity,
        )
        .values({counter: getattr(Event, counter) + bindparam("seats")})
        .execution_options(synchronize_session=False)
    )


# A sale confirmed at once (free), and one held until it is paid.
_TAKE = _taking(_BOOKABLE_NOW, "seats_booked")
_HOLD = _taking(_BOOKABLE_NOW, "seats_held")
# The seats of a booking whose hold ended before its payment came (SPEC §10): whatever its
# ticket types have become since, the price was paid.
_TAKE_AGAIN = _taking(_BOOKABLE, "seats_booked")
_JOIN_WAITLIST = _returning_event(
    update_event(bindparam("event_id"))
    .where(*_BOOKABLE_NOW)
    .values(waitlist_count=Event.waitlist_count + 1)
    .execution_options(synchronize_session=False)
)


def _giving_back(counter: str) -> Update:
    return update_event(bindparam("event_id")).values(
        {counter: getattr(Event, counter) - bindparam("seats")}
    )


_GIVE_BACK = {counter: _giving_back(counter) for counter in ("seats_booked", "seats_held")}


async def take(
    session: AsyncSession,
    event_id: int,
    claim: Claim,
    *,
    version: int,
    now: datetime,
    hold: bool = False,
) -> Event | None:
    """Sells the claim's seats of the event and of each of its quotas, all of them or nothing
    (None): the event's conditional UPDATE, and only for a claim on quotas, a read of them
    (current: this holds the event's lock now) and their UPDATE. `hold`: the seats are held
    (a pending booking), not sold."""
    parameters = {"event_id": event_id, "seats": claim.seats, "now": now, "version": version}
    return await _take(session, _HOLD if hold else _TAKE, claim, parameters)


async def take_again(session: AsyncSession, booking: Booking, now: datetime) -> Event | None:
    """Sells an expired booking's seats once more (its payment came late), as they are now: all
    or nothing (None), and never ahead of the waiting list. Needs the event's row lock."""
    claim = Claim(booking.seats, (await _claims(session, [booking.id])).get(booking.id, {}))
    parameters = {"event_id": booking.event_id, "seats": claim.seats, "now": now}
    return await _take(session, _TAKE_AGAIN, claim, parameters)


async def _take(
    session: AsyncSession,
    change: tuple[Update, Update],
    claim: Claim,
    parameters: dict[str, Any],
) -> Event | None:
    event = await _change(session, change, parameters)
    if event is None or not claim.quotas:
        return event
    if any(
        left < claim.quotas[quota_id] for quota_id, left in (await room(session, claim)).items()
    ):
        counter = "seats_held" if change is _HOLD else "seats_booked"
        await session.execute(
            _GIVE_BACK[counter], {"event_id": parameters["event_id"], "seats": claim.seats}
        )
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
    """Cancels one active booking (its holder, an admin or a ban did; an offer declined) and gives
    back what it held: its seats and their quotas, or its place in line. The booking as it was,
    or None if it was no longer active. Needs the event's row lock."""
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
        counter = _counter_of(held)
        given_back = {counter: getattr(Event, counter) - booking.seats}
        quotas = (await _claims(session, [booking_id])).get(booking_id)
        if quotas:
            await _add_to_quotas(session, {quota_id: -n for quota_id, n in quotas.items()})
    await session.execute(update_event(booking.event_id).values(**given_back))
    return booking


def _counter_of(status: BookingStatus) -> str:
    """The event's count that a booking of this status is in."""
    return "seats_held" if status in HOLD_STATUSES else "seats_booked"


async def release_all(session: AsyncSession, event_id: int) -> None:
    """Every active booking of the event ends (it was cancelled). Needs the event's row lock.
    The bookings it ends are those still active when it is called, so whoever tells their
    holders does so before calling it."""
    await session.execute(
        update(Booking)
        .where(Booking.event_id == event_id, Booking.active.is_(True))
        .values(status=BookingStatus.CANCELLED, active=None, cancelled_at=utcnow())
    )
    await session.execute(
        update_event(event_id).values(seats_booked=0, seats_held=0, waitlist_count=0)
    )
    await session.execute(update(Quota).where(Quota.event_id == event_id).values(seats_taken=0))


@dataclass(frozen=True, slots=True)
class Served:
    """The waiting bookings that freed seats went to, oldest first: confirmed at once, or
    offered (held for them until they accept, SPEC §10)."""

    promoted: list[int] = field(default_factory=list)
    offered: list[int] = field(default_factory=list)

    @property
    def ids(self) -> list[int]:
        return self.promoted + self.offered


async def serve_waitlist(session: AsyncSession, event_id: int) -> Served:
    """Gives freed seats to waitlisted bookings, oldest first, while all their seats fit, in the
    event and in every quota they count against. Needs the event's row lock. When the oldest does
    not fit, nobody behind it jumps ahead. A booking with a price, or any booking of an event that
    sells paid tickets or is set to offer, is held for its holder as an offer; any other is
    confirmed."""
    event = await current_event(session, event_id)
    now = utcnow()
    if event is None or not is_bookable(event, now) or event.waitlist_count == 0:
        return Served()
    free = event.seats_available
    line = (await session.execute(repository.waiting_line(event_id, limit=free))).all()
    quota_room = await _room(session, Quota.event_id == event_id)
    claims = await _claims(session, [booking_id for booking_id, *_ in line]) if quota_room else {}
    served: list[tuple[int, Claim, bool]] = []
    for booking_id, seats, price_minor in line:
        claim = Claim(seats, claims.get(booking_id, {}))
        if claim.seats > free or not fits(claim, quota_room):
            break
        served.append((booking_id, claim, price_minor > 0))
        free -= claim.seats
        for quota_id, n in claim.quotas.items():
            quota_room[quota_id] -= n
    if not served:
        return Served()
    # A booking priced when it joined is paid at that price, even if the event's types have
    # become free since; and nobody is charged without saying yes.
    offers_to_all = await waitlist_offers(session, event)
    offered = {i: claim for i, claim, priced in served if offers_to_all or priced}
    promoted = {i: claim for i, claim, _ in served if i not in offered}
    until = min(now + timedelta(hours=event.offer_hours), event.starts_at)
    await _serve(session, event_id, offered, BookingStatus.OFFERED, until)
    await _serve(session, event_id, promoted, BookingStatus.CONFIRMED, None)
    return Served(promoted=list(promoted), offered=list(offered))


async def _serve(
    session: AsyncSession,
    event_id: int,
    served: Mapping[int, Claim],
    status: BookingStatus,
    expires_at: datetime | None,
) -> None:
    """Moves these waiting bookings to `status` (offered: held until `expires_at`; confirmed)
    and counts what they claim. Needs the event's row lock."""
    if not served:
        return
    taken = sum(served.values(), Claim(0))
    await session.execute(
        update(Booking)
        .where(Booking.id.in_(served), Booking.status == BookingStatus.WAITLISTED)
        .values(status=status, expires_at=expires_at)
    )
    counter = _counter_of(status)
    await session.execute(
        update_event(event_id).values(
            {
                counter: getattr(Event, counter) + taken.seats,
                "waitlist_count": Event.waitlist_count - len(served),
            }
        )
    )
    if taken.quotas:
        await _add_to_quotas(session, taken.quotas)


async def waitlist_offers(session: AsyncSession, event: Event) -> bool:
    """Whether freed seats are offered rather than confirmed: always for an event with a paid
    ticket type (nobody is charged without saying yes), else as the event is set."""
    if event.waitlist_mode is WaitlistMode.OFFER:
        return True
    paid = select(TicketType.id).where(TicketType.event_id == event.id, TicketType.price_minor > 0)
    return bool(await session.scalar(select(paid.exists())))


async def has_expired_holds(session: AsyncSession, event_id: int, now: datetime) -> bool:
    """Whether any hold of the event has passed its end (and still counts)."""
    return bool(await session.scalar(select(_expired_holds(event_id, now).exists())))


async def has_expired_hold_of(
    session: AsyncSession, event_id: int, user_id: int, now: datetime
) -> bool:
    """Whether this user's hold of the event has passed its end (and still counts)."""
    theirs = _expired_holds(event_id, now).where(Booking.user_id == user_id)
    return bool(await session.scalar(select(theirs.exists())))


def _expired_holds(event_id: int, now: datetime) -> Select[int, int]:
    return select(Booking.id, Booking.seats).where(
        Booking.event_id == event_id,
        Booking.status.in_(HOLD_STATUSES),
        Booking.expires_at <= now,
    )


async def events_with_expired_holds(session: AsyncSession, now: datetime, limit: int) -> list[int]:
    """Events some of whose holds have passed their end, for the worker's sweep."""
    found = await session.scalars(
        select(Booking.event_id)
        .where(Booking.status.in_(HOLD_STATUSES), Booking.expires_at <= now)
        .distinct()
        .limit(limit)
    )
    return list(found)


async def reclaim_expired(session: AsyncSession, event_id: int, now: datetime) -> list[int]:
    """Ends every hold of the event past its end (`expired`) and gives back its seats and their
    quotas; the ids, oldest first. Needs the event's row lock: no other transaction moves the
    event's bookings meanwhile, so what is read here is what changes."""
    expired = (await session.execute(_expired_holds(event_id, now).order_by(Booking.id))).all()
    if not expired:
        return []
    ids = [booking_id for booking_id, _ in expired]
    await session.execute(
        update(Booking).where(Booking.id.in_(ids)).values(status=BookingStatus.EXPIRED, active=None)
    )
    given_back = Claim(0)
    claims = await _claims(session, ids)
    for booking_id, seats in expired:
        given_back += Claim(seats, claims.get(booking_id, {}))
    await session.execute(
        update_event(event_id).values(seats_held=Event.seats_held - given_back.seats)
    )
    if given_back.quotas:
        await _add_to_quotas(session, {q: -n for q, n in given_back.quotas.items()})
    return ids


async def settle_hold(
    session: AsyncSession, booking: Booking, *, pending_until: datetime | None = None
) -> bool:
    """Moves a hold on: confirmed (`pending_until` None: its seats are sold), or an accepted
    offer to pending until `pending_until` (still held, now for payment). Whether the booking
    was still the hold it was. Needs the event's row lock, and expired holds reclaimed first."""
    held = booking.status
    assert held in HOLD_STATUSES
    status = BookingStatus.CONFIRMED if pending_until is None else BookingStatus.PENDING
    moved = await changed_one(
        session,
        update(Booking)
        .where(Booking.id == booking.id, Booking.status == held)
        .values(status=status, expires_at=pending_until),
    )
    if moved and status is BookingStatus.CONFIRMED:
        await session.execute(
            update_event(booking.event_id).values(
                seats_held=Event.seats_held - booking.seats,
                seats_booked=Event.seats_booked + booking.seats,
            )
        )
    return moved


async def revive(session: AsyncSession, booking: Booking, now: datetime) -> bool:
    """Confirms an expired booking whose payment came late, if all its seats can be sold again
    now; whether they could. Needs the event's row lock; the caller has checked that its holder
    holds no other active booking of the event."""
    assert booking.status is BookingStatus.EXPIRED
    if await take_again(session, booking, now) is None:
        return False
    await session.execute(
        update(Booking)
        .where(Booking.id == booking.id, Booking.status == BookingStatus.EXPIRED)
        .values(status=BookingStatus.CONFIRMED, active=True, expires_at=None)
    )
    return True


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
