"""The guest list (JSON and CSV) and check-in at the door."""

import csv
import io

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.bookings.schemas import Guest
from boxoffice.settings import Settings
from boxoffice.users.models import Role, User
from tests.factories import auth_headers, make_event, make_user, signed_in

BOOKINGS = "/api/v1/bookings"


async def book(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, event_id: int, **user: str
) -> dict[str, object]:
    headers = await auth_headers(db, settings, await make_user(db, **user))  # type: ignore[arg-type]
    response = await client.post(
        BOOKINGS, headers=headers, json={"event_id": event_id, "join_waitlist": True}
    )
    body: dict[str, object] = response.json()
    return body


async def owner_and_event(db: AsyncSession, capacity: int = 2) -> tuple[User, int]:
    owner = await make_user(db, role=Role.ORGANIZER)
    return owner, (await make_event(db, owner, capacity=capacity)).id


async def test_guest_list_shows_confirmed_and_waitlisted_by_default(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    owner, event_id = await owner_and_event(db, capacity=1)
    confirmed = await book(client, db, settings, event_id, full_name="Ann")
    waiting = await book(client, db, settings, event_id, full_name="Bob")
    gone = await book(client, db, settings, event_id, full_name="Cy")
    await client.delete(
        f"{BOOKINGS}/{gone['id']}",
        headers=(await signed_in(db, settings, Role.ADMIN)).headers,
    )

    response = await client.get(
        f"/api/v1/events/{event_id}/bookings", headers=await auth_headers(db, settings, owner)
    )

    assert response.status_code == 200
    listing = response.json()
    assert listing["total"] == 2
    assert [(g["booking_id"], g["full_name"], g["status"]) for g in listing["items"]] == [
        (confirmed["id"], "Ann", "confirmed"),
        (waiting["id"], "Bob", "waitlisted"),
    ]
    assert set(listing["items"][0]) == set(Guest.model_fields)


async def test_guest_list_filters_by_status_and_pages(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    owner, event_id = await owner_and_event(db, capacity=3)
    for _ in range(3):
        await book(client, db, settings, event_id)
    headers = await auth_headers(db, settings, owner)

    page = (
        await client.get(
            f"/api/v1/events/{event_id}/bookings?status=confirmed&limit=2&offset=2", headers=headers
        )
    ).json()

    assert (page["total"], len(page["items"]), page["limit"], page["offset"]) == (3, 1, 2, 2)


async def test_guest_list_as_csv_is_safe_against_formulas(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    owner, event_id = await owner_and_event(db)
    await book(client, db, settings, event_id, full_name='=HYPERLINK("http://x")')
    await book(client, db, settings, event_id, full_name="@SUM(A1)")
    headers = await auth_headers(db, settings, owner)

    by_query = await client.get(
        f"/api/v1/events/{event_id}/bookings?format=csv&limit=1", headers=headers
    )
    by_accept = await client.get(
        f"/api/v1/events/{event_id}/bookings", headers={**headers, "Accept": "text/csv"}
    )

    assert by_query.headers["content-type"].startswith("text/csv")
    assert by_query.text == by_accept.text
    rows = list(csv.DictReader(io.StringIO(by_query.text)))
    assert len(rows) == 2, "CSV has every row, whatever the page size"
    assert [r["full_name"] for r in rows] == ['\'=HYPERLINK("http://x")', "'@SUM(A1)"]
    assert list(rows[0]) == [
        "booking_id",
        "user_id",
        "full_name",
        "email",
        "seats",
        "status",
        "ticket_code",
        "created_at",
        "checked_in_at",
        "ticket_types",
    ]
    assert [r["ticket_types"] for r in rows] == ["1× General admission"] * 2


async def test_guest_list_is_for_the_owner_and_admins(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    _, event_id = await owner_and_event(db)
    other_organizer = (await signed_in(db, settings, Role.ORGANIZER)).headers
    attendee = (await signed_in(db, settings, Role.ATTENDEE)).headers
    admin = (await signed_in(db, settings, Role.ADMIN)).headers
    path = f"/api/v1/events/{event_id}/bookings"

    assert (await client.get(path, headers=other_organizer)).status_code == 403
    assert (await client.get(path, headers=attendee)).status_code == 403
    assert (await client.get(path)).status_code == 401
    assert (await client.get(path, headers=admin)).status_code == 200


async def test_check_in_marks_the_booking(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    owner, event_id = await owner_and_event(db)
    booking = await book(client, db, settings, event_id)
    code = str(booking["ticket_code"])
    typed = f" {code[:5].lower()}-{code[5:]} "

    response = await client.post(
        f"/api/v1/events/{event_id}/check-in",
        headers=await auth_headers(db, settings, owner),
        json={"ticket_code": typed},
    )

    assert response.status_code == 200
    assert response.json()["id"] == booking["id"]
    assert response.json()["checked_in_at"] is not None


async def test_second_check_in_is_already_checked_in(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    owner, event_id = await owner_and_event(db)
    booking = await book(client, db, settings, event_id)
    headers = await auth_headers(db, settings, owner)
    body = {"ticket_code": booking["ticket_code"]}
    await client.post(f"/api/v1/events/{event_id}/check-in", headers=headers, json=body)

    again = await client.post(f"/api/v1/events/{event_id}/check-in", headers=headers, json=body)

    assert again.status_code == 409
    assert again.json()["code"] == "already_checked_in"


async def test_waitlisted_booking_cannot_check_in(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    owner, event_id = await owner_and_event(db, capacity=1)
    await book(client, db, settings, event_id)
    waiting = await book(client, db, settings, event_id)

    response = await client.post(
        f"/api/v1/events/{event_id}/check-in",
        headers=await auth_headers(db, settings, owner),
        json={"ticket_code": waiting["ticket_code"]},
    )

    assert response.status_code == 409
    assert response.json()["code"] == "booking_not_confirmed"


async def test_unknown_or_other_events_ticket_is_not_found(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    owner, event_id = await owner_and_event(db)
    _, other_event_id = await owner_and_event(db)
    elsewhere = await book(client, db, settings, other_event_id)
    headers = await auth_headers(db, settings, owner)

    for code in ("ZZZZZZZZZZ", elsewhere["ticket_code"]):
        response = await client.post(
            f"/api/v1/events/{event_id}/check-in", headers=headers, json={"ticket_code": code}
        )
        assert response.status_code == 404
