"""The queries behind event listings: one statement builder, so EXPLAIN sees what the API runs."""

from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import joinedload

from boxoffice.events import policy
from boxoffice.events.models import Event, EventStatus
from boxoffice.events.schemas import EventFilters
from boxoffice.users.models import User

_ORDER = {
    "starts_at": (Event.starts_at.asc(), Event.id.asc()),
    "-starts_at": (Event.starts_at.desc(), Event.id.desc()),
    "created_at": (Event.created_at.asc(), Event.id.asc()),
    "-created_at": (Event.created_at.desc(), Event.id.desc()),
}
# ix_events_listing is (status, deleted_at, starts_at, id). PostgreSQL's planner takes
# `status = 'published'` as a constant but not `deleted_at IS NULL`, so the index gives the public
# listing its order (rather than a sort of every upcoming event per page) only when the ORDER BY
# names deleted_at too. It is NULL in every listed row, so the order of the results is the same.
_PUBLIC_ORDER = _ORDER | {
    "starts_at": (Event.deleted_at.asc(), *_ORDER["starts_at"]),
    "-starts_at": (Event.deleted_at.desc(), *_ORDER["-starts_at"]),
}


def readable(viewer: User | None) -> Select[Event]:
    """The events this viewer may see: never deleted ones, drafts only their organizer's and the
    admins'."""
    return select(Event).where(policy.READABLE).params(policy.viewer(viewer))


def listing(filters: EventFilters, *, now: datetime, owner: User | None) -> Select[Event]:
    """Events matching the filters, in a stable order (the id breaks ties).

    With `owner`, the owner's own events that they may see, of every status; otherwise published
    ones only. Those are everyone's to see, and the rule stays out of that WHERE: it reads the
    organizer, which would make the listing's count read every row rather than the index alone.
    """
    if owner is not None:
        query = readable(owner).where(Event.organizer_id == owner.id)
        if filters.status is not None:
            query = query.where(Event.status == filters.status)
    else:
        query = select(Event).where(
            Event.deleted_at.is_(None), Event.status == EventStatus.PUBLISHED
        )
    if filters.q:
        query = query.where(
            or_(
                Event.title.icontains(filters.q, autoescape=True),
                Event.description.icontains(filters.q, autoescape=True),
                Event.location.icontains(filters.q, autoescape=True),
            )
        )
    if filters.location:
        query = query.where(Event.location.icontains(filters.location, autoescape=True))
    if filters.organizer_id is not None:
        query = query.where(Event.organizer_id == filters.organizer_id)
    if filters.upcoming_only:
        query = query.where(Event.starts_at > now)
    if filters.starts_after is not None:
        query = query.where(Event.starts_at >= filters.starts_after)
    if filters.starts_before is not None:
        query = query.where(Event.starts_at < filters.starts_before)
    return query.order_by(*(_ORDER if owner is not None else _PUBLIC_ORDER)[filters.sort])


# What a listing shows of each event (EventRead's fields), read as plain columns: no ORM object,
# identity map or instrumented attribute per row, which cost a page of twenty more CPU than
# PostgreSQL spent finding it.
_SHOWN = (
    *Event.__table__.columns,
    (Event.capacity - Event.seats_booked - Event.seats_held).label("seats_available"),
    User.full_name.label("organizer_name"),
)


def shown(query: Select[Event]) -> Select[Any]:
    """A listing query's rows as the API shows them, organizer name included."""
    return query.with_only_columns(*_SHOWN).join(User, User.id == Event.organizer_id)


def with_organizer(query: Select[Event]) -> Select[Event]:
    return query.options(joinedload(Event.organizer))


# The event with its organizer, for the answer: built once, like every statement below.
WITH_ORGANIZER = policy.EVENT.options(joinedload(Event.organizer))

# The event if the viewer may see it (none otherwise), and whether they manage it, in one read.
# The parameters: {"event_id": ..., **policy.viewer(user)}.
VISIBLE = WITH_ORGANIZER.add_columns(policy.MANAGES.label("managed")).where(policy.READABLE)
