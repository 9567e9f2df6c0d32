"""Event rules: who may see and change an event, its life cycle, and what a change must respect."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.audit import AuditAction, record
from boxoffice.bookings import seats
from boxoffice.bookings import service as bookings
from boxoffice.catalogue import service as catalogue
from boxoffice.db import changed_one, paginate, utcnow
from boxoffice.door import service as door
from boxoffice.errors import Forbidden, InvalidTransition, NotAuthenticated, NotFound, Unprocessable
from boxoffice.events import policy, repository
from boxoffice.events.errors import CapacityBelowBooked, EventNotEditable
from boxoffice.events.models import Event, EventStatus, update_event
from boxoffice.events.schemas import EventCreate, EventFilters, EventRead
from boxoffice.notifications import outbox
from boxoffice.payments import refunds
from boxoffice.schemas import PageParams
from boxoffice.settings import Settings
from boxoffice.users.models import Role, User
from boxoffice.webhooks import outbox as hooks
from boxoffice.webhooks.models import WebhookEventType as Hook

_DEFAULT_CURRENCY: str = Settings.model_fields["default_currency"].default

# The life cycle, in one place: draft -> published -> cancelled, and draft -> cancelled.
_NEXT_STATUSES = {
    EventStatus.DRAFT: {EventStatus.PUBLISHED, EventStatus.CANCELLED},
    EventStatus.PUBLISHED: {EventStatus.CANCELLED},
    EventStatus.CANCELLED: set(),
}


def invalid_field(field: str, message: str) -> Unprocessable:
    return Unprocessable(f"{field}: {message}", errors=[{"loc": ["body", field], "msg": message}])


def _check_times(starts_at: datetime, ends_at: datetime | None, *, starts_changed: bool) -> None:
    if starts_changed and starts_at <= utcnow():
        raise invalid_field("starts_at", "must be in the future")
    if ends_at is not None and ends_at <= starts_at:
        raise invalid_field("ends_at", "must be after starts_at")


async def create(session: AsyncSession, organizer: User, data: EventCreate) -> Event:
    """A new event with its ticket types (the ones asked for, or the default one): every event
    sells at least one."""
    _check_times(data.starts_at, data.ends_at, starts_changed=True)
    event = Event(
        organizer_id=organizer.id,
        seats_booked=0,
        waitlist_count=0,
        currency=data.currency or _default_currency(session),
        has_webhooks=hooks.covers_new_event(organizer.id),
        **data.model_dump(exclude={"currency", "ticket_types"}),
    )
    session.add(event)
    await session.flush()
    ticket_types = data.ticket_types or [catalogue.DEFAULT_TICKET_TYPE]
    await catalogue.create_for_event(session, event, ticket_types)
    door.add_main_entrance(session, event.id)
    await session.flush()
    return await _reload(session, event.id)


def _default_currency(session: AsyncSession) -> str:
    """BOXOFFICE_DEFAULT_CURRENCY, from the settings the session's maker was given."""
    settings = session.info.get("settings")
    return settings.default_currency if settings is not None else _DEFAULT_CURRENCY


# An event as the API shows it, but for its catalogue: each read's stored fields, by name.
_STORED_FIELDS = tuple(
    name for name in EventRead.model_fields if name not in ("ticket_types", "price_from")
)


async def shown(
    session: AsyncSession, events: Sequence[Event | Row[Any]], viewer: User | None
) -> list[EventRead]:
    """Events (or rows of a listing) as this viewer sees them, each with the ticket types the
    viewer may see: one statement reads the types of them all."""
    catalogues = await catalogue.shown(session, events, viewer)
    return [
        EventRead.model_validate(_stored_fields(event) | catalogues[event.id]._asdict())
        for event in events
    ]


def _stored_fields(event: Event | Row[Any]) -> dict[str, Any]:
    if isinstance(event, Row):
        # A listing's row holds exactly what is shown (events.repository._SHOWN), and more.
        return event._asdict()
    return {name: getattr(event, name) for name in _STORED_FIELDS}


async def read(session: AsyncSession, event: Event, viewer: User | None) -> EventRead:
    """One event as this viewer sees it."""
    (event_read,) = await shown(session, [event], viewer)
    return event_read


async def get_visible(session: AsyncSession, event_id: int, viewer: User | None) -> Event:
    """The event if this viewer may read it; 404 otherwise, so that drafts cannot be probed."""
    event, _ = await _visible(session, event_id, viewer)
    return event


async def get_managed(session: AsyncSession, event_id: int, user: User) -> Event:
    """The event if this user owns it or is an admin; 403 for others who may see it."""
    event, managed = await _visible(session, event_id, user)
    if not managed:
        raise Forbidden("only the event's organizer or an admin may do this")
    return event


async def _visible(session: AsyncSession, event_id: int, viewer: User | None) -> tuple[Event, bool]:
    asked = {"event_id": event_id, **policy.viewer(viewer)}
    found = (await session.execute(repository.VISIBLE, asked)).one_or_none()
    if found is None:
        raise NotFound(f"there is no event {event_id}")
    # NULL for an anonymous viewer, who manages nothing.
    return found.Event, bool(found.managed)


async def list_events(
    session: AsyncSession, filters: EventFilters, page: PageParams, viewer: User | None
) -> tuple[list[EventRead], int]:
    """A page of events as this viewer sees them, and the total."""
    owner = None
    if filters.mine:
        if viewer is None:
            raise NotAuthenticated("mine=true lists your own events: log in as an organizer")
        if viewer.role not in (Role.ORGANIZER, Role.ADMIN):
            raise Forbidden("mine=true lists an organizer's own events; log in as one")
        owner = viewer
    elif filters.status is not None:
        raise Unprocessable(
            "status filters your own events: use it with mine=true",
            errors=[{"loc": ["query", "status"], "msg": "only together with mine=true"}],
        )
    query = repository.listing(filters, now=utcnow(), owner=owner)
    rows, total = await paginate(session, repository.shown(query), page, counting=query)
    return await shown(session, rows, viewer), total


async def edit(session: AsyncSession, event: Event, changes: dict[str, object]) -> Event:
    # Under the row lock, so that a cancel or delete racing this edit cannot slip in between.
    event = await _locked(session, event.id)
    if event.status is EventStatus.CANCELLED:
        raise EventNotEditable("a cancelled event cannot be edited")
    starts_at = changes.get("starts_at", event.starts_at)
    ends_at = changes.get("ends_at", event.ends_at)
    assert isinstance(starts_at, datetime)
    assert ends_at is None or isinstance(ends_at, datetime)
    _check_times(starts_at, ends_at, starts_changed="starts_at" in changes)
    capacity = changes.pop("capacity", None)
    previous_capacity = event.capacity
    # Read before the UPDATE: the reload below refreshes this same object.
    before = outbox.noteworthy(event)
    if changes:
        await session.execute(update_event(event.id).values(**changes, updated_at=utcnow()))
    if isinstance(capacity, int) and capacity != previous_capacity:
        await _change_capacity(session, event, capacity)
        if capacity > previous_capacity:
            await bookings.serve_waitlist(session, event.id)
    edited = await _reload(session, event.id)
    await outbox.event_changed(session, edited, before)
    await _hook(session, Hook.EVENT_CHANGED, edited)
    return edited


async def _change_capacity(session: AsyncSession, event: Event, capacity: int) -> None:
    # Conditional on the live seat count: a booking that lands meanwhile is not squeezed out.
    changed = await changed_one(
        session,
        update_event(event.id)
        .where(Event.seats_booked + Event.seats_held <= capacity)
        .values(capacity=capacity, updated_at=utcnow()),
    )
    if not changed:
        current = await _reload(session, event.id)
        raise CapacityBelowBooked(
            f"{current.seats_booked} seats are already booked; capacity cannot go below that",
            seats_booked=current.seats_booked,
        )


async def publish(session: AsyncSession, event: Event) -> Event:
    published, moved = await _transition(session, event, EventStatus.PUBLISHED)
    if moved:
        await _hook(session, Hook.EVENT_PUBLISHED, published)
    return published


async def cancel(session: AsyncSession, event: Event, actor: User) -> Event:
    cancelled, moved = await _transition(session, event, EventStatus.CANCELLED)
    # Only the transaction that cancelled the event sweeps and audits; a racing one found it done.
    if moved:
        # The status change holds the event's row lock, as the ledger requires. The holders are
        # told first: the message goes to every booking that is still active.
        await outbox.event_cancelled(session, event.id)
        await _hook(session, Hook.EVENT_CANCELLED, cancelled)
        await refunds.refund_event(session, event.id)
        await seats.release_all(session, event.id)
        await _audit(session, actor, AuditAction.EVENT_CANCELLED, cancelled)
    return cancelled


async def delete(session: AsyncSession, event: Event, actor: User) -> None:
    """Soft delete: the event leaves every listing, its history (and its bookings') stays."""
    # The row lock first, so that no booking lands between looking at the seats and hiding the
    # event; a racing delete waits here and then finds nothing to delete (404).
    current = await _locked(session, event.id)
    if current.seats_booked or current.seats_held or current.waitlist_count:
        await cancel(session, current, actor)
    else:
        # Nothing active to cancel, but an ended hold may still have money under way: it ends
        # with the event, as in a cancellation.
        await refunds.refund_event(session, event.id)
    await session.execute(update_event(event.id).values(deleted_at=utcnow(), updated_at=utcnow()))
    await _audit(session, actor, AuditAction.EVENT_DELETED, current)


async def _hook(session: AsyncSession, kind: Hook, event: Event) -> None:
    """Tells the event's webhooks, if it has any; as its organizer sees it (`event` as
    `_reload` gives it, with its organizer)."""
    if hooks.wanted(event):
        await hooks.write(session, event, kind, await read(session, event, event.organizer))


async def _audit(session: AsyncSession, actor: User, action: AuditAction, event: Event) -> None:
    await record(session, action, actor_id=actor.id, target_id=event.id, title=event.title)


async def _transition(
    session: AsyncSession, event: Event, target: EventStatus
) -> tuple[Event, bool]:
    """Moves the event to `target`; the event as it is now, and whether this call moved it."""
    if event.status is target:
        return event, False
    if target not in _NEXT_STATUSES[event.status]:
        raise InvalidTransition(f"a {event.status.value} event cannot become {target.value}")
    # Conditional on the status we checked, so two racing transitions cannot both apply.
    moved = await changed_one(
        session,
        update_event(event.id)
        .where(Event.status == event.status)
        .values(status=target, updated_at=utcnow()),
    )
    if not moved:
        return await _transition(session, await _reload(session, event.id), target)
    return await _reload(session, event.id), True


async def _locked(session: AsyncSession, event_id: int) -> Event:
    """Takes the event's row lock until the transaction ends; the event as stored then. A racing
    delete that got there first makes it 404."""
    event = await seats.lock_event(session, event_id)
    if event is None:
        raise NotFound(f"there is no event {event_id}")
    return event


async def _reload(session: AsyncSession, event_id: int) -> Event:
    """The event as stored now; a racing delete makes it 404, not a server error."""
    event = (await session.scalars(repository.WITH_ORGANIZER, {"event_id": event_id})).one_or_none()
    if event is None:
        raise NotFound(f"there is no event {event_id}")
    return event


async def recent_of_organizer(
    session: AsyncSession, organizer_id: int, limit: int, viewer: User
) -> list[EventRead]:
    """The latest events someone organizes, of every status but deleted, newest first, as the
    viewer sees them."""
    found = await session.scalars(
        repository.with_organizer(
            select(Event).where(Event.organizer_id == organizer_id, Event.deleted_at.is_(None))
        )
        .order_by(Event.id.desc())
        .limit(limit)
    )
    return await shown(session, found.all(), viewer)


async def upcoming_of_organizer(session: AsyncSession, organizer_id: int) -> list[int]:
    """The ids of someone's events still to come that anyone could book or wait for (drafts
    included: they may yet be published), in id order, the order their locks are taken."""
    found = await session.scalars(
        select(Event.id)
        .where(
            Event.organizer_id == organizer_id,
            Event.deleted_at.is_(None),
            Event.status.in_((EventStatus.DRAFT, EventStatus.PUBLISHED)),
            Event.starts_at > utcnow(),
        )
        .order_by(Event.id)
    )
    return list(found)


async def all_of_organizer(session: AsyncSession, organizer_id: int) -> Sequence[Event]:
    """Every event someone organizes or organized, deleted ones too (their data export)."""
    found = await session.scalars(
        select(Event).where(Event.organizer_id == organizer_id).order_by(Event.id)
    )
    return found.all()
