"""The door's SQL: tickets by code, where they are, and a list's counts."""

from collections.abc import Collection
from datetime import datetime
from typing import Any, TypeVarTuple, cast

from sqlalchemy import Select, Table, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.bookings.models import Booking, BookingStatus, Ticket
from boxoffice.catalogue.models import TicketType
from boxoffice.db import RowLock, UTCDateTime
from boxoffice.door.judge import DoorTicket
from boxoffice.door.models import CheckInList, Presence
from boxoffice.users.models import User

Row = TypeVarTuple("Row")

LOCK_LIST = RowLock(CheckInList.allow_reentry, CheckInList.id == bindparam("list_id"))

_tickets, _bookings = cast(Table, Ticket.__table__), cast(Table, Booking.__table__)
# First entries through any list ({"ticket"|"booking", "at", "now"}): the first one is kept.
FIRST_ENTRY_OF_TICKET = (
    update(_tickets)
    .where(_tickets.c.id == bindparam("ticket"), _tickets.c.checked_in_at.is_(None))
    .values(checked_in_at=bindparam("at"))
)
# A booking's row changes with any of its tickets' first entries, so that an offline download
# of the changes since then carries the ticket.
FIRST_ENTRY_OF_BOOKING = (
    update(_bookings)
    .where(_bookings.c.id == bindparam("booking"))
    .values(
        checked_in_at=func.coalesce(
            _bookings.c.checked_in_at, bindparam("at", type_=UTCDateTime())
        ),
        updated_at=bindparam("now"),
    )
)

_DOOR_TICKET = (
    select(
        Ticket.id,
        Ticket.code,
        Ticket.booking_id,
        Booking.ticket_code.label("booking_code"),
        Ticket.ticket_type_id,
        TicketType.name.label("ticket_type"),
        User.full_name.label("holder_name"),
        Booking.status,
        Ticket.checked_in_at,
    )
    .join(Booking, Booking.id == Ticket.booking_id)
    .join(TicketType, TicketType.id == Ticket.ticket_type_id)
    .join(User, User.id == Booking.user_id)
)


async def tickets_by_code(
    session: AsyncSession, event_id: int, codes: Collection[str]
) -> dict[str, list[DoorTicket]]:
    """The event's tickets each code names: a ticket's own code names it, a booking's code
    names every ticket of the booking."""
    rows = await session.execute(
        _DOOR_TICKET.where(
            Booking.event_id == event_id,
            or_(Ticket.code.in_(codes), Booking.ticket_code.in_(codes)),
        ).order_by(Ticket.id)
    )
    named: dict[str, list[DoorTicket]] = {}
    for row in rows:
        ticket = DoorTicket(*row)
        for code in {ticket.code, ticket.booking_code} & set(codes):
            named.setdefault(code, []).append(ticket)
    return named


def door_tickets(door: CheckInList, changed_since: datetime | None) -> Select[*tuple[Any, ...]]:
    """Every ticket of the types the list admits, with whether it is inside through the list,
    for an offline scanner; only those changed since then if asked (the booking, or a scan on
    this list)."""
    query = (
        _DOOR_TICKET.add_columns(func.coalesce(Presence.inside, False).label("inside"))
        .outerjoin(
            Presence,
            (Presence.ticket_id == Ticket.id) & (Presence.check_in_list_id == door.id),
        )
        .where(Booking.event_id == door.event_id)
        .order_by(Ticket.id)
    )
    query = _of_types_admitted(query, door)
    if changed_since is not None:
        query = query.where(
            or_(
                Booking.updated_at >= changed_since,
                # Written by a process of the version before: when is not known.
                Booking.updated_at.is_(None),
                Presence.changed_at >= changed_since,
            )
        )
    return query


async def tickets_by_id(
    session: AsyncSession, ids: Collection[int | None]
) -> dict[int, DoorTicket]:
    wanted = [ticket_id for ticket_id in ids if ticket_id is not None]
    if not wanted:
        return {}
    rows = await session.execute(_DOOR_TICKET.where(Ticket.id.in_(wanted)))
    return {row.id: DoorTicket(*row) for row in rows}


async def presence_of(
    session: AsyncSession, list_id: int, ticket_ids: Collection[int]
) -> dict[int, Presence]:
    found = await session.scalars(
        select(Presence).where(
            Presence.check_in_list_id == list_id, Presence.ticket_id.in_(ticket_ids)
        )
    )
    return {presence.ticket_id: presence for presence in found}


async def counts(
    session: AsyncSession, lists: Collection[CheckInList]
) -> dict[int, tuple[int, int, int]]:
    """Each list's (tickets, checked in, inside), one statement a list: confirmed tickets of
    the types it admits, those of them that came in through it, and those inside now."""
    found: dict[int, tuple[int, int, int]] = {}
    for door in lists:
        came_in = (
            (Presence.ticket_id == Ticket.id)
            & (Presence.check_in_list_id == door.id)
            & (Presence.entries > 0)
        )
        inside = select(func.count()).where(
            Presence.check_in_list_id == door.id, Presence.inside.is_(True)
        )
        counted = _of_types_admitted(
            select(func.count(Ticket.id), func.count(Presence.ticket_id), inside.scalar_subquery())
            .join(Booking, Booking.id == Ticket.booking_id)
            .outerjoin(Presence, came_in)
            .where(Booking.event_id == door.event_id, Booking.status == BookingStatus.CONFIRMED),
            door,
        )
        tickets, checked_in, now_inside = (await session.execute(counted)).one()
        found[door.id] = (tickets, checked_in, now_inside)
    return found


def _of_types_admitted(query: Select[*Row], door: CheckInList) -> Select[*Row]:
    if not door.ticket_types:
        return query
    return query.where(Ticket.ticket_type_id.in_([kind.id for kind in door.ticket_types]))
