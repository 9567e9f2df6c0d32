"""Reading an event, and who may: the rules of SPEC §1 and §2 as SQL, for every domain to apply.

An event is read by one statement, `EVENT`, and whatever else a read needs is added to it. Who may
see and who manages an event are WHERE clauses and columns with the viewer as bound parameters
(`viewer(user)`), so lists, loaders and guards apply the same rule, and the statements that use
them are still built once.
"""

from sqlalchemy import Boolean, Integer, and_, bindparam, or_, select

from boxoffice.events.models import Event, EventStatus
from boxoffice.users.models import Role, User

# One event by its id ({"event_id": ...}), as stored now, unless it is deleted.
EVENT = (
    select(Event)
    .where(Event.id == bindparam("event_id"), Event.deleted_at.is_(None))
    .execution_options(populate_existing=True)
)

# The event's organizer and the admins manage it.
MANAGES = or_(
    bindparam("viewer_is_admin", type_=Boolean()),
    Event.organizer_id == bindparam("viewer_id", type_=Integer()),
)

# Deleted events are nobody's to see; drafts only their managers'.
READABLE = and_(Event.deleted_at.is_(None), or_(Event.status != EventStatus.DRAFT, MANAGES))


def manages(user: User | None, organizer_id: int) -> bool:
    """`MANAGES` for an event already read (a listing's row, a guard's event), in Python."""
    return user is not None and (user.role is Role.ADMIN or user.id == organizer_id)


def viewer(user: User | None) -> dict[str, object]:
    """The bound parameters of `MANAGES` and `READABLE` for this viewer (None: anonymous)."""
    return {
        "viewer_id": None if user is None else user.id,
        "viewer_is_admin": user is not None and user.role is Role.ADMIN,
    }
