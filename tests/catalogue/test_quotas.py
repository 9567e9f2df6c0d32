"""/events/{id}/quotas: limits shared by some ticket types, never below the seats they hold."""

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.bookings.models import BookingStatus
from boxoffice.catalogue.models import Quota, TicketType
from boxoffice.catalogue.schemas import QuotaRead
from boxoffice.events.models import Event, EventStatus
from boxoffice.notifications.models import NotificationKind
from boxoffice.settings import Settings
from boxoffice.users.models import Role, User
from tests.catalogue.support import (
    book,
    booking_status,
    catalogue_version,
    promotions_told,
    quotas_path,
    stored,
    types_path,
)
from tests.events.support import Viewer, headers_of, set_event
from tests.factories import (
    first_ticket_type,
    make_event,
    make_quota,
    make_ticket_type,
    make_user,
    signed_in,
)

QUOTA_FIELDS = set(QuotaRead.model_fields)


async def count_quotas(db: AsyncSession, event_id: int) -> int:
    total = await db.scalar(select(func.count(Quota.id)).where(Quota.event_id == event_id))
    await db.commit()
    return int(total or 0)


async def taken(db: AsyncSession, quota_id: int) -> int:
    quota = await stored(db, Quota, quota_id)
    assert quota is not None
    return quota.seats_taken


class Box:
    """An event of an organizer signed in, with two types: general admission and students."""

    def __init__(
        self, event: Event, general: TicketType, student: TicketType, headers: dict[str, str]
    ) -> None:
        self.event, self.general, self.student, self.headers = event, general, student, headers

    def path(self, quota_id: int | None = None) -> str:
        return quotas_path(self.event.id, quota_id)


@pytest.fixture
async def box(db: AsyncSession, settings: Settings) -> Box:
    organizer, headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer, capacity=20)
    general = await first_ticket_type(db, event)
    student = await make_ticket_type(db, event, name="Student", price_minor=500)
    return Box(event, general, student, headers)


async def attendee(db: AsyncSession) -> User:
    return await make_user(db)


# -- reading -----------------------------------------------------------------------------------


async def test_the_organizer_reads_the_quotas_with_what_their_types_hold(
    client: httpx.AsyncClient, db: AsyncSession, box: Box
) -> None:
    shared = await make_quota(db, box.event, 12, [box.general, box.student], seats_taken=4)
    students = await make_quota(db, box.event, 5, [box.student], seats_taken=1)
    empty = await make_quota(db, box.event, 0, [])

    response = await client.get(box.path(), headers=box.headers)

    assert response.status_code == 200
    items = response.json()["items"]
    assert all(set(item) == QUOTA_FIELDS for item in items)
    assert [
        (q["id"], q["size"], q["seats_taken"], q["ticket_type_ids"], q["event_id"]) for q in items
    ] == [
        (shared.id, 12, 4, sorted([box.general.id, box.student.id]), box.event.id),
        (students.id, 5, 1, [box.student.id], box.event.id),
        (empty.id, 0, 0, [], box.event.id),
    ]


@pytest.mark.parametrize(
    ("viewer", "status"), [("anonymous", 401), ("attendee", 403), ("other_organizer", 403)]
)
async def test_only_the_organizer_and_admins_see_quotas(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, viewer: Viewer, status: int
) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER)
    event = await make_event(db, organizer)
    headers = await headers_of(db, settings, viewer, organizer)

    response = await client.get(quotas_path(event.id), headers=headers)

    assert response.status_code == status


async def test_an_admin_sees_and_changes_any_events_quotas(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, box: Box
) -> None:
    _, headers = await signed_in(db, settings, Role.ADMIN)

    created = await client.post(
        box.path(), headers=headers, json={"name": "All", "size": 9, "ticket_type_ids": []}
    )
    listed = await client.get(box.path(), headers=headers)

    assert created.status_code == 201
    assert [q["name"] for q in listed.json()["items"]] == ["All"]


# -- creating ----------------------------------------------------------------------------------


async def test_a_new_quota_counts_what_its_types_already_hold(
    client: httpx.AsyncClient, db: AsyncSession, box: Box
) -> None:
    """Seats of confirmed bookings; not those of waiting or cancelled ones."""
    await book(db, box.event, await attendee(db), [(box.student, 3), (box.general, 2)])
    # Full, so that the booking waiting is not served when the quota comes.
    await set_event(db, box.event.id, capacity=5)
    await book(
        db, box.event, await attendee(db), [(box.student, 4)], status=BookingStatus.WAITLISTED
    )
    await book(
        db, box.event, await attendee(db), [(box.student, 5)], status=BookingStatus.CANCELLED
    )
    version = await catalogue_version(db, box.event.id)

    response = await client.post(
        box.path(),
        headers=box.headers,
        json={"name": "Students", "size": 3, "ticket_type_ids": [box.student.id]},
    )

    assert response.status_code == 201
    quota = response.json()
    assert set(quota) == QUOTA_FIELDS
    assert (quota["name"], quota["size"], quota["seats_taken"]) == ("Students", 3, 3)
    assert quota["ticket_type_ids"] == [box.student.id]
    assert await taken(db, quota["id"]) == 3
    assert await catalogue_version(db, box.event.id) != version
    types = (await client.get(types_path(box.event.id))).json()["items"]
    assert {t["id"]: t["quota_ids"] for t in types} == {
        box.general.id: [],
        box.student.id: [quota["id"]],
    }


async def test_a_quota_smaller_than_what_its_types_hold_is_refused(
    client: httpx.AsyncClient, db: AsyncSession, box: Box
) -> None:
    await book(db, box.event, await attendee(db), [(box.student, 3), (box.general, 2)])

    response = await client.post(
        box.path(),
        headers=box.headers,
        json={"name": "Too small", "size": 4, "ticket_type_ids": [box.student.id, box.general.id]},
    )

    assert response.status_code == 409
    body = response.json()
    assert (body["code"], body["seats_taken"]) == ("quota_below_taken", 5)
    assert await count_quotas(db, box.event.id) == 0


async def test_a_quota_may_not_name_a_type_of_another_event(
    client: httpx.AsyncClient, db: AsyncSession, box: Box
) -> None:
    other = await make_event(db, await make_user(db, role=Role.ORGANIZER))
    foreign = await first_ticket_type(db, other)

    response = await client.post(
        box.path(),
        headers=box.headers,
        json={"name": "Mixed", "size": 5, "ticket_type_ids": [box.student.id, foreign.id]},
    )

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["errors"][0]["loc"] == ["body", "ticket_type_ids"]
    assert str(foreign.id) in body["detail"]
    assert await count_quotas(db, box.event.id) == 0


@pytest.mark.parametrize(
    "body",
    [
        {"name": "Twice", "size": 5, "ticket_type_ids": "twice"},
        {"name": "Unknown", "size": 5, "ticket_type_ids": [2_000_000_000]},
        {"name": "Negative", "size": -1, "ticket_type_ids": []},
        {"name": "Huge", "size": 100_001, "ticket_type_ids": []},
        {"name": " ", "size": 5, "ticket_type_ids": []},
        {"size": 5, "ticket_type_ids": []},
        {"name": "Taken", "size": 5, "ticket_type_ids": [], "seats_taken": 0},
    ],
)
async def test_a_quota_that_cannot_be_is_refused(
    client: httpx.AsyncClient, db: AsyncSession, box: Box, body: dict[str, object]
) -> None:
    if body["ticket_type_ids"] == "twice":
        body = body | {"ticket_type_ids": [box.student.id, box.student.id]}

    response = await client.post(box.path(), headers=box.headers, json=body)

    assert response.status_code == 422, response.text
    assert await count_quotas(db, box.event.id) == 0


async def test_an_event_has_at_most_fifty_quotas(
    client: httpx.AsyncClient, db: AsyncSession, box: Box
) -> None:
    db.add_all(Quota(event_id=box.event.id, name=f"Q{n}", size=1) for n in range(50))
    await db.commit()

    response = await client.post(
        box.path(), headers=box.headers, json={"name": "One more", "size": 1, "ticket_type_ids": []}
    )

    assert response.status_code == 422
    assert await count_quotas(db, box.event.id) == 50


# -- editing -----------------------------------------------------------------------------------


async def test_a_quota_is_renamed_and_resized(
    client: httpx.AsyncClient, db: AsyncSession, box: Box
) -> None:
    quota = await make_quota(db, box.event, 5, [box.student])
    await book(db, box.event, await attendee(db), [(box.student, 2)])
    version = await catalogue_version(db, box.event.id)

    response = await client.patch(
        box.path(quota.id), headers=box.headers, json={"name": "Students only", "size": 2}
    )

    assert response.status_code == 200
    edited = response.json()
    assert (edited["name"], edited["size"], edited["seats_taken"]) == ("Students only", 2, 2)
    assert edited["ticket_type_ids"] == [box.student.id]
    assert await catalogue_version(db, box.event.id) != version


async def test_a_quota_cannot_shrink_below_what_its_types_hold(
    client: httpx.AsyncClient, db: AsyncSession, box: Box
) -> None:
    quota = await make_quota(db, box.event, 5, [box.student])
    await book(db, box.event, await attendee(db), [(box.student, 3)])

    response = await client.patch(box.path(quota.id), headers=box.headers, json={"size": 2})

    assert response.status_code == 409
    assert (response.json()["code"], response.json()["seats_taken"]) == ("quota_below_taken", 3)
    kept = await stored(db, Quota, quota.id)
    assert kept is not None
    assert (kept.size, kept.seats_taken) == (5, 3)


async def test_a_quota_cannot_take_on_types_that_hold_more_than_its_size(
    client: httpx.AsyncClient, db: AsyncSession, box: Box
) -> None:
    quota = await make_quota(db, box.event, 4, [box.student])
    await book(db, box.event, await attendee(db), [(box.student, 1), (box.general, 4)])

    response = await client.patch(
        box.path(quota.id),
        headers=box.headers,
        json={"ticket_type_ids": [box.student.id, box.general.id]},
    )

    assert response.status_code == 409
    assert (response.json()["code"], response.json()["seats_taken"]) == ("quota_below_taken", 5)
    assert await taken(db, quota.id) == 1


async def test_new_types_and_a_new_size_are_checked_together(
    client: httpx.AsyncClient, db: AsyncSession, box: Box
) -> None:
    quota = await make_quota(db, box.event, 4, [box.student])
    await book(db, box.event, await attendee(db), [(box.student, 4), (box.general, 6)])

    response = await client.patch(
        box.path(quota.id),
        headers=box.headers,
        json={"ticket_type_ids": [box.general.id], "size": 6},
    )

    assert response.status_code == 200
    edited = response.json()
    assert (edited["size"], edited["seats_taken"], edited["ticket_type_ids"]) == (
        6,
        6,
        [box.general.id],
    )
    assert await taken(db, quota.id) == 6


async def test_a_quota_shrinks_as_it_gives_up_a_type(
    client: httpx.AsyncClient, db: AsyncSession, box: Box
) -> None:
    """Smaller size and fewer types at once: the count drops before the size, so the quota's
    CHECK never sees more taken than its size."""
    quota = await make_quota(db, box.event, 10, [box.student, box.general])
    await book(db, box.event, await attendee(db), [(box.student, 2), (box.general, 7)])
    await set_quota_taken(db, quota.id, 9)

    response = await client.patch(
        box.path(quota.id),
        headers=box.headers,
        json={"ticket_type_ids": [box.student.id], "size": 2},
    )

    assert response.status_code == 200
    assert (response.json()["size"], response.json()["seats_taken"]) == (2, 2)


async def set_quota_taken(db: AsyncSession, quota_id: int, seats_taken: int) -> None:
    quota = await db.get(Quota, quota_id)
    assert quota is not None
    quota.seats_taken = seats_taken
    await db.commit()


async def test_a_quota_of_another_event_is_not_found(
    client: httpx.AsyncClient, db: AsyncSession, box: Box
) -> None:
    other = await make_event(db, await make_user(db, role=Role.ORGANIZER))
    foreign = await make_quota(db, other, 5, [])

    edited = await client.patch(box.path(foreign.id), headers=box.headers, json={"size": 9})
    deleted = await client.delete(box.path(foreign.id), headers=box.headers)

    assert (edited.status_code, deleted.status_code) == (404, 404)
    kept = await stored(db, Quota, foreign.id)
    assert kept is not None
    assert kept.size == 5


@pytest.mark.parametrize("body", [{"size": None}, {"name": None}, {"ticket_type_ids": None}])
async def test_a_quotas_fields_cannot_be_nulled(
    client: httpx.AsyncClient, db: AsyncSession, box: Box, body: dict[str, object]
) -> None:
    quota = await make_quota(db, box.event, 5, [box.student])

    response = await client.patch(box.path(quota.id), headers=box.headers, json=body)

    assert response.status_code == 422


# -- the waiting list --------------------------------------------------------------------------


async def waiting_for_students(db: AsyncSession, box: Box) -> tuple[Quota, int]:
    """The students' quota is full (3 of 3) while the event has seats left, and a booking of
    two student tickets waits for it."""
    quota = await make_quota(db, box.event, 3, [box.student])
    await book(db, box.event, await attendee(db), [(box.student, 3)])
    waiting = await book(
        db, box.event, await attendee(db), [(box.student, 2)], status=BookingStatus.WAITLISTED
    )
    return quota, waiting.id


@pytest.mark.parametrize("room", ["larger", "fewer_types"])
async def test_a_quota_that_makes_room_serves_the_waiting_list(
    client: httpx.AsyncClient, db: AsyncSession, box: Box, room: str
) -> None:
    quota, waiting = await waiting_for_students(db, box)
    change: dict[str, object] = (
        {"size": 5} if room == "larger" else {"ticket_type_ids": [box.general.id]}
    )

    response = await client.patch(box.path(quota.id), headers=box.headers, json=change)

    assert response.status_code == 200, response.text
    # Students pay: the freed seats are offered, not confirmed (SPEC §10).
    assert await booking_status(db, waiting) is BookingStatus.OFFERED
    assert await promotions_told(db, waiting, NotificationKind.WAITLIST_OFFER) == 1


async def test_a_deleted_quota_serves_the_waiting_list(
    client: httpx.AsyncClient, db: AsyncSession, box: Box
) -> None:
    quota, waiting = await waiting_for_students(db, box)
    version = await catalogue_version(db, box.event.id)

    response = await client.delete(box.path(quota.id), headers=box.headers)

    assert response.status_code == 204
    assert await count_quotas(db, box.event.id) == 0
    assert await stored(db, TicketType, box.student.id) is not None
    # Students pay: the freed seats are offered, not confirmed (SPEC §10).
    assert await booking_status(db, waiting) is BookingStatus.OFFERED
    assert await promotions_told(db, waiting, NotificationKind.WAITLIST_OFFER) == 1
    assert await catalogue_version(db, box.event.id) != version


async def test_a_renamed_quota_serves_nobody(
    client: httpx.AsyncClient, db: AsyncSession, box: Box
) -> None:
    quota, waiting = await waiting_for_students(db, box)

    response = await client.patch(box.path(quota.id), headers=box.headers, json={"name": "Pupils"})

    assert response.status_code == 200
    assert await booking_status(db, waiting) is BookingStatus.WAITLISTED


# -- a cancelled event -------------------------------------------------------------------------


async def test_a_cancelled_events_quotas_cannot_change(
    client: httpx.AsyncClient, db: AsyncSession, box: Box
) -> None:
    quota = await make_quota(db, box.event, 5, [box.student])
    await set_event(db, box.event.id, status=EventStatus.CANCELLED)

    created = await client.post(
        box.path(), headers=box.headers, json={"name": "Late", "size": 1, "ticket_type_ids": []}
    )
    edited = await client.patch(box.path(quota.id), headers=box.headers, json={"size": 9})
    deleted = await client.delete(box.path(quota.id), headers=box.headers)

    for response in (created, edited, deleted):
        assert response.status_code == 409
        assert response.json()["code"] == "event_not_editable"
    assert await count_quotas(db, box.event.id) == 1
    listed = await client.get(box.path(), headers=box.headers)
    assert listed.status_code == 200
