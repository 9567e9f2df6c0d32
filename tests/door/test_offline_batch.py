"""Scanners that lost the network (SPEC §11): three phones at one door keep scanning, each with
its own clock and nonces, and upload what they saw as one batch. The server must judge it as if
it had seen every scan live, in the order of `scanned_at` (ties in the order sent), and answer
in the order sent; a batch sent again is answered again, the same, and changes nothing.

The judge here is a reference model: SPEC §11's rules stated anew in a few lines, on purpose
not boxoffice's own.
"""

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.bookings.models import Ticket
from boxoffice.db import utcnow
from boxoffice.door.models import Scan
from boxoffice.door.schemas import MAX_BATCH
from boxoffice.settings import Settings
from tests.door.support import Door
from tests.factories import first_ticket_type, make_attendees, make_ticket_type

DEVICES = 3
# Scans a phone queued twice, having resent them after a timeout.
RESENT = 10
# Codes no ticket can have: ticket codes never contain O or 1.
UNKNOWN_CODES = ("NOSUCHCODE1", "OLDTICKET10", "COUPON1OFF")
ENDED = {"cancelled", "expired"}


@dataclass(frozen=True)
class Seat:
    """One ticket as the model knows it."""

    code: str
    booking_id: int
    booking_code: str
    type_id: int
    status: str


@dataclass(frozen=True)
class OfflineScan:
    code: str
    direction: str
    force: bool
    nonce: str
    scanned_at: datetime

    def body(self) -> dict[str, object]:
        return {
            "code": self.code,
            "direction": self.direction,
            "force": self.force,
            "nonce": self.nonce,
            "scanned_at": self.scanned_at.isoformat(),
        }


@dataclass(frozen=True)
class Judged:
    result: str
    reason: str | None = None
    forced: bool = False
    seats: int = 0

    @classmethod
    def of(cls, answer: dict[str, Any]) -> "Judged":
        return cls(answer["result"], answer["reason"], answer["forced"], answer["seats"])


@dataclass
class ReferenceDoor:
    """SPEC §11 at one list. A ticket's code names that ticket, a booking's code every ticket of
    the booking; tickets of types the list does not admit are not its business. An entry lets in
    whoever named is outside (and, without re-entry, has never come in); if nobody may, it is
    refused as already inside, unless forced: then all of them come in again, and the scan says
    so. An exit lets out whoever named is inside, whatever their status. A nonce seen before
    gets its first answer."""

    seats: list[Seat]
    admits: set[int]
    allow_reentry: bool
    inside: set[str] = field(default_factory=set)
    entries: Counter[str] = field(default_factory=Counter)
    first_entry: dict[str, datetime] = field(default_factory=dict)
    answered: dict[str, Judged] = field(default_factory=dict)

    def named(self, code: str) -> list[Seat]:
        return [seat for seat in self.seats if code in (seat.code, seat.booking_code)]

    def scan(self, scan: OfflineScan) -> Judged:
        named = self.named(scan.code)
        if not named:
            return Judged("refused", "unknown_ticket")
        if scan.direction == "exit":
            # Whoever is inside may leave, whatever became of their booking.
            leaving = [seat.code for seat in named if seat.code in self.inside]
            self.inside -= set(leaving)
            return Judged("ok", seats=len(leaving))
        if named[0].status in ENDED:
            return Judged("refused", "cancelled")
        if named[0].status != "confirmed":
            return Judged("refused", "not_confirmed")
        ours = [seat.code for seat in named if seat.type_id in self.admits]
        if not ours:
            return Judged("refused", "wrong_ticket_type")
        may = [
            c for c in ours if c not in self.inside and (self.allow_reentry or not self.entries[c])
        ]
        if not may and not scan.force:
            return Judged("refused", "already_inside")
        for code in may or ours:
            self.inside.add(code)
            self.entries[code] += 1
            self.first_entry.setdefault(code, scan.scanned_at)
        return Judged("ok", forced=not may, seats=len(may or ours))

    def replay(self, batch: list[OfflineScan]) -> list[Judged]:
        """The batch's answers, in the order sent, judged in the order scanned."""
        order = sorted(range(len(batch)), key=lambda i: (batch[i].scanned_at, i))
        for i in order:
            if batch[i].nonce not in self.answered:
                self.answered[batch[i].nonce] = self.scan(batch[i])
        return [self.answered[scan.nonce] for scan in batch]

    def counts(self) -> dict[str, int]:
        ours = [s.code for s in self.seats if s.status == "confirmed" and s.type_id in self.admits]
        return {
            "tickets": len(ours),
            "checked_in": sum(1 for code in ours if self.entries[code]),
            "inside": len(self.inside),
        }


@dataclass
class StageDoor:
    """An event's second list, admitting two of its three types; a scanner key of it; and the
    model of it."""

    door: Door
    list_id: int
    key: dict[str, str]
    model: ReferenceDoor


async def stage_door(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, *, allow_reentry: bool
) -> StageDoor:
    door = await Door.open(client, db, settings, capacity=100)
    standing = (await first_ticket_type(db, door.event)).id
    vip = (await make_ticket_type(db, door.event, name="VIP")).id
    balcony = (await make_ticket_type(db, door.event, name="Balcony", price_minor=2500)).id
    # Lines of each booking: 40 people alone, 8 VIPs, parties (two with a VIP among them), a
    # party that cancelled and one that has not paid yet.
    orders = [{standing: 1}] * 40 + [{vip: 1}] * 8
    orders += [{standing: n} for n in (2, 3, 4, 5)] + [{standing: 2, vip: 1}] * 2
    cancelled, pending = {standing: 3}, {balcony: 2}
    orders += [cancelled, pending]
    seats = []
    for lines, holder in zip(orders, await make_attendees(db, settings, len(orders)), strict=True):
        body = {
            "event_id": door.event.id,
            "lines": [{"ticket_type_id": t, "quantity": n} for t, n in lines.items()],
        }
        booked = await client.post("/api/v1/bookings", headers=holder.headers, json=body)
        assert booked.status_code == 201, booked.text
        booking = booked.json()
        if lines is cancelled:
            gone = await client.delete(f"/api/v1/bookings/{booking['id']}", headers=holder.headers)
            assert gone.status_code == 200, gone.text
            booking = gone.json()
        seats += [
            Seat(
                t["code"],
                booking["id"],
                booking["ticket_code"],
                t["ticket_type_id"],
                booking["status"],
            )
            for t in booking["tickets"]
        ]
    assert Counter(seat.status for seat in seats) == {"confirmed": 68, "cancelled": 3, "pending": 2}
    admits = [standing, balcony]
    made = await door.add_list(
        name="Stage door", ticket_type_ids=admits, allow_reentry=allow_reentry
    )
    key = await door.scanner_key(made["id"])
    return StageDoor(door, made["id"], key, ReferenceDoor(seats, set(admits), allow_reentry))


def phones(
    door: ReferenceDoor, chooser: random.Random, *, size: int, start: datetime, first: int = 0
) -> list[OfflineScan]:
    """`size` scans from three phones, merged as an uploader would: each phone's own in its
    order, the phones' interleaved. Their clocks tick in whole seconds, so phones tie."""
    tickets = [seat.code for seat in door.seats]
    # In the order booked, not by code: codes are random, and the seed must choose the same.
    parties = list(dict.fromkeys(seat.booking_code for seat in door.seats))
    queues = []
    for phone in range(DEVICES):
        at, queue = start, []
        for n in range(first, first + (size - RESENT) // DEVICES):
            at += timedelta(seconds=chooser.randint(0, 4))
            (pool,) = chooser.choices([tickets, parties, UNKNOWN_CODES], weights=[80, 15, 5])
            direction = chooser.choices(["entry", "exit"], weights=[70, 30])[0]
            force = direction == "entry" and chooser.random() < 0.15
            queue.append(
                OfflineScan(chooser.choice(pool), direction, force, f"phone{phone}-{n}", at)
            )
        queues.append(queue)
    for _ in range(RESENT):
        queue = chooser.choice(queues)
        queue.append(chooser.choice(queue))
    batch = []
    while any(queues):
        batch.append(chooser.choice([q for q in queues if q]).pop(0))
    assert len(batch) == size
    return batch


async def upload(stage: StageDoor, batch: list[OfflineScan]) -> list[dict[str, Any]]:
    sent = await stage.door.client.post(
        f"/api/v1/check-in-lists/{stage.list_id}/scans/batch",
        headers=stage.key,
        json={"scans": [scan.body() for scan in batch]},
    )
    assert sent.status_code == 200, sent.text
    answers: list[dict[str, Any]] = sent.json()["results"]
    assert len(answers) == len(batch)
    return answers


async def scans_stored(db: AsyncSession, stage: StageDoor) -> int:
    stored = await db.scalar(
        select(func.count()).select_from(Scan).where(Scan.check_in_list_id == stage.list_id)
    )
    await db.commit()
    return int(stored or 0)


async def first_entries(db: AsyncSession, door: ReferenceDoor) -> dict[str, datetime | None]:
    rows = await db.execute(
        select(Ticket.code, Ticket.checked_in_at).where(
            Ticket.code.in_([seat.code for seat in door.seats]), Ticket.checked_in_at.is_not(None)
        )
    )
    await db.commit()
    return dict(rows.all())


def assert_answers_say_what_was_sent(
    answers: list[dict[str, Any]], batch: list[OfflineScan], door: ReferenceDoor
) -> None:
    tickets = {seat.code for seat in door.seats}
    assert [
        (
            a["code"],
            a["direction"],
            a["nonce"],
            datetime.fromisoformat(a["scanned_at"]),
            a["ticket"] and a["ticket"]["code"],
        )
        for a in answers
    ] == [
        (s.code, s.direction, s.nonce, s.scanned_at, s.code if s.code in tickets else None)
        for s in batch
    ]
    # One scan stored per nonce: a nonce sent twice got the first one's answer, id and all.
    ids = {(a["nonce"], a["id"]) for a in answers}
    assert len(ids) == len({a["nonce"] for a in answers}) == len({a["id"] for a in answers})


@pytest.mark.parametrize("allow_reentry", [True, False])
async def test_offline_batch_is_judged_in_the_order_scanned(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, allow_reentry: bool
) -> None:
    stage = await stage_door(client, db, settings, allow_reentry=allow_reentry)
    start = utcnow().replace(microsecond=0) - timedelta(hours=1)
    batch = phones(stage.model, random.Random(24), size=MAX_BATCH, start=start)

    answers = await upload(stage, batch)

    expected = stage.model.replay(batch)
    assert [Judged.of(a) for a in answers] == expected
    assert_answers_say_what_was_sent(answers, batch, stage.model)
    assert await stage.door.counts(stage.list_id) == stage.model.counts()
    assert await scans_stored(db, stage) == len({scan.nonce for scan in batch})
    assert await first_entries(db, stage.model) == stage.model.first_entry
    # The batch put every rule to work.
    assert {j.reason for j in expected} == {
        None,
        "unknown_ticket",
        "already_inside",
        "not_confirmed",
        "cancelled",
        "wrong_ticket_type",
    }
    assert any(j.forced for j in expected)
    assert any(j.seats > 1 and not j.forced for j in expected)
    assert any(s.direction == "exit" and j.seats for s, j in zip(batch, expected, strict=True))


async def test_a_batch_sent_again_gets_the_same_answers_and_changes_nothing(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    stage = await stage_door(client, db, settings, allow_reentry=True)
    start = utcnow().replace(microsecond=0) - timedelta(hours=1)
    batch = phones(stage.model, random.Random(31), size=MAX_BATCH, start=start)
    first = await upload(stage, batch)
    stage.model.replay(batch)

    again = await upload(stage, batch)

    assert again == first
    assert await scans_stored(db, stage) == len({scan.nonce for scan in batch})
    assert await stage.door.counts(stage.list_id) == stage.model.counts()
    assert await first_entries(db, stage.model) == stage.model.first_entry


async def test_nonces_sent_before_get_their_first_answers_among_new_scans(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    stage = await stage_door(client, db, settings, allow_reentry=True)
    chooser = random.Random(47)
    start = utcnow().replace(microsecond=0) - timedelta(hours=1)
    batch = phones(stage.model, chooser, size=MAX_BATCH, start=start)
    first = {answer["nonce"]: answer for answer in await upload(stage, batch)}
    stage.model.replay(batch)
    # The phones scanned on, and resend part of what they had sent. Some new scans were made
    # before the last ones already judged: they are judged after them all the same.
    later = phones(stage.model, chooser, size=610, start=start + timedelta(minutes=5), first=1000)
    mixed = later + chooser.sample(batch, 300)
    chooser.shuffle(mixed)

    answers = await upload(stage, mixed)

    assert [a for a in answers if a["nonce"] in first] == [
        first[scan.nonce] for scan in mixed if scan.nonce in first
    ]
    assert [Judged.of(a) for a in answers] == stage.model.replay(mixed)
    assert_answers_say_what_was_sent(answers, mixed, stage.model)
    assert await stage.door.counts(stage.list_id) == stage.model.counts()
    assert await scans_stored(db, stage) == len({scan.nonce for scan in batch + later})
    assert await first_entries(db, stage.model) == stage.model.first_entry
