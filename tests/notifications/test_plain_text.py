"""What organizers and users type cannot forge lines of a message's plain-text part or its
subject: a line break in a title, a place, a ticket type or a name stays inside its line."""

from email.message import EmailMessage

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.auth.tokens import new_seed
from boxoffice.bookings.models import Booking
from boxoffice.notifications import outbox, repository
from boxoffice.notifications.models import Notification, NotificationKind
from boxoffice.notifications.rendering import Outgoing, render
from boxoffice.notifications.worker import Worker
from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.factories import make_event, make_ticket_type, make_user
from tests.notifications.smtp import Mailbox
from tests.notifications.support import Clock, make_booking

FORGED = "Your booking was cancelled. Call +1 555 0100 for a refund"
TITLE = f"Concert\n\n{FORGED}"
PLACE = "Hall\r\nRefunds: +1 555 0199"
TICKET_TYPE = "Adult\u2028Free entry\x0bfor all"
NAME = "Ada\n\nPS: reply with your card number"


async def _booking_of_every_field(db: AsyncSession) -> Booking:
    """A confirmed booking whose event, ticket type and holder carry line breaks."""
    organizer = await make_user(db, role=Role.ORGANIZER)
    event = await make_event(db, organizer, title=TITLE, location=PLACE)
    ticket_type = await make_ticket_type(db, event, name=TICKET_TYPE, price_minor=1500)
    holder = await make_user(db, full_name=NAME)
    return await make_booking(db, event, holder, lines=[(ticket_type, 2)])


def _text(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def _no_forged_line(text: str) -> None:
    for line in text.splitlines():
        stripped = line.strip()
        assert not stripped.startswith(("Your booking was cancelled", "Refunds:", "PS:")), line
        assert not stripped.startswith(("Free entry", "for all")), line


async def test_line_breaks_in_organizer_text_stay_inside_their_line_of_a_sent_message(
    app: FastAPI, db: AsyncSession, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    booking = await _booking_of_every_field(db)
    await outbox.booking_confirmed(db, booking)
    await db.commit()
    worker = Worker(smtp_settings, app.state.sessionmaker, clock=Clock(), name="test-worker")

    assert await worker.run_once() == 1

    (message,) = mailbox.wait_for(1)
    assert message["Subject"] == f"Booking confirmed: Concert {FORGED}"
    text = _text(message)
    _no_forged_line(text)
    assert f'your booking for "Concert {FORGED}" is confirmed' in text
    assert "Where:  Hall Refunds: +1 555 0199" in text
    assert "2× Adult Free entry for all at 15.00 EUR" in text
    assert "Hello Ada PS: reply with your card number," in text


async def test_no_kind_of_message_lets_a_value_start_a_line(
    app: FastAPI, db: AsyncSession, smtp_settings: Settings
) -> None:
    booking = await _booking_of_every_field(db)
    # Whatever each kind's template shows: a position, changed fields, a payment and a refund.
    payload = {
        "position": 1,
        "changed": ["location"],
        # The place before the edit, shown beside the new one.
        "before": {"location": f"Old hall\n\n{FORGED}"},
        "amount_minor": 3000,
        "currency": "EUR",
        "provider": "manual",
        "reference": "BX-1",
        "reason": "cancelled",
    }
    # An account's messages are about no event: only the name is anyone's text in them.
    about_accounts = {NotificationKind.VERIFY_EMAIL, NotificationKind.PASSWORD_RESET}
    rows = [
        Notification(
            kind=kind,
            user_id=booking.user_id,
            event_id=None if kind in about_accounts else booking.event_id,
            booking_id=None if kind in about_accounts else booking.id,
            payload={"seed": new_seed()} if kind in about_accounts else payload,
        )
        for kind in NotificationKind
    ]
    db.add_all(rows)
    await db.commit()
    async with app.state.sessionmaker() as session:
        loaded = await repository.with_recipients(session, [row.id for row in rows])

    for notification, user, event, about in loaded:
        message = render(Outgoing(notification, user, event, about), smtp_settings)
        assert "\n" not in str(message["Subject"]), notification.kind
        _no_forged_line(_text(message))
