"""Quota edits made the way the catalogue service makes them (SPEC §9), for tests that race
them against bookings before the catalogue API is there: the event's row lock first, then the
change, then `seats.catalogue_changed`, and when the change made room the waiting list served
and those promoted told, all in one transaction."""

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from boxoffice.bookings import seats
from boxoffice.catalogue.models import Quota, quota_ticket_types
from boxoffice.events.models import EventStatus
from boxoffice.notifications import outbox

# What the API answers a shrink below the seats already taken, and any edit of a cancelled
# event (409 both).
QUOTA_BELOW_TAKEN = "quota_below_taken"
EVENT_NOT_EDITABLE = "event_not_editable"
DONE = "done"


async def resize_quota(
    sessionmaker: async_sessionmaker[AsyncSession], event_id: int, quota_id: int, size: int
) -> str:
    """Sets the quota's size: DONE, or (nothing changed) QUOTA_BELOW_TAKEN when its confirmed
    seats would not fit, EVENT_NOT_EDITABLE when the event is cancelled. A larger size serves
    the waiting list."""
    async with sessionmaker() as session, session.begin():
        event = await seats.lock_event(session, event_id)
        if event is None or event.status is EventStatus.CANCELLED:
            return EVENT_NOT_EDITABLE
        before, taken = (
            await session.execute(select(Quota.size, Quota.seats_taken).where(Quota.id == quota_id))
        ).one()
        if size < taken:
            return QUOTA_BELOW_TAKEN
        await session.execute(update(Quota).where(Quota.id == quota_id).values(size=size))
        await _changed(session, event_id, made_room=size > before)
    return DONE


async def delete_quota(
    sessionmaker: async_sessionmaker[AsyncSession], event_id: int, quota_id: int
) -> None:
    """Removes the quota (its types count against it no more); the room serves the line."""
    async with sessionmaker() as session, session.begin():
        await seats.lock_event(session, event_id)
        await session.execute(
            delete(quota_ticket_types).where(quota_ticket_types.c.quota_id == quota_id)
        )
        await session.execute(delete(Quota).where(Quota.id == quota_id))
        await _changed(session, event_id, made_room=True)


async def _changed(session: AsyncSession, event_id: int, *, made_room: bool) -> None:
    await seats.catalogue_changed(session, event_id)
    if made_room:
        await outbox.waitlist_promoted(session, await seats.serve_waitlist(session, event_id))
