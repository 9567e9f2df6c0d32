"""A stateful property test: random books (of one type, or of several lines of ticket types),
cancels, capacity changes, admin cancels, bans, event cancels and deletes, new ticket types, and
quotas made, resized, given other types and deleted, against a simple model.

Hypothesis drives the real API (the ASGI app on the engine's database); the model is a few lines
of Python that state the waiting-list and quota rules directly (SPEC §4, §9). After every step
the event's counts, each quota's size, types and seats taken, each ticket type's seats available
and every booking's status and position must match the model, and the seat and quota invariants
must hold in the database.

Bookings are the most frequent step (four rules make them) and an event is cancelled or deleted
only after a while, so that waiting lists grow long; after either, the machine goes on with a
fresh event, which starts with a second ticket type and a quota of it a third of its capacity.
HYPOTHESIS_PROFILE=deep (the default under CI=true) runs random examples, 120 on SQLite and 20
on each server engine (BOXOFFICE_MODEL_EXAMPLES overrides), instead of the quick 25
derandomized ones.
"""

import asyncio
import logging
import os
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    MultipleResults,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from boxoffice.app import create_app
from boxoffice.bookings.rush import RushHint
from boxoffice.catalogue.terms import TermsCache
from boxoffice.events.models import Event
from boxoffice.settings import Settings
from boxoffice.users.models import Role, User
from tests.bookings.invariants import assert_quotas_exact
from tests.engines import MARIADB, POSTGRESQL, SQLITE
from tests.factories import auth_headers, first_ticket_type, make_event, make_user

T = TypeVar("T")
ATTENDEES = 16
# Steps on one event before it may be cancelled or deleted.
EVENT_MATURES_AFTER = 12
BANNED_AT_MOST = 2
# Ticket types and quotas an event grows to at most: few, so that quotas share types and bind.
TYPES_AT_MOST = 4
QUOTAS_AT_MOST = 3
# A booking's lines: indexes into the event's types (modulo how many it has) and quantities.
LINES = st.lists(
    st.tuples(st.integers(0, TYPES_AT_MOST - 1), st.integers(1, 3)),
    min_size=1,
    max_size=3,
    unique_by=lambda line: line[0],
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
log = logging.getLogger(__name__)


@dataclass
class Reached:
    """What the runs got to, across all examples: evidence that the weighting works."""

    bookings: int = 0
    longest_waitlist: int = 0
    event_cancels: int = 0
    event_deletes: int = 0
    bans: int = 0
    admin_cancels: int = 0
    line_bookings: int = 0
    quota_edits: int = 0
    quota_refusals: int = 0
    held_by_a_quota: int = 0


@dataclass
class ModelBooking:
    id: int
    attendee: int
    # Tickets per type id.
    lines: dict[int, int]
    status: str

    @property
    def seats(self) -> int:
        return sum(self.lines.values())


@dataclass
class ModelQuota:
    size: int
    types: set[int]


@dataclass
class Model:
    capacity: int
    # The event's ticket type ids, in display order; the first is what `seats` books.
    types: list[int] = field(default_factory=list)
    quotas: dict[int, ModelQuota] = field(default_factory=dict)
    bookings: list[ModelBooking] = field(default_factory=list)

    @property
    def booked(self) -> int:
        return sum(b.seats for b in self.confirmed)

    @property
    def confirmed(self) -> list[ModelBooking]:
        return [b for b in self.bookings if b.status == "confirmed"]

    @property
    def waiting(self) -> list[ModelBooking]:
        return [b for b in self.bookings if b.status == "waitlisted"]

    def held_by(self, types: set[int]) -> int:
        """The confirmed tickets of these types."""
        return sum(n for b in self.confirmed for kind, n in b.lines.items() if kind in types)

    def taken(self, quota_id: int) -> int:
        return self.held_by(self.quotas[quota_id].types)

    def left(self, quota_id: int) -> int:
        return self.quotas[quota_id].size - self.taken(quota_id)

    def fits(self, lines: dict[int, int]) -> bool:
        """Whether every ticket fits: in the event, and in each quota of its type."""
        if sum(lines.values()) > self.capacity - self.booked:
            return False
        return all(
            sum(n for kind, n in lines.items() if kind in quota.types) <= self.left(quota_id)
            for quota_id, quota in self.quotas.items()
        )

    def available(self, kind: int) -> int:
        """A type's seats_available: the least of what the event and its quotas have left."""
        lefts = [self.left(q) for q, quota in self.quotas.items() if kind in quota.types]
        return max(0, min([self.capacity - self.booked, *lefts]))

    def active_of(self, attendee: int) -> ModelBooking | None:
        return next(
            (b for b in self.bookings if b.attendee == attendee and b.status != "cancelled"), None
        )

    def expected_booking(self, attendee: int, lines: dict[int, int], join: bool) -> str:
        if self.active_of(attendee):
            return "already_booked"
        if not self.waiting and self.fits(lines):
            return "confirmed"
        return "waitlisted" if join else "sold_out"

    def serve(self) -> None:
        """The line, oldest first, while each booking fits; nobody jumps one that does not."""
        for booking in self.waiting:
            if not self.fits(booking.lines):
                return
            booking.status = "confirmed"

    def cancel(self, booking: ModelBooking) -> None:
        booking.status = "cancelled"
        self.serve()

    def cancel_all(self) -> None:
        for booking in self.bookings:
            booking.status = "cancelled"


class Harness:
    """The app, its client and the event loop they run on, made once for every example of a
    run: a fresh app's statement caches start cold, which cost more than an example's steps."""

    def __init__(self, test_settings: Settings) -> None:
        self.settings = test_settings
        self.loop = asyncio.new_event_loop()
        self.app = create_app(test_settings)
        transport = httpx.ASGITransport(app=self.app, raise_app_exceptions=False)
        self.client = httpx.AsyncClient(transport=transport, base_url="http://testserver")

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(work)

    def forget(self) -> None:
        """What the app remembers of earlier examples (where a rush was, the terms it read)
        would make an example's answers depend on the ones before."""
        self.app.state.rush_hint = RushHint()
        self.app.state.terms_cache = TermsCache()

    def close(self) -> None:
        self.run(self.client.aclose())
        self.run(self.app.state.engine.dispose())
        self.loop.close()


def make_machine(harness: Harness, reached: Reached) -> type[RuleBasedStateMachine]:
    test_settings = harness.settings

    class BookingMachine(RuleBasedStateMachine):
        bookings = Bundle("bookings")

        def __init__(self) -> None:
            super().__init__()
            harness.forget()
            self.app = harness.app
            self.client = harness.client
            self.run = harness.run

        @initialize(capacity=st.integers(3, 9))
        def open_event(self, capacity: int) -> None:
            self.run(self._arrange())
            self.run(self._new_event(capacity))

        async def _arrange(self) -> None:
            async with self.app.state.sessionmaker() as db:
                owner = await make_user(db, role=Role.ORGANIZER)
                self.owner_user_id = owner.id
                self.owner = await auth_headers(db, test_settings, owner)
                self.admin = await auth_headers(
                    db, test_settings, await make_user(db, role=Role.ADMIN)
                )
                users = [await make_user(db) for _ in range(ATTENDEES)]
                self.attendee_ids = [user.id for user in users]
                self.attendees = [await auth_headers(db, test_settings, user) for user in users]
            self.banned: set[int] = set()

        async def _new_event(self, capacity: int) -> None:
            async with self.app.state.sessionmaker() as db:
                owner = await db.get(User, self.owner_user_id)
                assert owner is not None
                event = await make_event(db, owner, capacity=capacity)
                self.event_id = event.id
                general = (await first_ticket_type(db, event)).id
            self.model = Model(capacity, types=[general])
            self.steps_on_event = 0
            # A second type from the start, so that bookings of several lines have a choice, and
            # a quota of it that fills before the event does.
            await self._add_type()
            second = self.model.types[1]
            size = capacity // 3
            response = await self.client.post(
                f"/api/v1/events/{self.event_id}/quotas",
                headers=self.owner,
                json={"name": "Second type", "size": size, "ticket_type_ids": [second]},
            )
            assert response.status_code == 201, response.text
            self.model.quotas[response.json()["id"]] = ModelQuota(size, {second})

        async def _add_type(self) -> None:
            response = await self.client.post(
                f"/api/v1/events/{self.event_id}/ticket-types",
                headers=self.owner,
                json={"name": f"Type {len(self.model.types) + 1}", "price": "0.00"},
            )
            assert response.status_code == 201, response.text
            assert response.json()["quota_ids"] == []
            self.model.types.append(response.json()["id"])

        @rule(
            target=bookings,
            attendee=st.integers(0, ATTENDEES - 1),
            # Mostly small or large requests: the mix that makes the waiting list interesting.
            seats=st.sampled_from([1, 1, 2, 7]),
            join=st.booleans(),
        )
        def book(self, attendee: int, seats: int, join: bool) -> int:
            return self._book(attendee, seats, join)

        @rule(
            target=bookings,
            attendee=st.integers(0, ATTENDEES - 1),
            lines=LINES,
            join=st.booleans(),
        )
        def book_lines(self, attendee: int, lines: list[tuple[int, int]], join: bool) -> int:
            """A booking of several lines of ticket types, taken whole or not at all."""
            return self._book_lines(attendee, lines, join)

        @rule(
            target=bookings,
            crowd=st.lists(
                st.tuples(st.integers(0, ATTENDEES - 1), LINES),
                min_size=1,
                max_size=4,
            ),
        )
        def crowd_books_lines_or_waits(
            self, crowd: list[tuple[int, list[tuple[int, int]]]]
        ) -> MultipleResults[int]:
            """Several attendees in a row, each asking for lines and ready to wait: the step that
            makes a line wait for a quota."""
            return multiple(*(self._book_lines(attendee, lines, True) for attendee, lines in crowd))

        def _book_lines(self, attendee: int, lines: list[tuple[int, int]], join: bool) -> int:
            wanted: dict[int, int] = {}
            for index, quantity in lines:
                wanted.setdefault(self.model.types[index % len(self.model.types)], quantity)
            booking_id = self._book(attendee, wanted, join)
            if booking_id != -1:
                reached.line_bookings += 1
            return booking_id

        @rule(
            target=bookings,
            crowd=st.lists(
                st.tuples(st.integers(0, ATTENDEES - 1), st.sampled_from([1, 2, 3, 7])),
                min_size=1,
                max_size=4,
            ),
        )
        def crowd_books_or_waits(self, crowd: list[tuple[int, int]]) -> MultipleResults[int]:
            """Several attendees in a row, each ready to wait: the step that makes lines long."""
            return multiple(*(self._book(attendee, seats, True) for attendee, seats in crowd))

        def _book(self, attendee: int, wanted: int | dict[int, int], join: bool) -> int:
            """Books `wanted` seats of the event's first type, or these tickets per type."""
            self.steps_on_event += 1
            if isinstance(wanted, int):
                lines = {self.model.types[0]: wanted}
                asked: dict[str, object] = {"seats": wanted}
            else:
                lines = wanted
                asked = {
                    "lines": [{"ticket_type_id": kind, "quantity": n} for kind, n in wanted.items()]
                }
            if attendee in self.banned:
                expected = "invalid_token"
            else:
                expected = self.model.expected_booking(attendee, lines, join)
            response = self.run(
                self.client.post(
                    "/api/v1/bookings",
                    headers=self.attendees[attendee],
                    json={"event_id": self.event_id, "join_waitlist": join, **asked},
                )
            )
            body = response.json()
            outcome = body["status"] if response.status_code == 201 else body["code"]
            assert outcome == expected, (body, lines, self.model)
            if response.status_code != 201:
                return -1
            shown = {line["ticket_type_id"]: line["quantity"] for line in body["lines"]}
            assert shown == lines, body
            if body["status"] == "waitlisted" and self._only_a_quota_is_short(lines):
                reached.held_by_a_quota += 1
            self.model.bookings.append(ModelBooking(body["id"], attendee, lines, body["status"]))
            self.model.serve()
            reached.bookings += 1
            reached.longest_waitlist = max(reached.longest_waitlist, len(self.model.waiting))
            return int(body["id"])

        @rule(booking_id=consumes(bookings))
        def cancel(self, booking_id: int) -> None:
            booking = self._active(booking_id)
            if booking is None or booking.attendee in self.banned:
                return
            response = self.run(
                self.client.delete(
                    f"/api/v1/bookings/{booking_id}", headers=self.attendees[booking.attendee]
                )
            )
            assert response.status_code == 200, response.text
            assert response.json()["status"] == "cancelled"
            self.model.cancel(booking)

        @rule(booking_id=consumes(bookings))
        def admin_cancels(self, booking_id: int) -> None:
            booking = self._active(booking_id)
            if booking is None:
                return
            response = self.run(
                self.client.delete(f"/api/v1/bookings/{booking_id}", headers=self.admin)
            )
            assert response.status_code == 200, response.text
            assert response.json()["status"] == "cancelled"
            self.model.cancel(booking)
            reached.admin_cancels += 1

        def _active(self, booking_id: int) -> ModelBooking | None:
            """The booking of the current event, unless it is cancelled already."""
            return next(
                (b for b in self.model.bookings if b.id == booking_id and b.status != "cancelled"),
                None,
            )

        # A few banned at a time at most: banned attendees make no bookings.
        @precondition(lambda self: len(self.banned) < BANNED_AT_MOST)
        @rule(attendee=st.integers(0, ATTENDEES - 1))
        def ban(self, attendee: int) -> None:
            response = self.run(
                self.client.patch(
                    f"/api/v1/admin/users/{self.attendee_ids[attendee]}",
                    headers=self.admin,
                    json={"is_active": False},
                )
            )
            assert (response.status_code, response.json()["is_active"]) == (200, False)
            self.banned.add(attendee)
            booking = self.model.active_of(attendee)
            if booking is not None:
                self.model.cancel(booking)
            reached.bans += 1

        @rule(attendee=st.integers(0, ATTENDEES - 1))
        def reinstate(self, attendee: int) -> None:
            if attendee not in self.banned:
                return
            response = self.run(
                self.client.patch(
                    f"/api/v1/admin/users/{self.attendee_ids[attendee]}",
                    headers=self.admin,
                    json={"is_active": True},
                )
            )
            assert (response.status_code, response.json()["is_active"]) == (200, True)
            self.banned.discard(attendee)
            self.attendees[attendee] = self.run(self._sign_in(attendee))

        async def _sign_in(self, attendee: int) -> dict[str, str]:
            async with self.app.state.sessionmaker() as db:
                user = await db.get(User, self.attendee_ids[attendee])
                assert user is not None
                return await auth_headers(db, test_settings, user)

        @precondition(lambda self: self.steps_on_event >= EVENT_MATURES_AFTER)
        @rule(capacity=st.integers(3, 9))
        def cancel_event(self, capacity: int) -> None:
            response = self.run(
                self.client.post(f"/api/v1/events/{self.event_id}/cancel", headers=self.owner)
            )
            assert response.status_code == 200, response.text
            shown = response.json()
            assert (shown["status"], shown["seats_booked"], shown["waitlist_count"]) == (
                "cancelled",
                0,
                0,
            )
            self._all_cancelled_then_next(capacity)
            reached.event_cancels += 1

        @precondition(lambda self: self.steps_on_event >= EVENT_MATURES_AFTER)
        @rule(capacity=st.integers(3, 9))
        def delete_event(self, capacity: int) -> None:
            response = self.run(
                self.client.delete(f"/api/v1/events/{self.event_id}", headers=self.owner)
            )
            assert response.status_code == 204, response.text
            assert self.run(self.client.get(f"/api/v1/events/{self.event_id}")).status_code == 404
            self._all_cancelled_then_next(capacity)
            reached.event_deletes += 1

        def _all_cancelled_then_next(self, capacity: int) -> None:
            """Every booking of the event cancelled, seats and line empty; then a new event."""
            self.model.cancel_all()
            for booking in self.model.bookings:
                shown = self.run(
                    self.client.get(f"/api/v1/bookings/{booking.id}", headers=self.admin)
                ).json()
                assert (shown["status"], shown["waitlist_position"]) == ("cancelled", None)
            event = self.run(self._check_database())
            assert (event.seats_booked, event.waitlist_count) == (0, 0)
            self.run(self._new_event(capacity))

        @rule(capacity=st.integers(1, 12))
        def change_capacity(self, capacity: int) -> None:
            self.steps_on_event += 1
            response = self.run(
                self.client.patch(
                    f"/api/v1/events/{self.event_id}",
                    headers=self.owner,
                    json={"capacity": capacity},
                )
            )
            if capacity < self.model.booked:
                assert response.json()["code"] == "capacity_below_booked"
                return
            assert response.status_code == 200, response.text
            self.model.capacity = capacity
            self.model.serve()

        @precondition(lambda self: len(self.model.types) < TYPES_AT_MOST)
        @rule()
        def add_type(self) -> None:
            """A new ticket type: the catalogue version moves, and bookings are priced from the
            terms as they are now (the type is bookable at once)."""
            self.steps_on_event += 1
            self.run(self._add_type())

        @precondition(lambda self: len(self.model.quotas) < QUOTAS_AT_MOST)
        @rule(
            size=st.integers(0, 8),
            types=st.sets(st.integers(0, TYPES_AT_MOST - 1), min_size=1, max_size=3),
        )
        def add_quota(self, size: int, types: set[int]) -> None:
            self.steps_on_event += 1
            members = self._types(types)
            response = self.run(
                self.client.post(
                    f"/api/v1/events/{self.event_id}/quotas",
                    headers=self.owner,
                    json={"name": "Quota", "size": size, "ticket_type_ids": sorted(members)},
                )
            )
            if self._refused_below_taken(response, size, members):
                return
            assert response.status_code == 201, response.text
            self.model.quotas[response.json()["id"]] = ModelQuota(size, members)
            self.model.serve()
            self._shows_the_model(response)

        @precondition(lambda self: bool(self.model.quotas))
        @rule(
            which=st.integers(0, QUOTAS_AT_MOST - 1),
            size=st.none() | st.integers(0, 10),
            types=st.none() | st.sets(st.integers(0, TYPES_AT_MOST - 1), max_size=3),
        )
        def edit_quota(self, which: int, size: int | None, types: set[int] | None) -> None:
            """A new size, other types, or both: the seats taken are counted again; a change
            that leaves them above the size is refused; a larger size or fewer types serve the
            line."""
            self.steps_on_event += 1
            quota_id, quota = self._quota(which)
            change: dict[str, object] = {}
            if size is not None:
                change["size"] = size
            members = quota.types if types is None else self._types(types)
            if types is not None:
                change["ticket_type_ids"] = sorted(members)
            new_size = quota.size if size is None else size
            response = self._patch_quota(quota_id, change)
            if self._refused_below_taken(response, new_size, members):
                return
            quota.size, quota.types = new_size, members
            self.model.serve()
            self._shows_the_model(response)

        @precondition(lambda self: bool(self.model.quotas))
        @rule(which=st.integers(0, QUOTAS_AT_MOST - 1))
        def delete_quota(self, which: int) -> None:
            self.steps_on_event += 1
            quota_id, _ = self._quota(which)
            response = self.run(
                self.client.delete(
                    f"/api/v1/events/{self.event_id}/quotas/{quota_id}", headers=self.owner
                )
            )
            assert response.status_code == 204, response.text
            del self.model.quotas[quota_id]
            self.model.serve()
            reached.quota_edits += 1

        def _only_a_quota_is_short(self, lines: dict[int, int]) -> bool:
            """Whether these tickets would wait for a quota alone: nobody in line, room in the
            event."""
            room = self.model.capacity - self.model.booked
            return not self.model.waiting and sum(lines.values()) <= room

        def _types(self, indexes: set[int]) -> set[int]:
            return {self.model.types[i % len(self.model.types)] for i in indexes}

        def _quota(self, which: int) -> tuple[int, ModelQuota]:
            quota_id = sorted(self.model.quotas)[which % len(self.model.quotas)]
            return quota_id, self.model.quotas[quota_id]

        def _patch_quota(self, quota_id: int, change: dict[str, object]) -> httpx.Response:
            return self.run(
                self.client.patch(
                    f"/api/v1/events/{self.event_id}/quotas/{quota_id}",
                    headers=self.owner,
                    json=change,
                )
            )

        def _refused_below_taken(
            self, response: httpx.Response, size: int, types: set[int]
        ) -> bool:
            """Whether the change was refused, as it must be when the quota's types would hold
            more confirmed seats than its size; a change that is refused changes nothing."""
            reached.quota_edits += 1
            if size < self.model.held_by(types):
                assert (response.status_code, response.json()["code"]) == (
                    409,
                    "quota_below_taken",
                ), response.text
                reached.quota_refusals += 1
                return True
            assert response.status_code in (200, 201), response.text
            shown = response.json()
            assert (shown["size"], set(shown["ticket_type_ids"])) == (size, types), shown
            return False

        def _shows_the_model(self, response: httpx.Response) -> None:
            """The quota as the answer shows it: counted after the line was served."""
            shown = response.json()
            assert shown["seats_taken"] == self.model.taken(shown["id"]), shown

        @invariant()
        def matches_the_model(self) -> None:
            if not hasattr(self, "model"):
                return
            event = self.run(self.client.get(f"/api/v1/events/{self.event_id}")).json()
            assert (event["capacity"], event["seats_booked"], event["waitlist_count"]) == (
                self.model.capacity,
                self.model.booked,
                len(self.model.waiting),
            )
            guests = self.run(
                self.client.get(
                    f"/api/v1/events/{self.event_id}/bookings?limit=100&status=waitlisted",
                    headers=self.owner,
                )
            ).json()
            assert [g["booking_id"] for g in guests["items"]] == [b.id for b in self.model.waiting]
            for position, waiting in enumerate(self.model.waiting, start=1):
                shown = self.run(
                    self.client.get(
                        f"/api/v1/bookings/{waiting.id}", headers=self.attendees[waiting.attendee]
                    )
                ).json()
                assert shown["waitlist_position"] == position
            quotas = self.run(
                self.client.get(f"/api/v1/events/{self.event_id}/quotas", headers=self.owner)
            ).json()["items"]
            assert {
                q["id"]: (q["size"], set(q["ticket_type_ids"]), q["seats_taken"]) for q in quotas
            } == {
                quota_id: (quota.size, quota.types, self.model.taken(quota_id))
                for quota_id, quota in self.model.quotas.items()
            }
            kinds = self.run(
                self.client.get(f"/api/v1/events/{self.event_id}/ticket-types", headers=self.owner)
            ).json()["items"]
            assert {k["id"]: k["seats_available"] for k in kinds} == {
                kind: self.model.available(kind) for kind in self.model.types
            }
            self.run(self._check_database())

        async def _check_database(self) -> Event:
            async with self.app.state.sessionmaker() as db:
                await assert_quotas_exact(db, self.event_id)
                event: Event = (
                    await db.scalars(select(Event).where(Event.id == self.event_id))
                ).one()
                return event

    return BookingMachine


async def test_bookings_follow_the_waiting_list_model(settings: Settings, engine_name: str) -> None:
    reached = Reached()
    run_settings = settings_for_model(engine_name)
    # The machine drives its own event loop, so it runs in a thread of its own.
    await asyncio.to_thread(run_machine, settings, reached, run_settings)
    log.info(
        "state machine, %s examples on %s: %s", run_settings.max_examples, engine_name, reached
    )
    assert reached.bookings, "no booking was ever made"
    if run_settings.max_examples >= 100:
        # The weighting is what makes a long run worth its time: long lines, every rule.
        # (Before the crowd rule the longest line in 25 examples was 4; runs of 120 reach 9-14.)
        assert reached.longest_waitlist >= 6, reached
        assert min(reached.event_cancels, reached.event_deletes, reached.bans) > 0, reached
        assert reached.admin_cancels > 0, reached
        # And the quotas bind: a booking waited for a quota alone, an edit was refused.
        assert min(reached.held_by_a_quota, reached.quota_refusals) > 0, reached


def run_machine(test_settings: Settings, reached: Reached, run_settings: settings) -> None:
    harness = Harness(test_settings)
    try:
        run_state_machine_as_test(make_machine(harness, reached), settings=run_settings)
    finally:
        harness.close()


def model_profile() -> str:
    return os.environ.get("HYPOTHESIS_PROFILE") or ("deep" if IN_CI else "quick")


# The deep profile's examples per engine. The model is engine-independent and SQLite is the
# fastest, so it gets the long run; the server engines a shorter random one each.
DEEP_EXAMPLES = {SQLITE: 120, POSTGRESQL: 20, MARIADB: 20}


def settings_for_model(engine_name: str) -> settings:
    if model_profile() == "deep":
        examples = os.environ.get("BOXOFFICE_MODEL_EXAMPLES")
        return settings(
            max_examples=int(examples) if examples else DEEP_EXAMPLES[engine_name],
            stateful_step_count=20,
            deadline=None,
            derandomize=False,
            database=None,
            print_blob=True,
            suppress_health_check=[HealthCheck.too_slow],
        )
    return settings(
        max_examples=25,
        stateful_step_count=20,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
