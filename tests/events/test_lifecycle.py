"""draft -> published -> cancelled, draft -> cancelled; repeats are harmless; deletion is soft."""

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.audit import AuditEntry
from boxoffice.events.models import EventStatus
from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.events.support import EVENT_FIELDS, EVENTS, Viewer, event_path, headers_of, stored_event
from tests.factories import make_event, make_user, signed_in


async def audit_entries(db: AsyncSession) -> list[AuditEntry]:
    entries = (await db.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
    await db.commit()
    return list(entries)


@pytest.mark.parametrize(
    ("status", "action", "becomes"),
    [
        (EventStatus.DRAFT, "publish", EventStatus.PUBLISHED),
        (EventStatus.PUBLISHED, "cancel", EventStatus.CANCELLED),
        (EventStatus.DRAFT, "cancel", EventStatus.CANCELLED),
    ],
)
async def test_owner_moves_an_event_along_its_life_cycle(
    client: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,
    status: EventStatus,
    action: str,
    becomes: EventStatus,
) -> None:
    organizer, headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer, status=status)

    response = await client.post(event_path(event.id, action), headers=headers)

    assert response.status_code == 200
    assert response.json()["status"] == becomes.value
    assert set(response.json()) == EVENT_FIELDS
    assert (await stored_event(db, event.id)).status is becomes


async def test_publishing_a_published_event_again_changes_nothing(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    organizer, headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer, status=EventStatus.PUBLISHED)
    first = (await client.get(event_path(event.id))).json()

    response = await client.post(event_path(event.id, "publish"), headers=headers)

    assert response.status_code == 200
    assert response.json() == first


async def test_cancelling_a_cancelled_event_again_changes_nothing(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    organizer, headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer, status=EventStatus.PUBLISHED)
    first = (await client.post(event_path(event.id, "cancel"), headers=headers)).json()

    response = await client.post(event_path(event.id, "cancel"), headers=headers)

    assert response.status_code == 200
    assert response.json() == first
    assert [e.action for e in await audit_entries(db)] == ["event.cancelled"]


async def test_a_cancelled_event_cannot_be_published(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    organizer, headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer, status=EventStatus.CANCELLED)

    response = await client.post(event_path(event.id, "publish"), headers=headers)

    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "invalid_transition"
    assert (await stored_event(db, event.id)).status is EventStatus.CANCELLED


async def test_a_cancelled_event_cannot_be_edited(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    organizer, headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer, status=EventStatus.CANCELLED, title="Jazz Night")

    response = await client.patch(event_path(event.id), headers=headers, json={"title": "Revived"})

    assert response.status_code == 409
    assert response.json()["code"] == "event_not_editable"
    assert (await stored_event(db, event.id)).title == "Jazz Night"


async def test_publishing_moves_updated_at(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    organizer, headers = await signed_in(db, settings, Role.ORGANIZER)
    draft = await make_event(db, organizer, status=EventStatus.DRAFT)
    before = (await stored_event(db, draft.id)).updated_at

    response = await client.post(event_path(draft.id, "publish"), headers=headers)

    assert (await stored_event(db, draft.id)).updated_at > before
    assert response.json()["updated_at"] != response.json()["created_at"]


@pytest.mark.parametrize("role", [Role.ORGANIZER, Role.ADMIN])
async def test_cancelling_is_written_to_the_audit_log(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, role: Role
) -> None:
    owner = await make_user(db, role=Role.ORGANIZER)
    event = await make_event(db, owner, status=EventStatus.PUBLISHED, title="Jazz Night")
    actor = owner if role is Role.ORGANIZER else await make_user(db, role=Role.ADMIN)
    headers = await headers_of(db, settings, "owner", actor)

    await client.post(event_path(event.id, "cancel"), headers=headers)

    entry = (await audit_entries(db))[0]
    assert (entry.action, entry.actor_id, entry.target_type, entry.target_id) == (
        "event.cancelled",
        actor.id,
        "event",
        event.id,
    )
    assert entry.detail["title"] == "Jazz Night"


async def test_cancelling_a_cancelled_event_again_writes_no_second_entry(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    organizer, headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer)

    first = await client.post(event_path(event.id, "cancel"), headers=headers)
    again = await client.post(event_path(event.id, "cancel"), headers=headers)

    assert (first.status_code, again.status_code) == (200, 200)
    assert [entry.action for entry in await audit_entries(db)] == ["event.cancelled"]


@pytest.mark.parametrize("status", list(EventStatus))
async def test_owner_deletes_an_event(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, status: EventStatus
) -> None:
    organizer, headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer, status=status)

    response = await client.delete(event_path(event.id), headers=headers)

    assert response.status_code == 204
    assert response.content == b""


@pytest.mark.parametrize("read", ["", "calendar.ics"])
@pytest.mark.parametrize("viewer", ["owner", "admin", "other_organizer", "attendee", "anonymous"])
async def test_deleted_event_is_not_found_for_anyone(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, viewer: Viewer, read: str
) -> None:
    organizer, headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer, status=EventStatus.PUBLISHED)
    await client.delete(event_path(event.id), headers=headers)

    response = await client.get(
        event_path(event.id, read), headers=await headers_of(db, settings, viewer, organizer)
    )

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("action", ["delete", "publish", "cancel", "patch"])
async def test_deleted_event_cannot_be_managed_any_more(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, action: str
) -> None:
    organizer, headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer, status=EventStatus.DRAFT)
    await client.delete(event_path(event.id), headers=headers)
    _, admin = await signed_in(db, settings, Role.ADMIN)

    if action == "delete":
        response = await client.delete(event_path(event.id), headers=admin)
    elif action == "patch":
        response = await client.patch(event_path(event.id), headers=admin, json={"title": "X"})
    else:
        response = await client.post(event_path(event.id, action), headers=admin)

    assert response.status_code == 404
    stored = await stored_event(db, event.id)
    assert stored.status is EventStatus.DRAFT
    assert stored.title == event.title


@pytest.mark.parametrize(
    "params",
    [{}, {"upcoming_only": "false"}, {"mine": "true"}, {"mine": "true", "status": "published"}],
)
async def test_deleted_event_leaves_every_listing(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, params: dict[str, str]
) -> None:
    organizer, headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer, status=EventStatus.PUBLISHED)
    kept = await make_event(db, organizer, status=EventStatus.PUBLISHED)
    await client.delete(event_path(event.id), headers=headers)

    response = await client.get(EVENTS, headers=headers, params=params)

    assert response.status_code == 200
    assert [e["id"] for e in response.json()["items"]] == [kept.id]
    assert response.json()["total"] == 1


async def test_deleting_keeps_the_row_with_deleted_at_set(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    organizer, headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer, status=EventStatus.PUBLISHED, title="Jazz Night")

    await client.delete(event_path(event.id), headers=headers)

    stored = await stored_event(db, event.id)
    assert stored.deleted_at is not None
    assert stored.deleted_at >= stored.created_at
    assert (stored.title, stored.status) == ("Jazz Night", EventStatus.PUBLISHED)


@pytest.mark.parametrize("role", [Role.ORGANIZER, Role.ADMIN])
async def test_deleting_is_written_to_the_audit_log(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, role: Role
) -> None:
    owner = await make_user(db, role=Role.ORGANIZER)
    event = await make_event(db, owner, status=EventStatus.DRAFT, title="Jazz Night")
    actor = owner if role is Role.ORGANIZER else await make_user(db, role=Role.ADMIN)
    headers = await headers_of(db, settings, "owner", actor)

    await client.delete(event_path(event.id), headers=headers)

    entries = await audit_entries(db)
    assert [(e.action, e.actor_id, e.target_type, e.target_id) for e in entries] == [
        ("event.deleted", actor.id, "event", event.id)
    ]
    assert entries[0].detail["title"] == "Jazz Night"
