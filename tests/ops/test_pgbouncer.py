"""PgBouncer in transaction mode between many server processes and PostgreSQL: with
BOXOFFICE_DATABASE_PGBOUNCER=true every transaction may run on another server connection, and
rushes stay exact without a single error."""

import random
from collections.abc import Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.bookings.invariants import assert_seats_exact
from tests.bookings.test_rush import confirmed_seats, outcomes, post_all
from tests.conftest import IN_CI
from tests.factories import make_attendees_with_headers, make_event, make_user
from tests.ops.pgbouncer import find_binary, running_pgbouncer
from tests.servers import running_servers

pytestmark = pytest.mark.engines("postgresql")

RUSH = 200
CAPACITY = 50


@pytest.fixture(scope="module")
def pgbouncer_url(database_url: str) -> Iterator[str]:
    binary = find_binary()
    if binary is None:
        if IN_CI:
            pytest.fail("CI=true and pgbouncer is not installed (.ci/run installs it with apt-get)")
        pytest.skip("pgbouncer is not installed (apt-get install pgbouncer)")
    with running_pgbouncer(binary, database_url) as url:
        yield url


@pytest.fixture(scope="module")
def servers_via_pgbouncer(pgbouncer_url: str, settings: Settings) -> Iterator[list[str]]:
    env = {
        "BOXOFFICE_DATABASE_URL": pgbouncer_url,
        "BOXOFFICE_DATABASE_PGBOUNCER": "true",
        "BOXOFFICE_SECRET_KEY": settings.secret_key.get_secret_value(),
        "BOXOFFICE_RATE_LIMITS_ENABLED": "false",
    }
    with running_servers(env, count=2) as urls:
        yield urls


async def test_rush_through_pgbouncer_sells_exactly_the_capacity(
    servers_via_pgbouncer: list[str], db: AsyncSession, settings: Settings
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=CAPACITY)
    crowd = await make_attendees_with_headers(db, settings, RUSH)

    answers = await post_all(servers_via_pgbouncer, [(h, {"event_id": event.id}) for h in crowd])

    assert outcomes(answers) == {"confirmed": CAPACITY, "sold_out": RUSH - CAPACITY}
    assert (await assert_seats_exact(db, event.id)).seats_booked == CAPACITY


async def test_waiting_list_rush_with_keys_through_pgbouncer_stays_exact(
    servers_via_pgbouncer: list[str], db: AsyncSession, settings: Settings
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER), capacity=CAPACITY)
    crowd = await make_attendees_with_headers(db, settings, RUSH)
    chooser = random.Random(3)
    requests: list[tuple[dict[str, str], dict[str, object]]] = [
        (
            {**headers, "Idempotency-Key": f"rush-{i}"},
            {"event_id": event.id, "seats": chooser.randint(1, 3), "join_waitlist": True},
        )
        for i, headers in enumerate(crowd)
    ]

    answers = await post_all(servers_via_pgbouncer, requests)
    replayed = await post_all(servers_via_pgbouncer, requests[:20])

    counted = outcomes(answers)
    assert set(counted) <= {"confirmed", "waitlisted"}
    assert counted["confirmed"] + counted["waitlisted"] == RUSH
    assert [a.json()["id"] for a in replayed] == [a.json()["id"] for a in answers[:20]]
    final = await assert_seats_exact(db, event.id)
    assert final.seats_booked == await confirmed_seats(db, event.id)
