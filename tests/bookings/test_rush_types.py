"""Rushes with ticket types and quotas (SPEC §9): 200 truly concurrent bookings of one to three
lines over real HTTP to two server processes, raced by cancellations, quota edits through the
catalogue API (grown, shrunk, refused below what is taken), bans and, in one variant, the
event's cancellation.

Afterwards every count is checked exactly against the database, and the event's history, as
its outbox wrote it, shows the waiting list served strictly in order. Racing work does not wait
on a clock: each piece starts once a given number of the rush's bookings have been answered.
"""

import asyncio
import logging
import random
from collections import Counter
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.bookings.models import Booking, BookingStatus
from boxoffice.events.models import Event
from boxoffice.notifications.models import Notification, NotificationKind
from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.bookings.invariants import assert_quotas_exact
from tests.bookings.test_rush import outcomes, post_all
from tests.factories import (
    make_attendees,
    make_event,
    make_quota,
    make_ticket_type,
    signed_in,
)

RUSH = 200
FIRST_WAVE = 8
CAPACITY = 60
# Quota sizes: Q1 counts types A and B, Q2 types B and C (B counts against both).
Q1_SIZE, Q2_SIZE = 30, 25
BANS_OF_HOLDERS, BANS_IN_THE_RUSH = 3, 3
# (bookings answered, new size): grown, shrunk, and Q1's first shrink, to 1 while the first
# wave's seats are still there, is refused (quota_below_taken).
Q1_EDITS = [(10, 1), (40, 40), (90, 28), (130, 45), (170, 30)]
Q2_EDITS = [(25, 35), (60, 20), (110, 40), (150, 22)]
EVENT_CANCELLED_AT = 100
log = logging.getLogger(__name__)

# What a quota edit came to: applied, or refused (409) below the seats taken or because the
# event is cancelled.
DONE, QUOTA_BELOW_TAKEN, EVENT_NOT_EDITABLE = "done", "quota_below_taken", "event_not_editable"


@dataclass(frozen=True)
class Person:
    """An attendee as the rush needs them: no ORM object, which a later read would expire."""

    id: int
    headers: dict[str, str]


async def people(db: AsyncSession, settings: Settings, count: int) -> list[Person]:
    return [
        Person(caller.id, caller.headers) for caller in await make_attendees(db, settings, count)
    ]


@dataclass
class Stage:
    event_id: int
    types: list[int]
    quotas: dict[str, int]
    owner: dict[str, str]
    admin: dict[str, str]


async def arrange(db: AsyncSession, settings: Settings) -> Stage:
    owner = await signed_in(db, settings, Role.ORGANIZER)
    admin = await signed_in(db, settings, Role.ADMIN)
    event = await make_event(db, owner.user, capacity=CAPACITY)
    a, b, c = [await make_ticket_type(db, event, name=name) for name in "ABC"]
    q1 = await make_quota(db, event, Q1_SIZE, [a, b])
    q2 = await make_quota(db, event, Q2_SIZE, [b, c])
    quotas = {"Q1": q1.id, "Q2": q2.id}
    return Stage(event.id, [a.id, b.id, c.id], quotas, owner.headers, admin.headers)


def lines(chooser: random.Random, types: Sequence[int]) -> list[dict[str, int]]:
    """One to three lines of distinct types, one to three tickets each."""
    chosen = chooser.sample(list(types), chooser.randint(1, 3))
    return [{"ticket_type_id": kind, "quantity": chooser.randint(1, 3)} for kind in chosen]


class Progress:
    """How many of the rush's bookings have been answered; racing work waits for a count."""

    def __init__(self) -> None:
        self.answered = 0
        self._moved = asyncio.Condition()

    async def one_more(self) -> None:
        async with self._moved:
            self.answered += 1
            self._moved.notify_all()

    async def reached(self, count: int) -> None:
        async with self._moved:
            await self._moved.wait_for(lambda: self.answered >= count)


@dataclass
class Race:
    """Everything sent while the rush ran, with its answer."""

    bookings: list[tuple[Person, dict[str, Any], httpx.Response]] = field(default_factory=list)
    cancels: list[tuple[Person, int, httpx.Response]] = field(default_factory=list)
    bans: list[tuple[Person, httpx.Response]] = field(default_factory=list)
    edits: list[tuple[str, int, httpx.Response]] = field(default_factory=list)

    def edit_outcomes(self) -> list[tuple[str, int, str]]:
        return [
            (name, size, DONE if answer.status_code == 200 else answer.json()["code"])
            for name, size, answer in self.edits
        ]

    event_cancel: list[httpx.Response] = field(default_factory=list)


@pytest.mark.parametrize("event_cancelled", [False, True], ids=["racing", "event cancelled"])
async def test_rush_of_lines_against_quotas_cancels_edits_and_bans_stays_exact(
    servers: list[str], db: AsyncSession, settings: Settings, event_cancelled: bool
) -> None:
    chooser = random.Random(20 + event_cancelled)
    stage = await arrange(db, settings)
    first_wave = await people(db, settings, FIRST_WAVE)
    # A few small bookings, confirmed before the rush, that some of their holders cancel in it;
    # they leave the quotas room for the rush to race for.
    first_answers = await post_all(
        servers,
        [
            (
                caller.headers,
                {
                    "event_id": stage.event_id,
                    "lines": [{"ticket_type_id": stage.types[i % 3], "quantity": 1 + i % 2}],
                },
            )
            for i, caller in enumerate(first_wave)
        ],
    )
    assert outcomes(first_answers) == {"confirmed": FIRST_WAVE}
    holders = [
        (caller, answer.json()["id"])
        for caller, answer in zip(first_wave, first_answers, strict=True)
    ]
    before = await assert_quotas_exact(db, stage.event_id)
    # Q1's shrink to 1 comes before any cancellation: these seats are still taken then.
    assert before[stage.quotas["Q1"]].seats_taken == 9, before
    crowd = await people(db, settings, RUSH)
    bodies: list[dict[str, Any]] = [
        {
            "event_id": stage.event_id,
            "lines": lines(chooser, stage.types),
            "join_waitlist": chooser.random() < 0.5,
        }
        for _ in crowd
    ]
    cancelling = holders[::2]
    # Some of the rush leave again as soon as they are answered, confirmed or waiting.
    leaving = {i for i in range(RUSH) if chooser.random() < 0.1}
    banned = [caller for caller, _ in holders[1::2][:BANS_OF_HOLDERS]] + chooser.sample(
        crowd, BANS_IN_THE_RUSH
    )

    race = Race()
    progress = Progress()
    # A connection per request: the racing requests wait their turn, and a kept-alive connection
    # left idle that long may be closed by the server (its keep-alive timeout) just as it is
    # used again, which a client sees as "server disconnected", not as an answer.
    fresh = httpx.Limits(max_connections=RUSH + 50, max_keepalive_connections=0)
    async with httpx.AsyncClient(limits=fresh, timeout=120) as client:

        async def book(i: int, caller: Person, body: dict[str, Any]) -> None:
            try:
                answer = await client.post(
                    f"{servers[i % 2]}/api/v1/bookings", headers=caller.headers, json=body
                )
                race.bookings.append((caller, body, answer))
            finally:
                await progress.one_more()
            if i in leaving and answer.status_code == 201:
                left = await client.delete(
                    f"{servers[(i + 1) % 2]}/api/v1/bookings/{answer.json()['id']}",
                    headers=caller.headers,
                )
                race.cancels.append((caller, answer.json()["id"], left))

        async def cancel(at: int, caller: Person, booking_id: int) -> None:
            await progress.reached(at)
            answer = await client.delete(
                f"{servers[at % 2]}/api/v1/bookings/{booking_id}", headers=caller.headers
            )
            race.cancels.append((caller, booking_id, answer))

        async def ban(at: int, caller: Person) -> None:
            await progress.reached(at)
            answer = await client.patch(
                f"{servers[at % 2]}/api/v1/admin/users/{caller.id}",
                headers=stage.admin,
                json={"is_active": False},
            )
            race.bans.append((caller, answer))

        async def edit(name: str, edits: list[tuple[int, int]]) -> None:
            for at, size in edits:
                await progress.reached(at)
                answer = await client.patch(
                    f"{servers[at % 2]}/api/v1/events/{stage.event_id}/quotas/{stage.quotas[name]}",
                    headers=stage.owner,
                    json={"size": size},
                )
                race.edits.append((name, size, answer))

        async def cancel_event() -> None:
            await progress.reached(EVENT_CANCELLED_AT)
            race.event_cancel.append(
                await client.post(
                    f"{servers[0]}/api/v1/events/{stage.event_id}/cancel",
                    headers=stage.owner,
                )
            )

        racing: list[Awaitable[None]] = [
            *(
                book(i, caller, body)
                for i, (caller, body) in enumerate(zip(crowd, bodies, strict=True))
            ),
            *(cancel(20 + 8 * i, caller, b) for i, (caller, b) in enumerate(cancelling)),
            *(ban(30 + 25 * i, caller) for i, caller in enumerate(banned)),
            edit("Q1", Q1_EDITS),
            edit("Q2", Q2_EDITS),
        ]
        if event_cancelled:
            racing.append(cancel_event())
        await asyncio.gather(*racing)

    check_answers(race, banned, event_cancelled=event_cancelled)
    quotas = await assert_quotas_exact(db, stage.event_id)
    for name, size in sizes_after(race, event_cancelled=event_cancelled).items():
        assert quotas[stage.quotas[name]].size == size, (name, race.edit_outcomes())
    assert await active_bookings_of(db, stage.event_id, [caller.id for caller in banned]) == []
    history = await served_in_order(db, stage.event_id)
    await history_matches(db, stage.event_id, history, race)
    event = (await db.scalars(select(Event).where(Event.id == stage.event_id))).one()
    log.info(
        "rush with quotas: %s; edits %s; %d promoted, %d waiting, %d seats at the end",
        outcomes([answer for _, _, answer in race.bookings]),
        race.edit_outcomes(),
        len(history.promoted),
        len(history.line),
        event.seats_booked,
    )
    if event_cancelled:
        assert (event.seats_booked, event.waitlist_count) == (0, 0)
        assert {quota.seats_taken for quota in quotas.values()} == {0}
        assert history.confirmed == history.line == []
    else:
        # The race reached what it is about: a line, and seats going to it.
        assert history.promoted, history
        assert event.status == "published"


def check_answers(race: Race, banned: list[Person], *, event_cancelled: bool) -> None:
    """No 5xx anywhere; each answer one the SPEC allows for what was sent, and every booking
    made exactly what it asked for."""
    everything = [
        *(answer for _, _, answer in race.bookings),
        *(answer for _, _, answer in race.cancels),
        *(answer for _, answer in race.bans),
        *(answer for _, _, answer in race.edits),
        *race.event_cancel,
    ]
    assert all(a.status_code < 500 for a in everything), [
        a.text for a in everything if a.status_code >= 500
    ]
    assert len(race.bookings) == RUSH
    banned_ids = {caller.id for caller in banned}
    outcomes: Counter[str] = Counter()
    for caller, body, answer in race.bookings:
        shown = answer.json()
        outcome = shown["status"] if answer.status_code == 201 else shown["code"]
        outcomes[outcome] += 1
        allowed = {"confirmed", "waitlisted", "conflict"}
        allowed |= set() if body["join_waitlist"] else {"sold_out"}
        # A ban that lands before the request is checked (401) or while it runs (403).
        allowed |= {"invalid_token", "account_disabled"} if caller.id in banned_ids else set()
        allowed |= {"event_not_bookable"} if event_cancelled else set()
        assert outcome in allowed, (outcome, body, shown)
        if answer.status_code == 201:
            asked = sorted((line["ticket_type_id"], line["quantity"]) for line in body["lines"])
            got = sorted((line["ticket_type_id"], line["quantity"]) for line in shown["lines"])
            assert got == asked, shown
            assert shown["seats"] == sum(q for _, q in asked) == len(shown["tickets"]), shown
    assert outcomes["confirmed"] + outcomes["waitlisted"] > 0, outcomes
    for caller, _, answer in race.cancels:
        if answer.status_code == 401:
            assert caller.id in banned_ids, answer.text
        else:
            assert (answer.status_code, answer.json()["status"]) == (200, "cancelled"), answer.text
    for _, answer in race.bans:
        assert (answer.status_code, answer.json()["is_active"]) == (200, False), answer.text
    for answer in race.event_cancel:
        assert (answer.status_code, answer.json()["status"]) == (200, "cancelled"), answer.text
    for _, size, answer in race.edits:
        assert answer.status_code in (200, 409), answer.text
        if answer.status_code == 200:
            shown = answer.json()
            assert shown["size"] == size, shown
            assert shown["seats_taken"] <= size, shown


def sizes_after(race: Race, *, event_cancelled: bool) -> dict[str, int]:
    """Each quota's size once its edits were made, in order: a grown size always applies, a
    smaller one may be refused, Q1's shrink to 1 is; edits of a cancelled event are refused (an
    edit may wait long for the event's lock behind the bookings, so even Q1's first may come
    after the event's cancellation)."""
    edits = race.edit_outcomes()
    refused = {QUOTA_BELOW_TAKEN, EVENT_NOT_EDITABLE} if event_cancelled else {QUOTA_BELOW_TAKEN}
    assert {outcome for name, size, outcome in edits if (name, size) == ("Q1", 1)} <= refused
    assert len(edits) == len(Q1_EDITS) + len(Q2_EDITS)
    sizes = {"Q1": Q1_SIZE, "Q2": Q2_SIZE}
    for name, size, outcome in edits:
        assert outcome in (DONE, QUOTA_BELOW_TAKEN, EVENT_NOT_EDITABLE), edits
        if outcome == EVENT_NOT_EDITABLE:
            assert event_cancelled, edits
        elif size >= sizes[name]:
            assert outcome == DONE, edits
        if outcome == DONE:
            sizes[name] = size
    return sizes


async def active_bookings_of(db: AsyncSession, event_id: int, user_ids: list[int]) -> list[int]:
    found = await db.scalars(
        select(Booking.id).where(
            Booking.event_id == event_id,
            Booking.user_id.in_(user_ids),
            Booking.status != BookingStatus.CANCELLED,
        )
    )
    return list(found.all())


@dataclass
class History:
    """The event's bookings as its outbox tells their story, replayed in the order written."""

    line: list[int] = field(default_factory=list)
    confirmed: list[int] = field(default_factory=list)
    promoted: list[int] = field(default_factory=list)
    # The first thing each booking's holder was told: confirmed or waiting.
    first_told: dict[int, NotificationKind] = field(default_factory=dict)


async def served_in_order(db: AsyncSession, event_id: int) -> History:
    """Replays the event's messages in the order they were written and checks that the line
    was served strictly in order: whoever was confirmed on arrival found nobody waiting, whoever
    joined went to the back, and each run of promotions took the front of the line.

    Every one of these messages is written in the transaction that made the change, while it
    holds the event's row lock, so their ids follow the order of the changes."""
    rows = (
        await db.execute(
            select(Notification.kind, Notification.booking_id)
            .where(
                Notification.event_id == event_id,
                Notification.kind != NotificationKind.REMINDER,
            )
            .order_by(Notification.id)
        )
    ).all()
    history = History()
    run: list[int] = []

    def promote_run() -> None:
        front = sorted(history.line)[: len(run)]
        assert sorted(run) == front, ("promoted out of turn", run, history.line)
        history.line = [b for b in history.line if b not in run]
        history.confirmed += run
        history.promoted += run
        run.clear()

    for kind, booking_id in rows:
        assert booking_id is not None
        if kind is NotificationKind.WAITLIST_PROMOTED:
            run.append(booking_id)
            continue
        promote_run()
        if kind is NotificationKind.BOOKING_CONFIRMED:
            assert not history.line, ("confirmed past the line", booking_id, history.line)
            history.confirmed.append(booking_id)
            history.first_told.setdefault(booking_id, kind)
        elif kind is NotificationKind.WAITLIST_JOINED:
            assert all(booking_id > ahead for ahead in history.line), (booking_id, history.line)
            history.line.append(booking_id)
            history.first_told.setdefault(booking_id, kind)
        elif kind in (NotificationKind.BOOKING_CANCELLED, NotificationKind.EVENT_CANCELLED):
            holding = history.line if booking_id in history.line else history.confirmed
            holding.remove(booking_id)
        else:
            raise AssertionError(f"unexpected message {kind} of booking {booking_id}")
    promote_run()
    return history


async def history_matches(db: AsyncSession, event_id: int, history: History, race: Race) -> None:
    """The replayed history ends where the database is, and began as each holder was told."""
    stored = (
        await db.execute(
            select(Booking.id, Booking.status)
            .where(Booking.event_id == event_id)
            .order_by(Booking.id)
        )
    ).all()
    by_status: dict[BookingStatus, list[int]] = {status: [] for status in BookingStatus}
    for booking_id, status in stored:
        by_status[status].append(booking_id)
    assert sorted(history.confirmed) == by_status[BookingStatus.CONFIRMED]
    assert sorted(history.line) == by_status[BookingStatus.WAITLISTED]
    for _, _, answer in race.bookings:
        if answer.status_code == 201:
            told = history.first_told[answer.json()["id"]]
            expected = {
                "confirmed": NotificationKind.BOOKING_CONFIRMED,
                "waitlisted": NotificationKind.WAITLIST_JOINED,
            }[answer.json()["status"]]
            assert told is expected, answer.json()
