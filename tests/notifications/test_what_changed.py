"""An `event_changed` message shows each changed field as it was and as it is now."""

from datetime import timedelta
from email.message import EmailMessage

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.notifications import outbox
from boxoffice.notifications.models import NotificationKind
from boxoffice.notifications.rendering import local_time
from boxoffice.notifications.worker import Worker
from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.factories import make_event, make_user
from tests.notifications.smtp import Mailbox
from tests.notifications.support import due_now, make_booking, was


def _part(message: EmailMessage, subtype: str) -> str:
    part = message.get_body((subtype,))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


async def test_each_change_shows_the_old_and_the_new_value_in_the_events_zone(
    app: FastAPI, db: AsyncSession, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    event = await make_event(
        db,
        await make_user(db, role=Role.ORGANIZER),
        location="Hall B & Co",
        timezone="Europe/Berlin",
        starts_in=timedelta(days=5),
    )
    old_start = event.starts_at - timedelta(hours=2)
    await make_booking(db, event, await make_user(db, email_verified=True))
    await outbox.event_changed(
        db, event, was(event, location="Hall A", starts_at=old_start.isoformat())
    )
    await db.commit()
    await due_now(db, NotificationKind.EVENT_CHANGED)

    await Worker(smtp_settings, app.state.sessionmaker, name="test-worker").run_once()

    (message,) = mailbox.wait_for(1)
    before = local_time(old_start, "Europe/Berlin")
    after = local_time(event.starts_at, "Europe/Berlin")
    text = _part(message, "plain")
    assert f"Starts: {before} → {after}\n" in text
    assert "Where: Hall A → Hall B & Co\n" in text
    assert "Ends:" not in text.partition("What changed:")[2].partition("Event:")[0]
    html = _part(message, "html")
    assert f"Starts: <del>{before}</del> → <strong>{after}</strong>" in html
    assert "Where: <del>Hall A</del> → <strong>Hall B &amp; Co</strong>" in html


async def test_a_new_time_zone_shows_each_time_in_its_own_zone(
    app: FastAPI, db: AsyncSession, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    event = await make_event(
        db, await make_user(db, role=Role.ORGANIZER), timezone="America/New_York"
    )
    await make_booking(db, event, await make_user(db, email_verified=True))
    await outbox.event_changed(db, event, was(event, timezone="Europe/Berlin"))
    await db.commit()
    await due_now(db, NotificationKind.EVENT_CHANGED)

    await Worker(smtp_settings, app.state.sessionmaker, name="test-worker").run_once()

    (message,) = mailbox.wait_for(1)
    text = _part(message, "plain")
    assert "Time zone: Europe/Berlin → America/New_York\n" in text
    assert "Starts:" not in text.partition("What changed:")[2].partition("Event:")[0]
