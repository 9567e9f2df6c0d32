"""A ban made through one server process is obeyed by every other one at once."""

import asyncio
from collections import Counter

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.bookings.models import Booking
from boxoffice.users.models import Role
from tests.admin.support import BOOKINGS, ME, upcoming_booking, user_path
from tests.bookings.invariants import assert_seats_exact
from tests.factories import PASSWORD, make_event, make_user

LOGIN = "/api/v1/auth/login"
PASSWORD_CHANGE = "/api/v1/users/me/password"


async def bearer(http: httpx.AsyncClient, base_url: str, email: str) -> dict[str, str]:
    login = await http.post(f"{base_url}{LOGIN}", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


async def test_ban_on_one_process_refuses_the_live_token_on_another(
    servers: list[str], db: AsyncSession
) -> None:
    first, second = servers
    ann = await make_user(db, email="ann@example.com")
    await make_user(db, email="root@example.com", role=Role.ADMIN)
    async with httpx.AsyncClient() as http:
        ann_headers = await bearer(http, first, "ann@example.com")
        admin_headers = await bearer(http, second, "root@example.com")
        assert (await http.get(f"{first}{ME}", headers=ann_headers)).status_code == 200

        banned = await http.patch(
            f"{second}{user_path(ann.id)}", headers=admin_headers, json={"is_active": False}
        )

        assert banned.status_code == 200
        refused = await http.get(f"{first}{ME}", headers=ann_headers)
        assert refused.status_code == 401
        assert refused.json()["code"] == "invalid_token"


async def active_bookings(db: AsyncSession, user_id: int) -> list[Booking]:
    found = await db.scalars(
        select(Booking).where(Booking.user_id == user_id, Booking.active.is_(True))
    )
    return list(found.all())


async def test_bookings_racing_a_ban_are_either_refused_or_cancelled_by_it(
    servers: list[str], db: AsyncSession
) -> None:
    """The ban lands while the user's bookings are in flight on the other process: none of
    them may outlive it as an active booking, and every event's seats stay exact."""
    first, second = servers
    ann = await make_user(db, email="ann@example.com")
    await make_user(db, email="root@example.com", role=Role.ADMIN)
    organizer = await make_user(db, role=Role.ORGANIZER)
    event_ids = [(await make_event(db, organizer, capacity=5)).id for _ in range(60)]
    async with httpx.AsyncClient(timeout=60) as http:
        ann_headers = await bearer(http, first, "ann@example.com")
        admin_headers = await bearer(http, second, "root@example.com")

        async def book(event_id: int) -> httpx.Response:
            return await http.post(
                f"{first}{BOOKINGS}", headers=ann_headers, json={"event_id": event_id}
            )

        bookings = [asyncio.create_task(book(event_id)) for event_id in event_ids[:-1]]
        # Let the first bookings land before the ban, so that it has something to sweep.
        await asyncio.wait(bookings, return_when=asyncio.FIRST_COMPLETED)
        banned = await http.patch(
            f"{second}{user_path(ann.id)}", headers=admin_headers, json={"is_active": False}
        )
        # One booking surely after the ban, whichever of the others it overtook.
        after_ban = await book(event_ids[-1])
        answers = await asyncio.gather(*bookings)

    assert banned.status_code == 200
    statuses = Counter(a.status_code for a in answers)
    assert set(statuses) <= {201, 401, 403}, [a.text for a in answers]
    assert statuses[201], f"no booking landed before the ban: {statuses}"
    assert after_ban.status_code in (401, 403), after_ban.text
    active = await db.scalars(
        select(Booking).where(Booking.user_id == ann.id, Booking.active.is_(True))
    )
    assert active.all() == []
    for event_id in event_ids:
        await assert_seats_exact(db, event_id)


async def test_password_change_and_login_racing_a_ban_neither_fail_nor_outlive_it(
    servers: list[str], db: AsyncSession
) -> None:
    """A ban sweeps bookings, then ends sessions; a password change ends sessions, then starts
    one. Run together on two processes they must not deadlock (no 5xx), and no session started
    in the race may work once the ban is lifted."""
    first, second = servers
    ann = await make_user(db, email="ann@example.com")
    await make_user(db, email="root@example.com", role=Role.ADMIN)
    organizer = await make_user(db, role=Role.ORGANIZER)
    for _ in range(40):  # a long sweep, so that the two overlap
        await upcoming_booking(db, ann, organizer)
    async with httpx.AsyncClient(timeout=60) as http:
        ann_headers = await bearer(http, first, "ann@example.com")
        admin_headers = await bearer(http, second, "root@example.com")
        password_change, login, ban = await asyncio.gather(
            http.post(
                f"{first}{PASSWORD_CHANGE}",
                headers=ann_headers,
                json={"current_password": PASSWORD, "new_password": "a brand new one"},
            ),
            http.post(f"{first}{LOGIN}", json={"email": ann.email, "password": PASSWORD}),
            http.patch(
                f"{second}{user_path(ann.id)}", headers=admin_headers, json={"is_active": False}
            ),
        )
        assert ban.status_code == 200, ban.text
        assert password_change.status_code in (200, 401, 403), password_change.text
        assert login.status_code in (200, 401, 403), login.text
        unbanned = await http.patch(
            f"{second}{user_path(ann.id)}", headers=admin_headers, json={"is_active": True}
        )
        assert unbanned.status_code == 200
        for answer in (password_change, login):
            if answer.status_code == 200:
                revived = {"Authorization": f"Bearer {answer.json()['access_token']}"}
                assert (await http.get(f"{first}{ME}", headers=revived)).status_code == 401

    active = await db.scalars(
        select(Booking).where(Booking.user_id == ann.id, Booking.active.is_(True))
    )
    assert active.all() == []
