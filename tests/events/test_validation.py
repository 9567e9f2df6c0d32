"""A create or edit body that breaks a rule is 422 validation_error, and nothing changes."""

from datetime import timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.events.support import EVENTS, count_events, event_path, in_days, new_event, stored_event
from tests.factories import make_event, signed_in

NEXT_WEEK = in_days(7)


def assert_validation_problem(response: httpx.Response) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "validation_error"
    assert problem["status"] == 422
    assert problem["errors"], problem
    for error in problem["errors"]:
        assert set(error) == {"loc", "msg"}


INVALID_CREATE_BODIES = {
    "starts_at in the past": {"starts_at": in_days(-1).isoformat(), "ends_at": None},
    "starts_at a minute ago": {
        "starts_at": in_days(0, hours=-1 / 60).isoformat(),
        "ends_at": None,
    },
    "ends_at equal to starts_at": {
        "starts_at": NEXT_WEEK.isoformat(),
        "ends_at": NEXT_WEEK.isoformat(),
    },
    "ends_at before starts_at": {
        "starts_at": NEXT_WEEK.isoformat(),
        "ends_at": (NEXT_WEEK - timedelta(minutes=1)).isoformat(),
    },
    "capacity 0": {"capacity": 0},
    "capacity negative": {"capacity": -5},
    "capacity 100001": {"capacity": 100_001},
    "capacity not a number": {"capacity": "many"},
    "unknown timezone": {"timezone": "Mars/Olympus_Mons"},
    "empty timezone": {"timezone": ""},
    "blank title": {"title": "   "},
    "empty title": {"title": ""},
    "blank location": {"location": " \t "},
    "title of 201 characters": {"title": "t" * 201},
    "location of 201 characters": {"location": "l" * 201},
    "description of 5001 characters": {"description": "d" * 5001},
    "naive starts_at": {"starts_at": "2100-01-01T19:00:00", "ends_at": None},
    "naive ends_at": {
        "starts_at": "2100-01-01T19:00:00Z",
        "ends_at": "2100-01-01T21:00:00",
    },
    "starts_at not a time": {"starts_at": "next friday"},
    "seats_booked": {"seats_booked": 5},
    "waitlist_count": {"waitlist_count": 0},
    "organizer_id": {"organizer_id": 1},
    "id": {"id": 1},
    "deleted_at": {"deleted_at": None},
    "status cancelled": {"status": "cancelled"},
    "status unknown": {"status": "live"},
    "null title": {"title": None},
}


@pytest.mark.parametrize("overrides", INVALID_CREATE_BODIES.values(), ids=INVALID_CREATE_BODIES)
async def test_invalid_create_body_is_refused_and_creates_nothing(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, overrides: dict[str, object]
) -> None:
    _, headers = await signed_in(db, settings, Role.ORGANIZER)

    response = await client.post(EVENTS, headers=headers, json=new_event(**overrides))

    assert_validation_problem(response)
    assert await count_events(db) == 0


@pytest.mark.parametrize("missing", ["title", "location", "starts_at", "capacity"])
async def test_required_create_field_is_required(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, missing: str
) -> None:
    _, headers = await signed_in(db, settings, Role.ORGANIZER)
    body = new_event()
    del body[missing]

    response = await client.post(EVENTS, headers=headers, json=body)

    assert_validation_problem(response)
    assert ["body", missing] in [error["loc"] for error in response.json()["errors"]]
    assert await count_events(db) == 0


async def test_starts_at_in_the_past_names_the_field(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    _, headers = await signed_in(db, settings, Role.ORGANIZER)

    response = await client.post(
        EVENTS, headers=headers, json=new_event(starts_at=in_days(-1).isoformat(), ends_at=None)
    )

    assert response.json()["errors"][0]["loc"] == ["body", "starts_at"]


async def test_ends_at_before_starts_at_names_the_field(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    _, headers = await signed_in(db, settings, Role.ORGANIZER)
    body = new_event(ends_at=(NEXT_WEEK - timedelta(hours=1)).isoformat())
    body["starts_at"] = NEXT_WEEK.isoformat()

    response = await client.post(EVENTS, headers=headers, json=body)

    assert response.json()["errors"][0]["loc"] == ["body", "ends_at"]


VALID_EDGES = {
    "capacity 1": {"capacity": 1},
    "capacity 100000": {"capacity": 100_000},
    "title of 200 characters": {"title": "t" * 200},
    "description of 5000 characters": {"description": "d" * 5000},
    "empty description": {"description": ""},
    "zone with an offset of its own": {"timezone": "America/St_Johns"},
}


@pytest.mark.parametrize("overrides", VALID_EDGES.values(), ids=VALID_EDGES)
async def test_values_at_the_edge_of_the_rules_are_accepted(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, overrides: dict[str, object]
) -> None:
    _, headers = await signed_in(db, settings, Role.ORGANIZER)

    response = await client.post(EVENTS, headers=headers, json=new_event(**overrides))

    assert response.status_code == 201, response.text
    event = response.json()
    for field, value in overrides.items():
        assert event[field] == value


INVALID_EDITS = {
    "status": {"status": "published"},
    "status cancelled": {"status": "cancelled"},
    "null title": {"title": None},
    "null location": {"location": None},
    "null capacity": {"capacity": None},
    "null starts_at": {"starts_at": None},
    "null timezone": {"timezone": None},
    "null description": {"description": None},
    "blank title": {"title": "  "},
    "title of 201 characters": {"title": "t" * 201},
    "description of 5001 characters": {"description": "d" * 5001},
    "capacity 0": {"capacity": 0},
    "capacity 100001": {"capacity": 100_001},
    "unknown timezone": {"timezone": "Europe/Atlantis"},
    "naive starts_at": {"starts_at": "2100-01-01T19:00:00"},
    "starts_at in the past": {"starts_at": in_days(-1).isoformat()},
    "ends_at before starts_at": {"ends_at": in_days(1).isoformat()},
    "starts_at after ends_at": {"starts_at": in_days(30).isoformat()},
    "seats_booked": {"seats_booked": 0},
    "organizer_id": {"organizer_id": 1},
}


@pytest.mark.parametrize("changes", INVALID_EDITS.values(), ids=INVALID_EDITS)
async def test_invalid_edit_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, changes: dict[str, object]
) -> None:
    organizer, headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer, capacity=10, title="Jazz Night", description="Live")
    before = await stored_event(db, event.id)
    snapshot = {c.key: getattr(before, c.key) for c in before.__table__.columns}

    response = await client.patch(event_path(event.id), headers=headers, json=changes)

    assert_validation_problem(response)
    after = await stored_event(db, event.id)
    assert {c.key: getattr(after, c.key) for c in after.__table__.columns} == snapshot


async def test_edit_moving_ends_at_before_starts_at_names_the_field(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    organizer, headers = await signed_in(db, settings, Role.ORGANIZER)
    event = await make_event(db, organizer, starts_in=timedelta(days=7))

    response = await client.patch(
        event_path(event.id), headers=headers, json={"ends_at": in_days(6).isoformat()}
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "ends_at"]


async def test_body_that_is_not_an_object_is_refused(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    _, headers = await signed_in(db, settings, Role.ORGANIZER)

    response = await client.post(EVENTS, headers=headers, json=["Jazz Night"])

    assert_validation_problem(response)
    assert await count_events(db) == 0
