"""The catalogue's queries, built once with bound parameters like the booking path's."""

from sqlalchemy import bindparam, delete, exists, func, insert, or_, select

from boxoffice.bookings.models import Ticket
from boxoffice.catalogue.models import (
    Quota,
    TicketType,
    check_in_list_ticket_types,
    quota_ticket_types,
)

# The ticket types of some events ({"event_ids": [...]}), each with every quota it counts
# against: one row per type and quota, or one row with a NULL quota for a type in none. Hidden
# types come only for the events of {"unfiltered_ids": [...]} (those whose hidden types the
# caller may see, or may unlock with a code). Plain columns, in display order: one statement for
# a whole page of events, and no ORM object per row.
TYPES_WITH_QUOTAS = (
    select(
        *(column for column in TicketType.__table__.columns if column.key != "created_at"),
        quota_ticket_types.c.quota_id,
        (Quota.size - Quota.seats_taken).label("quota_left"),
    )
    .outerjoin(quota_ticket_types, quota_ticket_types.c.ticket_type_id == TicketType.id)
    .outerjoin(Quota, Quota.id == quota_ticket_types.c.quota_id)
    .where(
        TicketType.event_id.in_(bindparam("event_ids", expanding=True)),
        or_(
            TicketType.hidden.is_(False),
            TicketType.event_id.in_(bindparam("unfiltered_ids", expanding=True)),
        ),
    )
    .order_by(
        TicketType.event_id, TicketType.position, TicketType.id, quota_ticket_types.c.quota_id
    )
)

# One ticket type of one event ({"event_id", "type_id"}), as stored now.
TICKET_TYPE = (
    select(TicketType)
    .where(TicketType.id == bindparam("type_id"), TicketType.event_id == bindparam("event_id"))
    .execution_options(populate_existing=True)
)

# How many types the event has, and the position after the last ({"event_id"}).
TYPES_COUNT = select(
    func.count(TicketType.id), func.coalesce(func.max(TicketType.position) + 1, 0)
).where(TicketType.event_id == bindparam("event_id"))

# Which of some ids ({"type_ids": [...]}) are ticket types of the event ({"event_id"}).
TYPES_OF_EVENT = select(TicketType.id).where(
    TicketType.id.in_(bindparam("type_ids", expanding=True)),
    TicketType.event_id == bindparam("event_id"),
)

# Whether any ticket, of any booking in any status, is of this type ({"type_id"}).
TYPE_EVER_SOLD = select(exists().where(Ticket.ticket_type_id == bindparam("type_id")))
TYPE_ON_A_CHECK_IN_LIST = select(
    exists().where(check_in_list_ticket_types.c.ticket_type_id == bindparam("type_id"))
)

# An event's quotas with the ids of their types ({"event_id"}): one row per quota and type, or
# one with a NULL type for a quota of none.
QUOTAS_WITH_TYPES = (
    select(
        *Quota.__table__.columns,
        quota_ticket_types.c.ticket_type_id,
    )
    .outerjoin(quota_ticket_types, quota_ticket_types.c.quota_id == Quota.id)
    .where(Quota.event_id == bindparam("event_id"))
    .order_by(Quota.id, quota_ticket_types.c.ticket_type_id)
)

# One quota of one event ({"event_id", "quota_id"}), as stored now.
QUOTA = (
    select(Quota)
    .where(Quota.id == bindparam("quota_id"), Quota.event_id == bindparam("event_id"))
    .execution_options(populate_existing=True)
)

QUOTAS_COUNT = select(func.count(Quota.id)).where(Quota.event_id == bindparam("event_id"))

# The ids of a quota's types ({"quota_id"}).
TYPES_OF_QUOTA = select(quota_ticket_types.c.ticket_type_id).where(
    quota_ticket_types.c.quota_id == bindparam("quota_id")
)

# Memberships: [{"quota_id", "ticket_type_id"}, ...] to add; or to end, for one quota
# ({"quota_id", "type_ids": [...]}) or for one type in every quota ({"type_id"}).
ADD_MEMBERS = insert(quota_ticket_types)
REMOVE_MEMBERS = delete(quota_ticket_types).where(
    quota_ticket_types.c.quota_id == bindparam("quota_id"),
    quota_ticket_types.c.ticket_type_id.in_(bindparam("type_ids", expanding=True)),
)
REMOVE_TYPE_EVERYWHERE = delete(quota_ticket_types).where(
    quota_ticket_types.c.ticket_type_id == bindparam("type_id")
)
REMOVE_QUOTA_MEMBERS = delete(quota_ticket_types).where(
    quota_ticket_types.c.quota_id == bindparam("quota_id")
)
