"""Catalogue rules: an event's ticket types and quotas, who sees which type, what each has left,
and what a change must respect.

Every change takes the event's row lock first (`seats.lock_event`, the ledger's lock order), so
that no booking takes seats between a check here and the write after it, then tells the ledger
(`seats.catalogue_changed`), so that no booking priced from the catalogue as it was can take
seats. A change that can make room (a quota created, grown, given fewer types or deleted) serves
the waiting list in the same transaction.
"""

import itertools
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple, Protocol, cast

from sqlalchemy import Row, delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.bookings import seats
from boxoffice.bookings import service as bookings
from boxoffice.catalogue import money, repository, terms
from boxoffice.catalogue.errors import LastTicketType, QuotaBelowTaken, TicketTypeInUse
from boxoffice.catalogue.models import DEFAULT_TYPE_NAME, Quota, TicketType
from boxoffice.catalogue.schemas import (
    MAX_QUOTAS,
    MAX_TICKET_TYPES,
    QuotaCreate,
    QuotaRead,
    TicketTypeCreate,
    TicketTypeFields,
    TicketTypeRead,
)
from boxoffice.db import utcnow
from boxoffice.errors import NotFound, Unprocessable
from boxoffice.events import policy
from boxoffice.events.errors import EventNotEditable
from boxoffice.events.models import Event, EventStatus
from boxoffice.users.models import User

# What an event sells when its organizer names nothing else (SPEC §9), as migration 0004 gave
# every event that existed before ticket types (catalogue.models.general_admission).
DEFAULT_TICKET_TYPE = TicketTypeCreate(name=DEFAULT_TYPE_NAME, price="0")

Loc = tuple[str | int, ...]
# A row of the catalogue's statements: plain columns.
Columns = Row[*tuple[Any, ...]]


class EventFacts(Protocol):
    """What showing an event's ticket types reads of it: an Event, or a row of the events
    listing (which carries every column of the event, and `seats_available`)."""

    @property
    def id(self) -> int: ...
    @property
    def organizer_id(self) -> int: ...
    @property
    def currency(self) -> str: ...
    @property
    def seats_available(self) -> int: ...
    @property
    def status(self) -> EventStatus: ...
    @property
    def starts_at(self) -> datetime: ...
    @property
    def deleted_at(self) -> datetime | None: ...


class Catalogue(NamedTuple):
    """An event's ticket types as one caller may see them, and the lowest of their prices."""

    ticket_types: list[TicketTypeRead]
    price_from: str | None


# -- reading ------------------------------------------------------------------------------------


async def shown(
    session: AsyncSession,
    events: Sequence[EventFacts],
    viewer: User | None,
    *,
    access_code: str | None = None,
) -> dict[int, Catalogue]:
    """The catalogue of each event as this viewer may see it, in one statement for them all:
    hidden types only for the event's organizer and admins, or with their access code."""
    managed = {event.id for event in events if policy.manages(viewer, event.organizer_id)}
    return await _shown(session, events, managed, access_code)


async def list_types(
    session: AsyncSession, event: EventFacts, viewer: User | None, access_code: str | None
) -> list[TicketTypeRead]:
    catalogue = await shown(session, [event], viewer, access_code=access_code)
    return catalogue[event.id].ticket_types


async def _shown(
    session: AsyncSession,
    events: Sequence[EventFacts],
    managed: Collection[int],
    access_code: str | None,
) -> dict[int, Catalogue]:
    if not events:
        return {}
    found: dict[int, list[TicketTypeRead]] = {event.id: [] for event in events}
    # With a code, every hidden type of these events is read, and the code picks them below, in
    # Python (terms.unlocks, as for a booking): MariaDB's comparison would ignore case.
    unfiltered = set(found) if access_code is not None else set(managed)
    rows = await session.execute(
        repository.TYPES_WITH_QUOTAS,
        {"event_ids": list(found), "unfiltered_ids": list(unfiltered)},
    )
    by_id = {event.id: event for event in events}
    prices: dict[int, list[int]] = {event.id: [] for event in events}
    now = utcnow()
    # Ordered by event and type: the rows of one type (one per quota) come together.
    for _, group in itertools.groupby(rows, key=lambda row: row.id):
        type_rows = list(group)
        row = type_rows[0]
        event = by_id[row.event_id]
        managing = row.event_id in managed
        if row.hidden and not (managing or terms.unlocks(access_code, row.access_code)):
            continue
        quotas = [(r.quota_id, r.quota_left) for r in type_rows if r.quota_id is not None]
        found[row.event_id].append(_read(row, quotas, event, managing, now))
        prices[row.event_id].append(row.price_minor)
    return {
        event_id: Catalogue(
            types,
            money.to_decimal_string(min(prices[event_id]), by_id[event_id].currency)
            if prices[event_id]
            else None,
        )
        for event_id, types in found.items()
    }


def _read(
    row: Columns,
    quotas: list[tuple[int, int]],
    event: EventFacts,
    managing: bool,
    now: datetime,
) -> TicketTypeRead:
    left = 0
    if _on_sale(row, event, now):
        left = max(0, min([event.seats_available, *(quota_left for _, quota_left in quotas)]))
    return TicketTypeRead(
        id=row.id,
        event_id=row.event_id,
        name=row.name,
        description=row.description,
        price=money.to_decimal_string(row.price_minor, event.currency),
        min_per_booking=row.min_per_booking,
        max_per_booking=row.max_per_booking,
        sale_starts_at=row.sale_starts_at,
        sale_ends_at=row.sale_ends_at,
        hidden=row.hidden,
        access_code=row.access_code if managing else None,
        position=row.position,
        quota_ids=[quota_id for quota_id, _ in quotas],
        seats_available=left,
    )


def _on_sale(row: Columns, event: EventFacts, now: datetime) -> bool:
    # The ledger's rule reads the status, start and deletion of the event, which a listing row
    # carries as an Event does.
    if not seats.is_bookable(cast(Event, event), now):
        return False
    return terms.in_sale_window(row.sale_starts_at, row.sale_ends_at, now)


async def list_quotas(session: AsyncSession, event_id: int) -> list[QuotaRead]:
    rows = await session.execute(repository.QUOTAS_WITH_TYPES, {"event_id": event_id})
    return [_quota_read(list(group)) for _, group in itertools.groupby(rows, key=lambda r: r.id)]


def _quota_read(rows: list[Columns]) -> QuotaRead:
    first = rows[0]
    return QuotaRead(
        id=first.id,
        event_id=first.event_id,
        name=first.name,
        size=first.size,
        seats_taken=first.seats_taken,
        ticket_type_ids=[row.ticket_type_id for row in rows if row.ticket_type_id is not None],
    )


# -- ticket types -------------------------------------------------------------------------------


async def create_for_event(
    session: AsyncSession, event: Event, ticket_types: Sequence[TicketTypeCreate]
) -> None:
    """The ticket types of a new event (its creation's transaction; nobody can book it yet)."""
    for index, data in enumerate(ticket_types):
        values = _type_values(_fields_of(data), event.currency, ("body", "ticket_types", index))
        position = index if data.position is None else data.position
        session.add(TicketType(event_id=event.id, position=position, **values))


async def add_type(session: AsyncSession, event_id: int, data: TicketTypeCreate) -> TicketTypeRead:
    event = await _editable(session, event_id)
    count, next_position = (
        await session.execute(repository.TYPES_COUNT, {"event_id": event_id})
    ).one()
    if count >= MAX_TICKET_TYPES:
        raise _invalid(("body",), f"an event sells at most {MAX_TICKET_TYPES} ticket types")
    values = _type_values(_fields_of(data), event.currency, ("body",))
    position = next_position if data.position is None else data.position
    ticket_type = TicketType(event_id=event_id, position=position, **values)
    session.add(ticket_type)
    await session.flush()
    await seats.catalogue_changed(session, event_id)
    return await _one_type(session, event, ticket_type.id)


async def edit_type(
    session: AsyncSession, event_id: int, type_id: int, changes: Mapping[str, object]
) -> TicketTypeRead:
    event = await _editable(session, event_id)
    current = await _type_of(session, event_id, type_id)
    stored = {
        name: getattr(current, name) for name in TicketTypeFields.model_fields if name != "price"
    }
    stored["price"] = money.to_decimal_string(current.price_minor, event.currency)
    fields = {name: value for name, value in changes.items() if name != "position"}
    values = _type_values(stored | fields, event.currency, ("body",))
    if "position" in changes:
        values["position"] = changes["position"]
    changed = {name: value for name, value in values.items() if getattr(current, name) != value}
    if changed:
        await session.execute(update(TicketType).where(TicketType.id == type_id).values(**changed))
        await seats.catalogue_changed(session, event_id)
    return await _one_type(session, event, type_id)


async def remove_type(session: AsyncSession, event_id: int, type_id: int) -> None:
    await _editable(session, event_id)
    await _type_of(session, event_id, type_id)
    if await session.scalar(repository.TYPE_EVER_SOLD, {"type_id": type_id}):
        raise TicketTypeInUse(
            "tickets of this type were booked, so it stays in their history; "
            "hide it or end its sale instead"
        )
    if await session.scalar(repository.TYPE_ON_A_CHECK_IN_LIST, {"type_id": type_id}):
        raise TicketTypeInUse(
            "a check-in list admits only named types, this one among them: "
            "take it off the list first"
        )
    count, _ = (await session.execute(repository.TYPES_COUNT, {"event_id": event_id})).one()
    if count <= 1:
        raise LastTicketType("an event sells at least one ticket type: add another one first")
    # Sold never, so it holds no seat of any quota: the quotas' counts stay as they are.
    await session.execute(repository.REMOVE_TYPE_EVERYWHERE, {"type_id": type_id})
    await session.execute(delete(TicketType).where(TicketType.id == type_id))
    await seats.catalogue_changed(session, event_id)


def _fields_of(data: TicketTypeCreate) -> dict[str, Any]:
    return data.model_dump(exclude={"position"})


def _type_values(fields: Mapping[str, Any], currency: str, loc: Loc) -> dict[str, Any]:
    """A ticket type's columns from its API fields, or 422 for what no type may be: a price
    that is not an amount of the event's currency, a minimum above the maximum, a sale that
    ends before it starts."""
    values = {name: value for name, value in fields.items() if name != "price"}
    try:
        values["price_minor"] = money.to_minor(fields["price"], currency)
    except ValueError as error:
        raise _invalid((*loc, "price"), str(error)) from None
    if values["min_per_booking"] > values["max_per_booking"]:
        raise _invalid((*loc, "max_per_booking"), "must be at least min_per_booking")
    starts, ends = values["sale_starts_at"], values["sale_ends_at"]
    if starts is not None and ends is not None and ends <= starts:
        raise _invalid((*loc, "sale_ends_at"), "must be after sale_starts_at")
    return values


async def _one_type(session: AsyncSession, event: Event, type_id: int) -> TicketTypeRead:
    """The type as its event's organizer sees it."""
    catalogue = await _shown(session, [event], {event.id}, None)
    (found,) = (read for read in catalogue[event.id].ticket_types if read.id == type_id)
    return found


async def _type_of(session: AsyncSession, event_id: int, type_id: int) -> TicketType:
    found = await session.scalars(
        repository.TICKET_TYPE, {"event_id": event_id, "type_id": type_id}
    )
    ticket_type = found.one_or_none()
    if ticket_type is None:
        raise NotFound(f"event {event_id} has no ticket type {type_id}")
    return ticket_type


# -- quotas -------------------------------------------------------------------------------------


async def add_quota(session: AsyncSession, event_id: int, data: QuotaCreate) -> QuotaRead:
    await _editable(session, event_id)
    count = await session.scalar(repository.QUOTAS_COUNT, {"event_id": event_id})
    if (count or 0) >= MAX_QUOTAS:
        raise _invalid(("body",), f"an event has at most {MAX_QUOTAS} quotas")
    types = set(data.ticket_type_ids)
    await check_types(session, event_id, data.ticket_type_ids)
    _check_size(data.size, await _held_by(session, types))
    quota = Quota(event_id=event_id, name=data.name, size=data.size, seats_taken=0)
    session.add(quota)
    await session.flush()
    if types:
        await _add_members(session, quota.id, types)
        await seats.recount_quota(session, quota.id)
    # A new quota only limits, so the line has nothing new to gain; it is served all the same,
    # as after every change of the quotas (one read of the event when nobody waits).
    await _quotas_changed(session, event_id, made_room=True)
    return await _one_quota(session, event_id, quota.id)


async def edit_quota(
    session: AsyncSession, event_id: int, quota_id: int, changes: Mapping[str, Any]
) -> QuotaRead:
    await _editable(session, event_id)
    quota = await _quota_of(session, event_id, quota_id)
    # As stored under the lock, before any of the writes below changes the object.
    name, size, seats_taken = quota.name, quota.size, quota.seats_taken
    before = set((await session.scalars(repository.TYPES_OF_QUOTA, {"quota_id": quota_id})).all())
    after = before
    if changes.get("ticket_type_ids") is not None:
        await check_types(session, event_id, changes["ticket_type_ids"])
        after = set(changes["ticket_type_ids"])
    new_name: str = changes.get("name", name)
    new_size: int = changes.get("size", size)
    _check_size(new_size, seats_taken if after == before else await _held_by(session, after))
    if new_name != name:
        await session.execute(update(Quota).where(Quota.id == quota_id).values(name=new_name))
    # The size and the count move in the order that keeps `seats_taken <= size` true after each
    # statement (the quota's CHECK): a larger size first, a smaller one last.
    if new_size > size:
        await _resize(session, quota_id, new_size)
    if after != before:
        await session.execute(
            repository.REMOVE_MEMBERS, {"quota_id": quota_id, "type_ids": list(before - after)}
        )
        await _add_members(session, quota_id, after - before)
        await seats.recount_quota(session, quota_id)
    if new_size < size:
        await _resize(session, quota_id, new_size)
    if (new_name, new_size) != (name, size) or after != before:
        made_room = new_size > size or bool(before - after)
        await _quotas_changed(session, event_id, made_room=made_room)
    return await _one_quota(session, event_id, quota_id)


async def remove_quota(session: AsyncSession, event_id: int, quota_id: int) -> None:
    await _editable(session, event_id)
    await _quota_of(session, event_id, quota_id)
    await session.execute(repository.REMOVE_QUOTA_MEMBERS, {"quota_id": quota_id})
    await session.execute(delete(Quota).where(Quota.id == quota_id))
    await _quotas_changed(session, event_id, made_room=True)


async def check_types(session: AsyncSession, event_id: int, type_ids: Sequence[int]) -> None:
    if not type_ids:
        return
    found = set(
        (
            await session.scalars(
                repository.TYPES_OF_EVENT, {"event_id": event_id, "type_ids": list(type_ids)}
            )
        ).all()
    )
    strangers = [type_id for type_id in type_ids if type_id not in found]
    if strangers:
        raise _invalid(
            ("body", "ticket_type_ids"),
            f"ticket type {strangers[0]} is not one of event {event_id}'s",
        )


async def _held_by(session: AsyncSession, type_ids: Collection[int]) -> int:
    return await seats.seats_held_by_types(session, type_ids) if type_ids else 0


def _check_size(size: int, held: int) -> None:
    if held > size:
        raise QuotaBelowTaken(
            f"its ticket types already hold {held} seats; the size must be at least that",
            seats_taken=held,
        )


async def _add_members(session: AsyncSession, quota_id: int, type_ids: Iterable[int]) -> None:
    members = [{"quota_id": quota_id, "ticket_type_id": type_id} for type_id in sorted(type_ids)]
    if members:
        await session.execute(repository.ADD_MEMBERS, members)


async def _resize(session: AsyncSession, quota_id: int, size: int) -> None:
    await session.execute(update(Quota).where(Quota.id == quota_id).values(size=size))


async def _quotas_changed(session: AsyncSession, event_id: int, *, made_room: bool) -> None:
    await seats.catalogue_changed(session, event_id)
    if made_room:
        await bookings.serve_waitlist(session, event_id)


async def _one_quota(session: AsyncSession, event_id: int, quota_id: int) -> QuotaRead:
    (found,) = (quota for quota in await list_quotas(session, event_id) if quota.id == quota_id)
    return found


async def _quota_of(session: AsyncSession, event_id: int, quota_id: int) -> Quota:
    found = await session.scalars(repository.QUOTA, {"event_id": event_id, "quota_id": quota_id})
    quota = found.one_or_none()
    if quota is None:
        raise NotFound(f"event {event_id} has no quota {quota_id}")
    return quota


# -- both ---------------------------------------------------------------------------------------


async def _editable(session: AsyncSession, event_id: int) -> Event:
    """Takes the event's row lock; the event as stored then. A racing delete makes it 404; a
    cancelled event's catalogue is history."""
    event = await seats.lock_event(session, event_id)
    if event is None:
        raise NotFound(f"there is no event {event_id}")
    if event.status is EventStatus.CANCELLED:
        raise EventNotEditable("a cancelled event's ticket types and quotas cannot change")
    return event


def _invalid(loc: Loc, message: str) -> Unprocessable:
    where = ".".join(str(part) for part in loc)
    return Unprocessable(f"{where}: {message}", errors=[{"loc": list(loc), "msg": message}])
