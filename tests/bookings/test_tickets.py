"""The ticket's QR code: an SVG for whoever may see the booking, and nobody else."""

import re
import xml.etree.ElementTree as ET

import httpx
import pytest
import segno
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.settings import Settings
from boxoffice.users.models import Role, User
from tests.factories import auth_headers, make_event, make_user

SVG_NS = "{http://www.w3.org/2000/svg}"


async def booked(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> tuple[dict[str, object], User, User]:
    owner = await make_user(db, role=Role.ORGANIZER)
    holder = await make_user(db)
    event = await make_event(db, owner)
    response = await client.post(
        "/api/v1/bookings",
        headers=await auth_headers(db, settings, holder),
        json={"event_id": event.id, "seats": 2},
    )
    assert response.status_code == 201
    booking: dict[str, object] = response.json()
    return booking, holder, owner


async def test_holder_gets_the_ticket_code_as_an_svg_qr_code(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    booking, holder, _ = await booked(client, db, settings)

    response = await client.get(
        f"/api/v1/bookings/{booking['id']}/ticket.svg",
        headers=await auth_headers(db, settings, holder),
    )

    assert response.status_code == 200
    assert response.headers["content-type"] == "image/svg+xml"
    assert "no-store" in response.headers["cache-control"]
    svg = ET.fromstring(response.content)
    assert svg.tag == f"{SVG_NS}svg"
    assert svg.findtext(f"{SVG_NS}title") == f"Ticket {booking['ticket_code']}"
    assert dark_modules(svg) == dark_modules_of_qr_code(str(booking["ticket_code"]))


def dark_modules(svg: ET.Element) -> set[tuple[int, int]]:
    """Reads the QR code's dark modules (column, row) back from the SVG's line path."""
    line = svg.find(f".//{SVG_NS}path[@class='qrline']")
    assert line is not None
    dark: set[tuple[int, int]] = set()
    x = y = 0.0
    steps = re.findall(r"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?", line.get("d", ""))
    for command, first, second in steps:
        if command == "M":
            x, y = float(first), float(second)
        elif command == "m":
            x, y = x + float(first), y + float(second)
        else:
            dark.update((int(x) + i, int(y)) for i in range(int(first)))
            x += float(first)
    return dark


def dark_modules_of_qr_code(text: str) -> set[tuple[int, int]]:
    """What a scanner must see: the modules of that text's QR code, after the 4-module border."""
    matrix = segno.make(text, error="m", micro=False).matrix
    return {
        (col + 4, row + 4) for row, bits in enumerate(matrix) for col, bit in enumerate(bits) if bit
    }


@pytest.mark.parametrize("viewer_role", ["owner", Role.ADMIN])
async def test_event_owner_and_admin_get_the_qr_code(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, viewer_role: str
) -> None:
    booking, _, owner = await booked(client, db, settings)
    viewer = owner if viewer_role == "owner" else await make_user(db, role=Role.ADMIN)

    response = await client.get(
        f"/api/v1/bookings/{booking['id']}/ticket.svg",
        headers=await auth_headers(db, settings, viewer),
    )

    assert response.status_code == 200
    assert response.headers["content-type"] == "image/svg+xml"


@pytest.mark.parametrize("stranger_role", [Role.ATTENDEE, Role.ORGANIZER])
async def test_anyone_else_gets_404_for_the_qr_code(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, stranger_role: Role
) -> None:
    booking, _, _ = await booked(client, db, settings)
    stranger = await make_user(db, role=stranger_role)

    response = await client.get(
        f"/api/v1/bookings/{booking['id']}/ticket.svg",
        headers=await auth_headers(db, settings, stranger),
    )

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"


async def test_qr_code_without_a_token_is_401(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    booking, _, _ = await booked(client, db, settings)

    response = await client.get(f"/api/v1/bookings/{booking['id']}/ticket.svg")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


async def test_each_seat_has_its_own_ticket_and_qr_code(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    booking, holder, _ = await booked(client, db, settings)
    headers = await auth_headers(db, settings, holder)
    tickets = booking["tickets"]
    assert isinstance(tickets, list)
    codes = [ticket["code"] for ticket in tickets]
    assert len(codes) == len(set(codes)) == 2
    assert booking["ticket_code"] not in codes

    for code in codes:
        response = await client.get(
            f"/api/v1/bookings/{booking['id']}/tickets/{code.lower()}.svg", headers=headers
        )
        assert response.status_code == 200
        assert "no-store" in response.headers["cache-control"]
        svg = ET.fromstring(response.content)
        assert dark_modules(svg) == dark_modules_of_qr_code(code)


async def test_a_ticket_code_of_another_booking_is_404(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    mine, holder, _ = await booked(client, db, settings)
    theirs, _, _ = await booked(client, db, settings)
    other_code = theirs["tickets"][0]["code"]  # type: ignore[index]

    response = await client.get(
        f"/api/v1/bookings/{mine['id']}/tickets/{other_code}.svg",
        headers=await auth_headers(db, settings, holder),
    )

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


async def test_checking_in_the_party_code_checks_in_every_seat(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    booking, holder, owner = await booked(client, db, settings)

    checked = await client.post(
        f"/api/v1/events/{booking['event_id']}/check-in",
        headers=await auth_headers(db, settings, owner),
        json={"ticket_code": booking["ticket_code"]},
    )

    assert checked.status_code == 200
    seats = checked.json()["tickets"]
    assert len(seats) == 2
    assert all(ticket["checked_in_at"] == checked.json()["checked_in_at"] for ticket in seats)
