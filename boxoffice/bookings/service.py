"""Booking rules: who may book, cancel and check in, and what the answer says. Seats and the
waiting list change only through the seat ledger (`seats`), which writes down the lock order."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Row, Select, bindparam, exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from boxoffice.audit import AuditAction, record
from boxoffice.bookings import orders, repository, seats
from boxoffice.bookings.errors import (
    AlreadyBooked,
    BookingNotPending,
    CancellationClosed,
    EventNotBookable,
    EventStarted,
    OfferExpired,
    SoldOut,
)
from boxoffice.bookings.models import (
    ACTIVE_STATUSES,
    ENDED_STATUSES,
    HOLD_STATUSES,
    Booking,
    BookingStatus,
    Ticket,
)
from boxoffice.bookings.orders import Order
from boxoffice.bookings.rush import RushHint
from boxoffice.bookings.schemas import BookingCreate, BookingRead
from boxoffice.bookings.tickets import new_ticket_code, normalize
from boxoffice.catalogue.models import TicketType
from boxoffice.catalogue.terms import Terms, TermsCache, TypeTerms
from boxoffice.db import paginate, paginate_scalars, transaction, utcnow
from boxoffice.errors import Conflict, DomainError, Forbidden, NotFound
from boxoffice.events import policy
from boxoffice.events.models import Event, EventStatus
from boxoffice.notifications import outbox
from boxoffice.payments import refunds
from boxoffice.payments.models import RefundReason
from boxoffice.schemas import PageParams
from boxoffice.users import service as users_service
from boxoffice.users.models import Role, User
from boxoffice.webhooks import outbox as hooks
from boxoffice.webhooks.models import WebhookEventType as Hook


def _not_bookable(event: Event) -> EventNotBookable:
    if event.status is EventStatus.CANCELLED:
        return EventNotBookable("this event has been cancelled")
    return EventNotBookable("this event has already started")


async def book(
    session: AsyncSession,
    attendee: User,
    wanted: BookingCreate,
    *,
    held: bool,
    rush: RushHint,
    terms_cache: TermsCache,
) -> Booking:
    """Books what `wanted` asks for, every line or nothing: confirmed, or waitlisted when asked
    to wait, or refused. `held`: the attendee's account is already held against a ban (see
    `users.service.hold_active`); otherwise a sale holds it first. Priced from the event's terms
    as this process remembers them; if they changed meanwhile, the ledger refuses the sale and
    the booking is priced again."""
    terms = await terms_cache.current(session, wanted.event_id)
    sale = _Sale()
    try:
        for _ in range(_PRICINGS):
            try:
                return await _book(session, attendee, wanted, terms, rush, sale, held=held)
            except _TermsChanged:
                terms = await terms_cache.reload(session, wanted.event_id)
        raise Conflict("the event's ticket types changed while you booked; try again")
    except DomainError as refusal:
        # The holds ended on the way stay ended, whatever this booking's fate (and whichever
        # pricing of it ended them).
        refusal.keeps_changes = refusal.keeps_changes or sale.reclaimed
        raise


# How often a booking is priced before it gives up on ticket types that keep changing.
_PRICINGS = 3


class _TermsChanged(Exception):
    """The event's ticket types or quotas changed after the booking was priced."""


@dataclass
class _Sale:
    """What a booking did on its way, over all its pricings: whether it ended holds past their
    end (in this transaction)."""

    reclaimed: bool = False


async def _book(
    session: AsyncSession,
    attendee: User,
    wanted: BookingCreate,
    terms: Terms | None,
    rush: RushHint,
    sale: _Sale,
    *,
    held: bool,
) -> Booking:
    event_id = wanted.event_id
    now = utcnow()
    try:
        asked = _order(terms, wanted, now)
    except DomainError as wrong_order:
        # The event, and whether the attendee already holds a booking, come first.
        found = await _look(session, attendee, event_id, now)
        refusal = _refusal(found, event_id, now)
        if refusal is None and _changed_since(found, terms):
            # Refused by terms read before they changed: the stored ones decide.
            raise _TermsChanged from None
        raise refusal or wrong_order from None
    if not held:
        # Most attempts are refused now (rush.reads_first), and a refusal needs no lock: when
        # the event as it stands cannot take this booking, one read says why, without the
        # account hold and the seat UPDATE of a sale. Nothing is written either way, so a
        # refusal that does not hold the account cannot race a ban.
        found = await _look(session, attendee, event_id, now)
        refusal = await _refusal_of(session, found, event_id, asked, now)
        if refusal is not None and not await _may_free(session, found, refusal, now):
            raise rush.noted(event_id, refusal)
        # The account before the event, the lock order a ban follows too: a booking racing a
        # ban of its holder is either swept by the ban or refused.
        await users_service.hold_active(session, attendee.id)
    # Seats first, questions later: a sale is one statement, and only a refusal asks why. A
    # priced booking holds its seats until it is paid.
    hold = asked.total_minor > 0
    event = await seats.take(
        session, event_id, asked.claim, version=asked.version, now=now, hold=hold
    )
    found = None
    if event is None and not wanted.join_waitlist:
        found = await _look(session, attendee, event_id, now)
        if await _ended_expired_holds(session, found, event_id, terms, now):
            sale.reclaimed = True
            event = await seats.take(
                session, event_id, asked.claim, version=asked.version, now=now, hold=hold
            )
            found = None
    status = BookingStatus.PENDING if hold else BookingStatus.CONFIRMED
    if event is None and wanted.join_waitlist:
        event = await seats.join_waitlist(session, event_id, version=asked.version, now=now)
        status = BookingStatus.WAITLISTED
    if event is None:
        found = found or await _look(session, attendee, event_id, now)
        refusal = await _refusal_of(session, found, event_id, asked, utcnow())
        raise rush.noted(event_id, refusal or _lost_race(found))
    if await _ended_own_expired_hold(session, event, attendee, status, asked, now):
        sale.reclaimed = True
    expires_at = (
        now + timedelta(minutes=event.hold_minutes) if status is BookingStatus.PENDING else None
    )
    booking = await _insert(session, attendee, event, asked, status, now, expires_at)
    if status is BookingStatus.CONFIRMED:
        await outbox.booking_confirmed(session, booking)
        # Everything the answer shows is at hand: no need to read the booking back.
        await _hook_booking(session, event, Hook.BOOKING_CONFIRMED, booking)
        return booking
    if status is BookingStatus.PENDING:
        await outbox.booking_pending(session, booking)
        await _hook_booking(session, event, Hook.BOOKING_PENDING, booking)
        return booking
    # Seats freed between our failed take and joining the line, or held past their end, must
    # not sit idle. (Joining took the event's row lock.)
    if event.seats_held and await seats.has_expired_holds(session, event_id, now):
        expired = await seats.reclaim_expired(session, event_id, now)
        await outbox.bookings_expired(session, expired)
        await tell_webhooks(session, event_id, Hook.BOOKING_EXPIRED, expired)
    served = await seats.serve_waitlist(session, event_id)
    # This booking, served at once if it was among them, was never in line: its holder hears
    # "confirmed" or "offered" below, not "promoted".
    await _tell_served(session, event_id, served, but=booking.id)
    # Its place in line, or its promotion just now, is the database's to tell.
    booking = await get(session, booking.id)
    if booking.status is BookingStatus.CONFIRMED:
        await outbox.booking_confirmed(session, booking)
        await _hook_booking(session, event, Hook.BOOKING_CONFIRMED, booking)
    elif booking.status is BookingStatus.OFFERED:
        await outbox.waitlist_offered(session, [booking.id])
    else:
        await outbox.waitlist_joined(session, booking)
        await _hook_booking(session, event, Hook.BOOKING_WAITLISTED, booking)
    return booking


async def _ended_expired_holds(
    session: AsyncSession,
    found: Row[Event, bool, bool] | None,
    event_id: int,
    terms: Terms | None,
    now: datetime,
) -> bool:
    """Why a sale found no seats, as the event stands now (`found`): expired holds never stop a
    sale, so they end, and the caller asks for the seats again; whether any did. What refuses
    any booking is the answer as it is, and terms read before they changed price the booking
    again first (_TermsChanged): neither ends holds it need not."""
    if _refusal(found, event_id, now) is not None:
        return False
    if _changed_since(found, terms):
        raise _TermsChanged
    if not await _holds_expired(session, found, now):
        return False
    await reclaim(session, event_id, now)
    return True


async def _ended_own_expired_hold(
    session: AsyncSession,
    event: Event,
    attendee: User,
    status: BookingStatus,
    asked: Order,
    now: datetime,
) -> bool:
    """The attendee's own hold past its end is no booking any more: it ends (with any other
    expired hold) before the new booking takes its place, else the index of active bookings
    would refuse that. Whether it did. Only where others hold seats can it be there, so a free
    sale pays nothing for asking. Needs the event's row lock (the sale took it)."""
    ours = asked.seats if status is BookingStatus.PENDING else 0
    if event.seats_held <= ours or not await seats.has_expired_hold_of(
        session, event.id, attendee.id, now
    ):
        return False
    await reclaim(session, event.id, now)
    return True


async def reclaim(session: AsyncSession, event_id: int, now: datetime) -> list[int]:
    """Ends the event's holds past their end and passes their seats on to the waiting list,
    telling everyone concerned; the ids of the bookings that expired."""
    await seats.lock_event(session, event_id)
    expired = await seats.reclaim_expired(session, event_id, now)
    if expired:
        await outbox.bookings_expired(session, expired)
        await tell_webhooks(session, event_id, Hook.BOOKING_EXPIRED, expired)
        await serve_waitlist(session, event_id)
    return expired


async def sweep_expired_holds(
    sessionmaker: async_sessionmaker[AsyncSession], now: datetime, limit: int = 50
) -> int:
    """Ends the holds past their end, event by event, each in a transaction of its own; how
    many bookings expired. Any number of workers may: each event's sweep holds its row lock."""
    async with transaction(sessionmaker) as session:
        events = await seats.events_with_expired_holds(session, now, limit)
    expired = 0
    for event_id in events:
        async with transaction(sessionmaker) as session:
            expired += len(await reclaim(session, event_id, now))
    return expired


async def holds_active_booking(session: AsyncSession, user_id: int, event_id: int) -> bool:
    found = await session.scalar(
        select(
            exists().where(
                Booking.event_id == event_id,
                Booking.user_id == user_id,
                Booking.active.is_(True),
            )
        )
    )
    return bool(found)


async def serve_waitlist(session: AsyncSession, event_id: int) -> None:
    """Gives freed seats to the waiting list and tells those served. Needs the event's row lock."""
    await _tell_served(session, event_id, await seats.serve_waitlist(session, event_id))


async def _tell_served(
    session: AsyncSession, event_id: int, served: seats.Served, *, but: int = 0
) -> None:
    promoted = [i for i in served.promoted if i != but]
    await outbox.waitlist_promoted(session, promoted)
    await outbox.waitlist_offered(session, [i for i in served.offered if i != but])
    await tell_webhooks(session, event_id, Hook.BOOKING_CONFIRMED, promoted)


async def tell_webhooks(
    session: AsyncSession, event_id: int, kind: Hook, booking_ids: Sequence[int]
) -> None:
    """Tells the event's webhooks, if it has any, of these bookings as they are now."""
    if not booking_ids:
        return
    event = await hooks.event_of(session, event_id)
    if event is None or not hooks.wanted(event):
        return
    for booking_id in booking_ids:
        await _hook_booking(session, event, kind, await get(session, booking_id))


async def _hook_booking(session: AsyncSession, event: Event, kind: Hook, booking: Booking) -> None:
    if hooks.wanted(event):
        await hooks.write(session, event, kind, BookingRead.model_validate(booking))


async def _may_free(
    session: AsyncSession, found: Row[Event, bool, bool] | None, refusal: DomainError, now: datetime
) -> bool:
    """Whether a sold-out refusal read without locks may be wrong because holds past their end
    still count: then the sale goes the locked way, which reclaims them."""
    return isinstance(refusal, SoldOut) and await _holds_expired(session, found, now)


async def _holds_expired(
    session: AsyncSession, found: Row[Event, bool, bool] | None, now: datetime
) -> bool:
    """Whether the event holds seats past their end. Free events seldom hold seats, so their
    refusals (most of a rush) pay for no more than the read they made anyway."""
    return (
        found is not None
        and found.Event.seats_held > 0
        and await seats.has_expired_holds(session, found.Event.id, now)
    )


def _changed_since(found: Row[Event, bool, bool] | None, terms: Terms | None) -> bool:
    """Whether the event's ticket types or quotas changed after `terms` were read."""
    return (
        found is not None and terms is not None and found.Event.catalogue_version != terms.version
    )


def _order(terms: Terms | None, wanted: BookingCreate, now: datetime) -> Order:
    if terms is None:
        raise NotFound(f"there is no event {wanted.event_id}")
    lines = [(line.ticket_type_id, line.quantity) for line in wanted.lines or ()]
    return orders.order(terms, lines or wanted.seats, access_code=wanted.access_code, now=now)


async def _insert(
    session: AsyncSession,
    attendee: User,
    event: Event,
    asked: Order,
    status: BookingStatus,
    now: datetime,
    expires_at: datetime | None,
) -> Booking:
    """The booking and its tickets, one per seat; the booking as the answer shows it."""
    row = {
        "event_id": event.id,
        "user_id": attendee.id,
        "seats": asked.seats,
        "status": status,
        "active": True,
        "ticket_code": new_ticket_code(),
        "created_at": now,
        "updated_at": now,
        "cancelled_at": None,
        "checked_in_at": None,
        "total_price_minor": asked.total_minor,
        "currency": asked.currency,
        "expires_at": expires_at,
    }
    kinds = asked.ticket_types()
    tickets = [
        Ticket(
            ticket_type_id=kind.id,
            code=new_ticket_code(),
            unit_price_minor=kind.price_minor,
            checked_in_at=None,
            # What the answer shows of the type, at hand: no need to read it.
            ticket_type=TicketType(id=kind.id, name=kind.name),
        )
        for kind in kinds
    ]
    values = [{name: getattr(t, name) for name in repository.TICKET_VALUES} for t in tickets]
    try:
        booking_id = await repository.insert_booking(session, row, values)
    except IntegrityError as error:
        # The unique index on active bookings answers "one per attendee", for an earlier booking
        # and for a concurrent request of the same attendee alike; no SELECT first. Our seat
        # change rolls back with this transaction.
        raise _already_booked() from error
    for ticket in tickets:
        ticket.booking_id = booking_id
    # The answer's object, outside the session: nothing more will be written through it.
    return Booking(id=booking_id, **row, event=event, tickets=tickets)


def _already_booked() -> AlreadyBooked:
    return AlreadyBooked("you already have a booking for this event; cancel it to book again")


# The event as it is now, whether the attendee may see it and whether they already hold an active
# booking for it (a hold past its end is none: it ends when this booking comes).
_LOOK = policy.EVENT.add_columns(
    policy.READABLE.label("readable"),
    exists()
    .where(
        Booking.event_id == Event.id,
        Booking.user_id == bindparam("user_id"),
        Booking.active.is_(True),
        or_(Booking.status.not_in(HOLD_STATUSES), Booking.expires_at > bindparam("now")),
    )
    .label("holding"),
)


async def _look(
    session: AsyncSession, attendee: User, event_id: int, now: datetime
) -> Row[Event, bool, bool] | None:
    """The event as it is now (None if gone), whether the attendee may see it and whether they
    hold a booking for it."""
    asked = {"event_id": event_id, "user_id": attendee.id, "now": now, **policy.viewer(attendee)}
    return (await session.execute(_LOOK, asked)).one_or_none()


def _refusal(
    found: Row[Event, bool, bool] | None, event_id: int, now: datetime
) -> DomainError | None:
    """What refuses any booking of the event as `_look` found it; None if it is bookable. A
    booking the attendee already holds comes first: it is the answer whether or not seats are
    left."""
    if found is not None and found.holding:
        return _already_booked()
    if found is None or not found.readable:
        return NotFound(f"there is no event {event_id}")
    if not seats.is_bookable(found.Event, now):
        return _not_bookable(found.Event)
    return None


async def _refusal_of(
    session: AsyncSession,
    found: Row[Event, bool, bool] | None,
    event_id: int,
    asked: Order,
    now: datetime,
) -> DomainError | None:
    """Why the event, as `_look` found it, cannot take this order; None if it can. Raises
    _TermsChanged if the order was priced from ticket types that are no longer the event's."""
    refusal = _refusal(found, event_id, now)
    if refusal is not None or found is None:
        return refusal
    event = found.Event
    if event.catalogue_version != asked.version:
        raise _TermsChanged
    quota_room = await seats.room(session, asked.claim) if asked.claim.quotas else {}
    if quota_room.keys() != asked.claim.quotas.keys():
        # A quota was deleted after the event was read (no lock is held here): changed terms.
        raise _TermsChanged
    return _sold_out(event, asked, quota_room)


def _lost_race(found: Row[Event, bool, bool] | None) -> SoldOut:
    """Seats came free after our UPDATE found none: this attempt lost its race all the same."""
    return SoldOut(
        "the seats went while you asked; try again, or send join_waitlist=true to wait in line",
        seats_available=None if found is None else found.Event.seats_available,
    )


def _sold_out(event: Event, asked: Order, quota_room: dict[int, int]) -> SoldOut | None:
    """The refusal of an order that does not fit what the event and its quotas have left (or
    that would jump the waiting list), naming the first line that runs out; None if it fits."""
    if event.waitlist_count:
        kind = asked.lines[0].kind
        return SoldOut(
            f"{event.waitlist_count} bookings are waiting for seats; send join_waitlist=true "
            "to wait in line",
            seats_available=_available(event, kind, quota_room),
            ticket_type_id=kind.id,
        )
    event_left = event.seats_available
    room = dict(quota_room)
    for line in asked.lines:
        available = _available(event, line.kind, quota_room)
        event_left -= line.quantity
        for quota_id in line.kind.quota_ids:
            room[quota_id] -= line.quantity
        if event_left < 0 or any(room[quota_id] < 0 for quota_id in line.kind.quota_ids):
            return SoldOut(
                f"only {available} seats left, {line.quantity} asked ({line.kind.name}); "
                "send join_waitlist=true to wait in line",
                seats_available=available,
                ticket_type_id=line.kind.id,
            )
    return None


def _available(event: Event, kind: TypeTerms, quota_room: dict[int, int]) -> int:
    """What is left of a ticket type: the least of the event's seats and its quotas'."""
    return max(0, min([event.seats_available, *(quota_room[q] for q in kind.quota_ids)]))


async def get(session: AsyncSession, booking_id: int) -> Booking:
    return (await session.scalars(repository.by_id(booking_id))).one()


async def get_visible(session: AsyncSession, booking_id: int, viewer: User) -> Booking:
    """Holder, the event's organizer and admins see a booking; for anyone else it does not exist."""
    readable = repository.readable(viewer).where(Booking.id == booking_id)
    booking = (await session.scalars(readable)).one_or_none()
    if booking is None:
        raise NotFound(f"there is no booking {booking_id}")
    return booking


def ticket_of(booking: Booking, code: str) -> Ticket:
    """One of the booking's tickets by its code, typed as a person would."""
    wanted = normalize(code)
    for ticket in booking.tickets:
        if ticket.code == wanted:
            return ticket
    raise NotFound(f"booking {booking.id} has no ticket {code}")


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
    return await paginate_scalars(session, query, page)


async def recent_of_user(session: AsyncSession, user_id: int, limit: int) -> Sequence[Booking]:
    return (await session.scalars(repository.of_user(user_id).limit(limit))).all()


async def cancel(session: AsyncSession, booking: Booking, actor: User) -> Booking:
    """Cancels a booking its holder or an admin can see, refunding what was paid; the booking as
    it is afterwards."""
    if actor.role is not Role.ADMIN and booking.user_id != actor.id:
        raise Forbidden("only the booking's holder or an admin may cancel it")
    if booking.status in ENDED_STATUSES:
        return booking
    now = utcnow()
    if booking.event.starts_at <= now:
        raise EventStarted("the event has started; its bookings can no longer be cancelled")
    paid = booking.status is BookingStatus.CONFIRMED and booking.total_price_minor > 0
    if paid and actor.role is not Role.ADMIN and booking.event.cancellable_until <= now:
        raise CancellationClosed("the event's cancellation deadline has passed")
    if await _release(session, booking.id, booking.event_id) and booking.user_id != actor.id:
        await record(
            session,
            AuditAction.BOOKING_CANCELLED_BY_ADMIN,
            actor_id=actor.id,
            target_id=booking.id,
            event_id=booking.event_id,
            holder_id=booking.user_id,
        )
    return await get(session, booking.id)


async def cancel_upcoming_of_user(session: AsyncSession, user_id: int) -> list[int]:
    """A banned user's bookings for events still to come, refunded; their seats go to the
    waiting lists."""
    upcoming = await session.execute(_upcoming_of_user(user_id))
    cancelled: list[int] = []
    for booking_id, event_id in upcoming.all():
        if await _release(session, booking_id, event_id):
            cancelled.append(booking_id)
    return cancelled


async def upcoming_events_of_user(session: AsyncSession, user_id: int) -> list[int]:
    """The events whose rows `cancel_upcoming_of_user` would lock, in that order."""
    found = await session.execute(_upcoming_of_user(user_id))
    return [event_id for _, event_id in found.all()]


def _upcoming_of_user(user_id: int) -> Select[int, int]:
    """A user's active bookings of events still to come, with their events."""
    return (
        select(Booking.id, Booking.event_id)
        .join(Event, Event.id == Booking.event_id)
        .where(Booking.user_id == user_id, Booking.active.is_(True), Event.starts_at > utcnow())
        # Locks in event-id order, so two such sweeps cannot deadlock each other.
        .order_by(Booking.event_id)
    )


async def all_of_user(session: AsyncSession, user_id: int) -> Sequence[Booking]:
    """Every booking the user ever made, newest first (their data export)."""
    return (await session.scalars(repository.of_user(user_id))).all()


async def _release(session: AsyncSession, booking_id: int, event_id: int) -> bool:
    """Cancels the booking if it is still active, refunds it, serves the waiting list, and
    tells its holder and those served; whether it was still active."""
    await seats.lock_event(session, event_id)
    released = await seats.release(session, booking_id)
    if released is None:
        return False
    # Told before those it makes room for: the outbox is the line's history, in order.
    await outbox.booking_cancelled(session, released)
    await tell_webhooks(session, event_id, Hook.BOOKING_CANCELLED, [booking_id])
    await refunds.refund_booking(session, released, RefundReason.CANCELLED)
    await serve_waitlist(session, event_id)
    return True


async def accept_offer(session: AsyncSession, booking: Booking, holder: User) -> Booking:
    """The holder takes the seats offered: confirmed if free, else pending until paid."""
    offer = await _current_offer(session, booking, holder)
    event = offer.event
    if offer.total_price_minor == 0:
        await seats.settle_hold(session, offer)
        accepted = await get(session, offer.id)
        await outbox.booking_confirmed(session, accepted)
        await tell_webhooks(session, accepted.event_id, Hook.BOOKING_CONFIRMED, [accepted.id])
        return accepted
    until = min(utcnow() + timedelta(minutes=event.hold_minutes), event.starts_at)
    await seats.settle_hold(session, offer, pending_until=until)
    accepted = await get(session, offer.id)
    await outbox.booking_pending(session, accepted)
    await tell_webhooks(session, accepted.event_id, Hook.BOOKING_PENDING, [accepted.id])
    return accepted


async def decline_offer(session: AsyncSession, booking: Booking, holder: User) -> Booking:
    """The holder lets the seats offered go: they pass to the next in line at once."""
    offer = await _current_offer(session, booking, holder)
    await _release(session, offer.id, offer.event_id)
    return await get(session, offer.id)


async def _current_offer(session: AsyncSession, booking: Booking, holder: User) -> Booking:
    """The booking, still an open offer, with the event's row lock held and expired holds
    reclaimed (this offer's among them if its time is up)."""
    if booking.user_id != holder.id:
        raise Forbidden("only the booking's holder may answer its offer")
    await reclaim(session, booking.event_id, utcnow())
    current = await get(session, booking.id)
    refusal: DomainError | None = None
    if current.status is BookingStatus.EXPIRED:
        refusal = OfferExpired("this offer has ended; its seats went to the next in line")
    elif current.status is not BookingStatus.OFFERED:
        refusal = BookingNotPending(f"this booking is {current.status.value}; it holds no offer")
    if refusal is not None:
        # The holds that ended above (this offer's, maybe) stay ended.
        refusal.keeps_changes = True
        raise refusal
    return current


async def guest_list(
    session: AsyncSession, event: Event, status: BookingStatus | None, page: PageParams | None
) -> tuple[Sequence[tuple[Booking, User]], int]:
    statuses = (status,) if status is not None else ACTIVE_STATUSES
    rows, total = await paginate(session, repository.guests(event.id, statuses), page)
    return [(booking, user) for booking, user in rows], total
