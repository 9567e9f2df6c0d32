"""The guest list CSV stays text in a spreadsheet, whichever separator the spreadsheet uses."""

import csv
import io

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.factories import auth_headers, make_event, make_user

FORMULA_STARTS = ("=", "+", "-", "@")
# What a spreadsheet in a locale with another list separator splits a line at.
SEPARATORS = [",", ";", "\t", "|"]


async def guest_list_csv(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, full_names: list[str]
) -> str:
    owner = await make_user(db, role=Role.ORGANIZER)
    event = await make_event(db, owner, capacity=len(full_names))
    for full_name in full_names:
        headers = await auth_headers(db, settings, await make_user(db, full_name=full_name))
        booked = await client.post("/api/v1/bookings", headers=headers, json={"event_id": event.id})
        assert booked.status_code == 201, booked.text
    response = await client.get(
        f"/api/v1/events/{event.id}/bookings?format=csv",
        headers=await auth_headers(db, settings, owner),
    )
    assert response.status_code == 200
    return response.text


def cells(text: str, delimiter: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text), delimiter=delimiter) for cell in row]


@pytest.mark.parametrize("delimiter", SEPARATORS)
async def test_no_cell_starts_a_formula_whatever_the_separator(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, delimiter: str
) -> None:
    names = [
        "x;=cmd|' /C calc'!A0;",
        "a,+1+1",
        "b\t@SUM(A1)",
        'c;"=HYPERLINK(""http://x"")',
        "d| -2+3",
        "=1+1",
    ]
    text = await guest_list_csv(client, db, settings, names)

    for cell in cells(text, delimiter):
        # Spreadsheets skip leading blanks and quotes; a leading apostrophe makes the cell text.
        start = cell.lstrip(' "\t\r\n')
        assert not start.startswith(FORMULA_STARTS), (
            f"{cell!r} would run as a formula with {delimiter!r} as separator"
        )


async def test_guarded_names_keep_their_text_after_an_apostrophe(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    text = await guest_list_csv(client, db, settings, ["x;=cmd|' /C calc'!A0;", "Anne-Marie"])

    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["full_name"] for row in rows] == ["x;'=cmd|' /C calc'!A0;", "Anne-Marie"]
