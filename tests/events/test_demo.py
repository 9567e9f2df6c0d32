"""`boxoffice demo`, run as a person would: sample accounts and published events, once."""

import os
import subprocess
import sys

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.demo import DEMO_ATTENDEES, DEMO_EVENTS, DEMO_ORGANIZERS, DEMO_PASSWORD
from boxoffice.events.models import Event
from boxoffice.users.models import User
from tests.events.support import EVENTS, parse_time


def demo(database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "boxoffice.cli", "demo"],
        env={**os.environ, "BOXOFFICE_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def row_counts(db: AsyncSession) -> tuple[int, int]:
    users = (await db.execute(select(func.count()).select_from(User))).scalar_one()
    events = (await db.execute(select(func.count()).select_from(Event))).scalar_one()
    await db.commit()
    return users, events


async def test_demo_publishes_sample_events_and_prints_the_accounts(
    database_url: str, client: httpx.AsyncClient
) -> None:
    result = demo(database_url)

    assert result.returncode == 0, result.stderr
    assert DEMO_PASSWORD in result.stdout
    for email, _ in (*DEMO_ORGANIZERS, *DEMO_ATTENDEES):
        assert email in result.stdout
    listing = (await client.get(EVENTS, params={"limit": 100})).json()
    assert listing["total"] == len(DEMO_EVENTS) >= 8
    events = listing["items"]
    assert {e["title"] for e in events} == {sample.title for sample in DEMO_EVENTS}
    assert {e["status"] for e in events} == {"published"}
    assert len({e["timezone"] for e in events}) > 3
    assert len({e["location"] for e in events}) == len(events)
    assert len({e["capacity"] for e in events}) > 3
    assert len({e["organizer_name"] for e in events}) == len(DEMO_ORGANIZERS)
    starts = sorted(parse_time(e["starts_at"]) for e in events)
    assert (starts[-1] - starts[0]).days >= 14, "from days to weeks ahead"


async def test_demo_accounts_can_log_in_with_their_roles(
    database_url: str, client: httpx.AsyncClient
) -> None:
    demo(database_url)

    for accounts, role in ((DEMO_ORGANIZERS, "organizer"), (DEMO_ATTENDEES, "attendee")):
        for email, full_name in accounts:
            login = await client.post(
                "/api/v1/auth/login", json={"email": email, "password": DEMO_PASSWORD}
            )
            assert login.status_code == 200, (email, login.text)
            me = await client.get(
                "/api/v1/users/me",
                headers={"Authorization": f"Bearer {login.json()['access_token']}"},
            )
            assert (me.json()["role"], me.json()["full_name"]) == (role, full_name)


async def test_demo_run_twice_succeeds_and_adds_nothing(
    database_url: str, client: httpx.AsyncClient, db: AsyncSession
) -> None:
    demo(database_url)
    counts = await row_counts(db)

    again = demo(database_url)

    assert again.returncode == 0, again.stderr
    assert "already" in again.stdout
    assert await row_counts(db) == counts
    assert (await client.get(EVENTS)).json()["total"] == len(DEMO_EVENTS)
