"""Two doors, two scanners each, one ticket (SPEC §11): entry scans of one ticket rushing at
two check-in lists at the same moment, over real HTTP to two server processes, half of them
with a scanner key of their list and half as the organizer. Each list lets the ticket in once.

The ticket rushes in once for its first entry and once coming back after an exit, when each
list already knows it: a list judging two scans at once would then let it in twice, where on
its first entry it would more likely trip over a unique key. Afterwards every count is exact:
the answers, each list's counts, the scans stored and the ticket's first entry.
"""

import asyncio
from collections import Counter
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.bookings.models import Booking, Ticket
from boxoffice.door.models import Scan
from boxoffice.settings import Settings
from tests.door.support import Door

SCANS = 50
# Confirmed tickets besides the one rushed at: each list counts them without letting them in.
OTHER_TICKETS = 3


@dataclass(frozen=True)
class Rush:
    """An event's check-in lists, a scanner key of each, and the ticket rushed at."""

    door: Door
    list_ids: list[int]
    keys: list[dict[str, str]]
    code: str

    def scanner(self, i: int) -> tuple[int, dict[str, str]]:
        """The list of the i-th scan and who scans there: its key, or the organizer."""
        at = i % len(self.list_ids)
        by_key = i // len(self.list_ids) % 2 == 0
        return self.list_ids[at], self.keys[at] if by_key else self.door.owner


async def two_doors(client: httpx.AsyncClient, db: AsyncSession, settings: Settings) -> Rush:
    door = await Door.open(client, db, settings, capacity=OTHER_TICKETS + 1)
    codes = [(await door.book())["tickets"][0]["code"] for _ in range(OTHER_TICKETS + 1)]
    list_ids = [await door.main_entrance(), (await door.add_list())["id"]]
    return Rush(door, list_ids, [await door.scanner_key(i) for i in list_ids], codes[0])


async def scan_all(
    servers: Sequence[str], rush: Rush, bodies: Sequence[dict[str, object]]
) -> list[httpx.Response]:
    """Sends every scan at once, each list's scans spread over both server processes."""
    limits = httpx.Limits(max_connections=SCANS + 10, max_keepalive_connections=SCANS + 10)
    async with httpx.AsyncClient(limits=limits, timeout=120) as http:

        def send(i: int, body: dict[str, object]) -> Awaitable[httpx.Response]:
            list_id, headers = rush.scanner(i)
            server = servers[i // (2 * len(rush.list_ids)) % len(servers)]
            return http.post(
                f"{server}/api/v1/check-in-lists/{list_id}/scans", headers=headers, json=body
            )

        answers: list[httpx.Response] = await asyncio.gather(
            *(send(i, body) for i, body in enumerate(bodies))
        )
    assert Counter(a.status_code for a in answers) == {201: len(answers)}, next(
        a.text for a in answers if a.status_code != 201
    )
    return answers


async def scans_stored(db: AsyncSession, rush: Rush) -> int:
    stored = await db.scalar(
        select(func.count()).select_from(Scan).where(Scan.check_in_list_id.in_(rush.list_ids))
    )
    await db.commit()
    return int(stored or 0)


@pytest.mark.parametrize("coming_back", [False, True], ids=["first entry", "after an exit"])
async def test_one_ticket_rushing_two_doors_comes_in_once_through_each(
    servers: list[str],
    client: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,
    coming_back: bool,
) -> None:
    rush = await two_doors(client, db, settings)
    # In and out through both lists first: then each list already knows the ticket.
    before = [
        await rush.door.scan(list_id, rush.code, direction=direction)
        for list_id in rush.list_ids
        for direction in ("entry", "exit")
        if coming_back
    ]

    answers = await scan_all(servers, rush, [{"code": rush.code, "direction": "entry"}] * SCANS)

    for list_id in rush.list_ids:
        judged = Counter(
            (a.json()["result"], a.json()["reason"])
            for i, a in enumerate(answers)
            if rush.scanner(i)[0] == list_id
        )
        assert judged == {("ok", None): 1, ("refused", "already_inside"): SCANS // 2 - 1}
        assert await rush.door.counts(list_id) == {
            "tickets": OTHER_TICKETS + 1,
            "checked_in": 1,
            "inside": 1,
        }
    assert await scans_stored(db, rush) == len(before) + SCANS
    entries = [
        datetime.fromisoformat(a.json()["scanned_at"])
        for a in [*before, *answers]
        if a.json()["direction"] == "entry" and a.json()["result"] == "ok"
    ]
    ticket = (await db.execute(select(Ticket).where(Ticket.code == rush.code))).scalar_one()
    booking_entry = await db.scalar(
        select(Booking.checked_in_at).where(Booking.id == ticket.booking_id)
    )
    await db.commit()
    # Its first entry is kept: the one before the rush, or either of the two in it (one at
    # each list, at the same moment); its booking's is the same.
    assert ticket.checked_in_at in entries[: 1 if coming_back else 2]
    assert booking_entry == ticket.checked_in_at


async def test_one_scan_sent_many_times_at_once_is_judged_once(
    servers: list[str], client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    both = await two_doors(client, db, settings)
    # Every scan at the first list, half with its key and half as the organizer.
    rush = replace(both, list_ids=both.list_ids[:1], keys=both.keys[:1])
    body: dict[str, object] = {"code": rush.code, "direction": "entry", "nonce": "phone-1-0001"}

    answers = await scan_all(servers, rush, [body] * SCANS)

    distinct = {a.text for a in answers}
    assert len(distinct) == 1, distinct
    assert answers[0].json()["result"] == "ok"
    assert await scans_stored(db, rush) == 1
    assert await rush.door.counts(rush.list_ids[0]) == {
        "tickets": OTHER_TICKETS + 1,
        "checked_in": 1,
        "inside": 1,
    }
