"""GET /events: published and upcoming by default; filters, own events, sort orders and pages."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.events.models import Event, EventStatus
from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.events.support import EVENTS, in_days, set_event
from tests.factories import make_event, make_user, signed_in


async def listed(
    client: httpx.AsyncClient, headers: dict[str, str] | None = None, **params: str | int
) -> list[int]:
    response = await client.get(EVENTS, headers=headers or {}, params=params)
    assert response.status_code == 200, response.text
    return [event["id"] for event in response.json()["items"]]


def ids(*events: Event) -> list[int]:
    return [event.id for event in events]


async def test_listing_is_a_page_of_events(client: httpx.AsyncClient, db: AsyncSession) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER)
    await make_event(db, organizer)

    response = await client.get(EVENTS)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"items", "total", "limit", "offset"}
    assert (body["total"], body["limit"], body["offset"]) == (1, 20, 0)


async def test_default_listing_has_only_published_upcoming_events(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER)
    soon = await make_event(db, organizer, starts_in=timedelta(hours=1))
    later = await make_event(db, organizer, starts_in=timedelta(days=30))
    await make_event(db, organizer, status=EventStatus.DRAFT)
    await make_event(db, organizer, status=EventStatus.CANCELLED)
    await make_event(db, organizer, starts_in=-timedelta(minutes=1))
    deleted = await make_event(db, organizer)
    await set_event(db, deleted.id, deleted_at=in_days(-1))

    assert await listed(client) == ids(soon, later)
    assert (await client.get(EVENTS)).json()["total"] == 2


async def test_upcoming_only_false_includes_events_that_have_started(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER)
    past = await make_event(db, organizer, starts_in=-timedelta(days=3))
    running = await make_event(db, organizer, starts_in=-timedelta(minutes=5))
    upcoming = await make_event(db, organizer, starts_in=timedelta(days=1))
    await make_event(db, organizer, status=EventStatus.DRAFT, starts_in=-timedelta(days=1))

    assert await listed(client, upcoming_only="false") == ids(past, running, upcoming)


@pytest.mark.parametrize("field", ["title", "description", "location"])
@pytest.mark.parametrize("q", ["jazz", "JAZZ", "jAzZ", "Jazz Nig"])
async def test_q_matches_title_description_and_location_ignoring_case(
    client: httpx.AsyncClient, db: AsyncSession, field: str, q: str
) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER)
    await make_event(db, organizer, title="Opera", description="Arias", location="Hall")
    fields = {
        "title": "Opera",
        "description": "Arias",
        "location": "Hall",
        field: "Late Jazz Night",
    }
    match = await make_event(
        db,
        organizer,
        title=fields["title"],
        description=fields["description"],
        location=fields["location"],
    )

    assert await listed(client, q=q) == ids(match)


async def test_q_matches_in_any_of_the_fields(client: httpx.AsyncClient, db: AsyncSession) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER)
    by_title = await make_event(db, organizer, title="Folk", starts_in=timedelta(days=1))
    by_description = await make_event(
        db, organizer, description="folk songs", starts_in=timedelta(days=2)
    )
    by_location = await make_event(db, organizer, location="FOLKHOUSE", starts_in=timedelta(days=3))
    await make_event(db, organizer, title="Rock", starts_in=timedelta(days=4))

    assert await listed(client, q="folk") == ids(by_title, by_description, by_location)


@pytest.mark.parametrize(
    ("q", "matching"),
    [
        ("%", "100% Jazz"),
        ("0%", "100% Jazz"),
        ("_", "late_night"),
        ("e_n", "late_night"),
        ("\\", "back\\slash"),
        ("/", "a/b"),
    ],
)
async def test_wildcards_in_q_are_literal_characters(
    client: httpx.AsyncClient, db: AsyncSession, q: str, matching: str
) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER)
    titles = ["100% Jazz", "1000 Jazz", "late_night", "latEXnight", "back\\slash", "a/b", "ab"]
    events = {title: await make_event(db, organizer, title=title) for title in titles}

    assert await listed(client, q=q) == ids(events[matching])


async def test_location_filter_matches_part_of_the_location_ignoring_case(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER)
    berlin = await make_event(db, organizer, location="Kulturhaus, Berlin")
    await make_event(db, organizer, location="Opera, Paris", title="Berlin Philharmonic")

    assert await listed(client, location="berlin") == ids(berlin)


async def test_location_filter_treats_wildcards_literally(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER)
    await make_event(db, organizer, location="Hall A")

    assert await listed(client, location="%") == []


async def test_starts_after_and_starts_before_bound_the_start_time(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER)
    first = await make_event(db, organizer, starts_in=timedelta(days=1))
    second = await make_event(db, organizer, starts_in=timedelta(days=2))
    third = await make_event(db, organizer, starts_in=timedelta(days=3))
    after, before = in_days(1, hours=12).isoformat(), in_days(2, hours=12).isoformat()

    assert await listed(client, starts_after=after) == ids(second, third)
    assert await listed(client, starts_before=before) == ids(first, second)
    assert await listed(client, starts_after=after, starts_before=before) == ids(second)


async def test_starts_after_includes_an_event_starting_at_that_instant(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER)
    event = await make_event(db, organizer)
    at = datetime(2100, 1, 1, 12, 0, tzinfo=UTC)
    await set_event(db, event.id, starts_at=at, ends_at=None)

    assert await listed(client, starts_after="2100-01-01T13:00:00+01:00") == ids(event)
    assert await listed(client, starts_before="2100-01-01T13:00:00+01:00") == []


async def test_organizer_id_gives_that_organizers_published_events(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    ann = await make_user(db, role=Role.ORGANIZER)
    bob = await make_user(db, role=Role.ORGANIZER)
    anns = await make_event(db, ann)
    await make_event(db, ann, status=EventStatus.DRAFT)
    await make_event(db, bob)

    assert await listed(client, organizer_id=ann.id) == ids(anns)


async def test_mine_gives_own_events_of_every_status(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    organizer, headers = await signed_in(db, settings, Role.ORGANIZER)
    draft = await make_event(db, organizer, status=EventStatus.DRAFT, starts_in=timedelta(days=1))
    published = await make_event(db, organizer, starts_in=timedelta(days=2))
    cancelled = await make_event(
        db, organizer, status=EventStatus.CANCELLED, starts_in=timedelta(days=3)
    )
    other = await make_user(db, role=Role.ORGANIZER)
    await make_event(db, other)
    await make_event(db, other, status=EventStatus.DRAFT)

    assert await listed(client, headers, mine="true") == ids(draft, published, cancelled)


@pytest.mark.parametrize("status", list(EventStatus))
async def test_status_narrows_own_events(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, status: EventStatus
) -> None:
    organizer, headers = await signed_in(db, settings, Role.ORGANIZER)
    events = {s: await make_event(db, organizer, status=s) for s in EventStatus}
    other = await make_user(db, role=Role.ORGANIZER)
    await make_event(db, other, status=status)

    assert await listed(client, headers, mine="true", status=status.value) == ids(events[status])


async def test_mine_as_admin_gives_the_admins_own_events(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    admin, headers = await signed_in(db, settings, Role.ADMIN)
    own = await make_event(db, admin, status=EventStatus.DRAFT)
    organizer = await make_user(db, role=Role.ORGANIZER)
    await make_event(db, organizer)

    assert await listed(client, headers, mine="true") == ids(own)


async def test_mine_as_attendee_is_forbidden(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    _, headers = await signed_in(db, settings, Role.ATTENDEE)

    response = await client.get(EVENTS, headers=headers, params={"mine": "true"})

    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


async def test_mine_without_a_token_is_not_authenticated(client: httpx.AsyncClient) -> None:
    response = await client.get(EVENTS, params={"mine": "true"})

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("role", [Role.ORGANIZER, None])
async def test_status_without_mine_is_refused(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, role: Role | None
) -> None:
    headers = (await signed_in(db, settings, role))[1] if role else {}

    response = await client.get(EVENTS, headers=headers, params={"status": "draft"})

    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert response.json()["errors"][0]["loc"] == ["query", "status"]


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 101},
        {"limit": -1},
        {"limit": "ten"},
        {"offset": -1},
        {"offset": "x"},
        {"sort": "title"},
        {"sort": "-id"},
        {"mine": "true", "status": "archived"},
        {"upcoming_only": "perhaps"},
        {"starts_after": "2100-01-01T10:00:00"},
        {"starts_before": "tomorrow"},
        {"organizer_id": 0},
        {"organizer_id": "abc"},
        {"organizer_id": 99999999999},
        {"q": "x" * 201},
    ],
    ids=str,
)
async def test_malformed_listing_parameter_is_refused(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, params: dict[str, str | int]
) -> None:
    _, headers = await signed_in(db, settings, Role.ORGANIZER)

    response = await client.get(EVENTS, headers=headers, params=params)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "validation_error"


async def make_events_starting(db: AsyncSession, starts: list[datetime]) -> list[Event]:
    organizer = await make_user(db, role=Role.ORGANIZER)
    events = []
    for starts_at in starts:
        event = await make_event(db, organizer)
        await set_event(db, event.id, starts_at=starts_at, ends_at=None)
        events.append(event)
    return events


@pytest.mark.parametrize(
    ("sort", "expected"),
    [("starts_at", [1, 2, 0]), ("-starts_at", [0, 2, 1])],
)
async def test_sort_by_start_time(
    client: httpx.AsyncClient, db: AsyncSession, sort: str, expected: list[int]
) -> None:
    events = await make_events_starting(db, [in_days(3), in_days(1), in_days(2)])

    assert await listed(client, sort=sort) == [events[i].id for i in expected]


async def test_start_time_is_the_default_order(client: httpx.AsyncClient, db: AsyncSession) -> None:
    events = await make_events_starting(db, [in_days(3), in_days(1), in_days(2)])

    assert await listed(client) == ids(events[1], events[2], events[0])


@pytest.mark.parametrize(
    ("sort", "expected"),
    [("created_at", [1, 2, 0]), ("-created_at", [0, 2, 1])],
)
async def test_sort_by_creation_time(
    client: httpx.AsyncClient, db: AsyncSession, sort: str, expected: list[int]
) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER)
    events = [await make_event(db, organizer) for _ in range(3)]
    for event, days_ago in zip(events, [1, 3, 2], strict=True):
        await set_event(db, event.id, created_at=in_days(-days_ago))

    assert await listed(client, sort=sort) == [events[i].id for i in expected]


@pytest.mark.parametrize(
    ("sort", "ascending"),
    [("starts_at", True), ("-starts_at", False), ("created_at", True), ("-created_at", False)],
)
async def test_ties_are_broken_by_id(
    client: httpx.AsyncClient, db: AsyncSession, sort: str, ascending: bool
) -> None:
    same = in_days(5)
    events = await make_events_starting(db, [same] * 5)
    for event in events:
        await set_event(db, event.id, created_at=in_days(-1))
    by_id = sorted(ids(*events), reverse=not ascending)

    assert await listed(client, sort=sort) == by_id


@pytest.mark.parametrize("sort", ["starts_at", "-starts_at", "created_at", "-created_at"])
async def test_paging_through_ties_shows_every_event_exactly_once(
    client: httpx.AsyncClient, db: AsyncSession, sort: str
) -> None:
    same = in_days(5)
    events = await make_events_starting(db, [same] * 4 + [in_days(4), in_days(6)])
    for event in events:
        await set_event(db, event.id, created_at=in_days(-1))

    pages = [await listed(client, sort=sort, limit=1, offset=offset) for offset in range(6)]

    seen = [page[0] for page in pages]
    assert sorted(seen) == sorted(ids(*events))
    assert seen == await listed(client, sort=sort)


async def test_limit_and_offset_select_a_page_and_total_counts_all(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER)
    events = [await make_event(db, organizer, starts_in=timedelta(days=d)) for d in range(1, 6)]

    response = await client.get(EVENTS, params={"limit": 2, "offset": 2})

    body = response.json()
    assert [e["id"] for e in body["items"]] == ids(*events[2:4])
    assert (body["total"], body["limit"], body["offset"]) == (5, 2, 2)


async def test_last_partial_page_and_beyond(client: httpx.AsyncClient, db: AsyncSession) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER)
    events = [await make_event(db, organizer, starts_in=timedelta(days=d)) for d in range(1, 6)]

    last = (await client.get(EVENTS, params={"limit": 2, "offset": 4})).json()
    beyond = (await client.get(EVENTS, params={"limit": 2, "offset": 10})).json()

    assert ([e["id"] for e in last["items"]], last["total"]) == (ids(events[4]), 5)
    assert (beyond["items"], beyond["total"]) == ([], 5)


async def test_total_counts_only_matching_events(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER)
    for day in range(1, 4):
        await make_event(db, organizer, title=f"Jazz {day}", starts_in=timedelta(days=day))
        await make_event(db, organizer, title=f"Rock {day}", starts_in=timedelta(days=day))
    await make_event(db, organizer, title="Jazz draft", status=EventStatus.DRAFT)

    body = (await client.get(EVENTS, params={"q": "jazz", "limit": 1})).json()

    assert (len(body["items"]), body["total"]) == (1, 3)


@pytest.mark.parametrize("limit", [1, 100])
async def test_limit_bounds_are_accepted(
    client: httpx.AsyncClient, db: AsyncSession, limit: int
) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER)
    await make_event(db, organizer)
    await make_event(db, organizer)

    body = (await client.get(EVENTS, params={"limit": limit})).json()

    assert (len(body["items"]), body["limit"]) == (min(limit, 2), limit)
