"""However malformed a request is, it gets a 4xx problem, never a 5xx (SPEC §6a).

Each case here was a 500 against a running server before it was fixed: deeply nested JSON,
datetimes that overflow when turned into UTC, and event times that break the calendar file.
"""

import logging
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.db import utcnow
from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.events.support import EVENTS, event_path, new_event
from tests.factories import make_event, make_user, signed_in
from tests.test_errors import assert_problem


def nested(depth: int) -> bytes:
    return b'{"refresh_token": ' + b"[" * depth + b"]" * depth + b"}"


@pytest.mark.parametrize("depth", [900, 100_000])
async def test_deeply_nested_json_is_refused(
    client: httpx.AsyncClient, depth: int, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="boxoffice"):
        response = await client.post(
            "/api/v1/auth/refresh",
            content=nested(depth),
            headers={"content-type": "application/json"},
        )

    assert_problem(response, 422, "validation_error")
    assert not caplog.records, "a refused request logs no error (and no traceback)"


@pytest.mark.parametrize("depth", [900, 100_000])
async def test_deeply_nested_json_is_refused_on_login_and_event_bodies(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, depth: int
) -> None:
    _, headers = await signed_in(db, settings, Role.ORGANIZER)
    body = b'{"title": ' + b"[" * depth + b"]" * depth + b"}"

    login = await client.post(
        "/api/v1/auth/login",
        content=b'{"email": ' + b"[" * depth + b"]" * depth + b"}",
        headers={"content-type": "application/json"},
    )
    create = await client.post(
        EVENTS, content=body, headers={**headers, "content-type": "application/json"}
    )

    assert_problem(login, 422, "validation_error")
    assert_problem(create, 422, "validation_error")


@pytest.mark.parametrize(
    "value",
    [
        "9999-12-31T23:59:59-05:00",
        "0001-01-01T00:00:00+05:00",
        "9999-12-31T23:59:59+00:00",
        "0001-01-01T00:00:00Z",
        "3000-01-01T00:00:00Z",
    ],
)
@pytest.mark.parametrize("name", ["starts_after", "starts_before"])
async def test_out_of_range_listing_filters_are_validation_errors(
    client: httpx.AsyncClient, name: str, value: str
) -> None:
    response = await client.get(EVENTS, params={name: value})

    body = assert_problem(response, 422, "validation_error")
    assert body["errors"][0]["loc"] == ["query", name]  # type: ignore[index]


async def test_listing_filters_at_the_edges_of_the_range_are_accepted(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(
        EVENTS,
        params={
            "starts_after": "1970-01-01T00:00:00Z",
            "starts_before": "2999-12-31T23:59:59+14:00",
            "upcoming_only": "false",
        },
    )

    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "value",
    [
        "9999-12-31T23:59:59-05:00",
        "0001-01-01T00:00:00+05:00",
        "9999-12-31T20:00:00Z",
        "3000-01-01T00:00:00Z",
        "2999-12-31T23:00:00-01:00",
        "1999-12-31T23:59:59Z",
    ],
)
@pytest.mark.parametrize("name", ["starts_at", "ends_at"])
async def test_out_of_range_event_times_are_refused_on_create_and_edit(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, name: str, value: str
) -> None:
    _, headers = await signed_in(db, settings, Role.ORGANIZER)
    created = await client.post(EVENTS, headers=headers, json=new_event())
    assert created.status_code == 201, created.text

    create = await client.post(EVENTS, headers=headers, json=new_event(**{name: value}))
    edit = await client.patch(event_path(created.json()["id"]), headers=headers, json={name: value})

    for response in (create, edit):
        body = assert_problem(response, 422, "validation_error")
        assert body["errors"][0]["loc"] == ["body", name]  # type: ignore[index]


async def test_event_at_the_end_of_time_in_kiritimati_is_refused(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    _, headers = await signed_in(db, settings, Role.ORGANIZER)

    response = await client.post(
        EVENTS,
        headers=headers,
        json=new_event(
            starts_at="9999-12-31T20:00:00Z",
            ends_at=None,
            timezone="Pacific/Kiritimati",
            status="published",
        ),
    )

    assert_problem(response, 422, "validation_error")
    listing = await client.get(EVENTS)
    assert listing.json()["total"] == 0, "nothing was stored"


async def test_calendar_of_the_latest_allowed_event_in_the_furthest_zones(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    _, headers = await signed_in(db, settings, Role.ORGANIZER)
    for zone in ("Pacific/Kiritimati", "Etc/GMT+12"):
        created = await client.post(
            EVENTS,
            headers=headers,
            json=new_event(
                starts_at="2999-12-31T22:00:00Z",
                ends_at="2999-12-31T23:59:59.999999Z",
                timezone=zone,
                status="published",
            ),
        )
        assert created.status_code == 201, created.text

        calendar = await client.get(event_path(created.json()["id"], "calendar.ics"))

        assert calendar.status_code == 200, calendar.text
        assert b"BEGIN:VEVENT" in calendar.content


async def test_calendar_of_an_event_stored_before_the_range_existed_still_answers(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    # Rows written before the range was enforced keep working: the file falls back to UTC.
    organizer = await make_user(db, role=Role.ORGANIZER)
    end_of_time = datetime(9999, 12, 31, 20, 0, tzinfo=UTC)
    event = await make_event(
        db, organizer, starts_in=end_of_time - utcnow(), timezone="Pacific/Kiritimati"
    )

    calendar = await client.get(event_path(event.id, "calendar.ics"))

    assert calendar.status_code == 200, calendar.text
    assert b"DTSTART:99991231T200000Z" in calendar.content
