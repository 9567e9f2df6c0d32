"""The admin queries: users with their counts, platform totals and the audit log.

The counts are correlated scalar subqueries of the one statement that lists the users, so a page
of a hundred users costs the same single query as a page of three.
"""

from sqlalchemy import Select, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from boxoffice.audit import AuditAction, AuditEntry
from boxoffice.bookings.models import Booking, BookingStatus
from boxoffice.events.models import Event, EventStatus
from boxoffice.users.models import Role, User

# Every booking the user ever made, whatever became of it: an admin judging an account wants
# its whole history, and a cancelled booking is still one the user made.
_bookings_count: ColumnElement[int] = (
    select(func.count())
    .where(Booking.user_id == User.id)
    .correlate(User)
    .scalar_subquery()
    .label("bookings_count")
)

# The events the user organizes that still exist (deleted events left every listing).
_events_count: ColumnElement[int] = (
    select(func.count())
    .where(Event.organizer_id == User.id, Event.deleted_at.is_(None))
    .correlate(User)
    .scalar_subquery()
    .label("events_count")
)


def users(*, role: Role | None, q: str | None, is_active: bool | None) -> Select[User]:
    """Users matching the filters, in id order; `q` is a case-insensitive substring of the
    e-mail or the full name, with % and _ taken literally."""
    query = select(User)
    if role is not None:
        query = query.where(User.role == role)
    if is_active is not None:
        query = query.where(User.is_active.is_(is_active))
    if q:
        query = query.where(
            or_(
                User.email.icontains(q, autoescape=True),
                User.full_name.icontains(q, autoescape=True),
            )
        )
    return query.order_by(User.id)


def with_counts(query: Select[User]) -> Select[User, int, int]:
    """Each user of the query together with their bookings_count and events_count."""
    return query.add_columns(_bookings_count, _events_count)


def user(user_id: int) -> Select[User]:
    """The user as stored now, even if this session loaded it before a change."""
    return select(User).where(User.id == user_id).execution_options(populate_existing=True)


def users_by_role() -> Select[Role, int]:
    return select(User.role, func.count()).group_by(User.role)


def events_by_status() -> Select[EventStatus, int]:
    """Events that still exist, by status: a deleted event is no longer on the platform."""
    return (
        select(Event.status, func.count()).where(Event.deleted_at.is_(None)).group_by(Event.status)
    )


def bookings_by_status() -> Select[BookingStatus, int, int]:
    """Every booking ever made (deleted events' too), by status, with the seats they hold."""
    return select(Booking.status, func.count(), func.coalesce(func.sum(Booking.seats), 0)).group_by(
        Booking.status
    )


def audit_log(*, actor_id: int | None, action: AuditAction | None) -> Select[AuditEntry]:
    """Entries newest first (ids grow with time, and unlike `at` they never tie)."""
    query = select(AuditEntry)
    if actor_id is not None:
        query = query.where(AuditEntry.actor_id == actor_id)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    return query.order_by(AuditEntry.id.desc())
