"""Leaving the platform (SPEC §13): a person's data export, and the erasure of their account,
by themselves or an admin.

An erasure is one transaction, in the lock order of a ban (docs/architecture.md): the user's row
first, then every event it touches in id order, then check-in lists, sessions and API keys. It
keeps every row that counts something (bookings, payments, the audit log), so totals and guest
lists stay whole; what named the person (address, name) is replaced, and what could still reach
them (mail waiting to be sent, sessions, scanner keys, API keys) ends.
"""

from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice import audit
from boxoffice.accounts.errors import HasUpcomingEvents
from boxoffice.accounts.schemas import (
    DataExport,
    ExportedApiKey,
    ExportedAuditEntry,
    ExportedEvent,
    ExportedMessage,
    ExportedPayment,
    ExportedRefund,
    ExportedSession,
)
from boxoffice.admin.errors import CannotModifySelf
from boxoffice.apikeys import service as apikeys_service
from boxoffice.auth import service as auth_service
from boxoffice.bookings import seats
from boxoffice.bookings import service as bookings_service
from boxoffice.bookings.schemas import BookingRead
from boxoffice.db import utcnow
from boxoffice.door import service as door_service
from boxoffice.events import service as events_service
from boxoffice.notifications import service as notifications_service
from boxoffice.payments import service as payments_service
from boxoffice.users import service as users_service
from boxoffice.users.models import User
from boxoffice.users.schemas import UserRead


async def export(session: AsyncSession, user: User) -> DataExport:
    bookings = await bookings_service.all_of_user(session, user.id)
    events = await events_service.all_of_organizer(session, user.id)
    entries = await audit.entries_about(
        session, user.id, bookings=[b.id for b in bookings], events=[e.id for e in events]
    )
    return DataExport(
        exported_at=utcnow(),
        profile=UserRead.model_validate(user),
        bookings=[BookingRead.model_validate(b) for b in bookings],
        payments=[
            ExportedPayment(
                **_fields(
                    payment,
                    ExportedPayment,
                    refund=refund and ExportedRefund.model_validate(refund),
                )
            )
            for payment, refund in await payments_service.of_user(session, user.id)
        ],
        sessions=[
            ExportedSession.model_validate(s)
            for s in await auth_service.sessions_of(session, user.id)
        ],
        api_keys=[
            ExportedApiKey.model_validate(k)
            for k in await apikeys_service.keys_of(session, user.id, revoked=True)
        ],
        messages=[
            ExportedMessage(**_fields(m.notification, ExportedMessage, subject=m.subject))
            for m in await notifications_service.messages_to(session, user.id)
        ],
        events=[ExportedEvent.model_validate(e) for e in events],
        # Who else made a change is not the person's to know: only whether it was them.
        audit_log=[
            ExportedAuditEntry(
                **_fields(entry, ExportedAuditEntry, by_you=entry.actor_id == user.id)
            )
            for entry in entries
        ],
    )


def _fields(row: object, schema: type[BaseModel], **given: object) -> dict[str, Any]:
    """The schema's fields, from the row's attributes of those names unless given."""
    read = {name: getattr(row, name) for name in schema.model_fields.keys() - given.keys()}
    return read | given


async def erase_self(session: AsyncSession, user: User, *, password: str) -> None:
    """The person's own erasure, with their password."""
    await auth_service.check_password(user, password, "the password is wrong")
    await _erase(session, user, user.id)


async def erase_by_admin(session: AsyncSession, admin: User, user_id: int) -> None:
    if user_id == admin.id:
        raise CannotModifySelf("you cannot erase your own account here; ask another admin")
    await users_service.get(session, user_id)
    await _erase(session, admin, user_id)


async def _erase(session: AsyncSession, actor: User, user_id: int) -> None:
    # Hashed before any lock is taken: a hash takes tens of milliseconds.
    unusable = await auth_service.unusable_password_hash()
    before = await users_service.get(session, user_id)
    erased_values = [before.email, before.full_name]
    # The user's row first, as a ban: a booking of theirs in flight has committed (and is swept
    # below) or waits and is refused. Erased already (a racing erasure won): nothing left to do.
    if not await users_service.erase(session, user_id, password_hash=unusable):
        return
    organized = await events_service.upcoming_of_organizer(session, user_id)
    booked = await bookings_service.upcoming_events_of_user(session, user_id)
    # Every event this erasure changes, locked in id order before any is changed, so that it
    # cannot deadlock with a ban or another erasure sweeping some of the same events.
    for event_id in sorted({*organized, *booked}):
        await seats.lock_event(session, event_id)
    unbooked = []
    for event_id in organized:
        event = await seats.current_event(session, event_id)
        if event is None:
            continue
        if event.seats_booked or event.seats_held or event.waitlist_count:
            raise HasUpcomingEvents(
                f"your event {event_id} is still to come and has bookings; cancel it first"
            )
        unbooked.append(event)
    # An organizer's events still to come without bookings would take bookings nobody serves.
    for event in unbooked:
        await events_service.delete(session, event, actor)
    cancelled = await bookings_service.cancel_upcoming_of_user(session, user_id)
    await door_service.revoke_keys_of_organizer(session, user_id)
    await auth_service.revoke_all_sessions(session, user_id)
    await apikeys_service.revoke_all(session, user_id)
    await auth_service.forget_account_tokens(session, user_id)
    # After the cancellations above, which wrote their messages to this account too.
    await notifications_service.forget_recipient(session, user_id)
    await audit.scrub(session, user_id, erased_values)
    await audit.record(
        session,
        audit.AuditAction.USER_ERASED,
        actor_id=actor.id,
        target_id=user_id,
        cancelled_bookings=cancelled,
        deleted_events=organized,
    )
