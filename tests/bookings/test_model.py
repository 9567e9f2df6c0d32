"""A stateful property test: random books, cancels, capacity changes, admin cancels, bans and
event cancels and deletes against a simple model.

Hypothesis drives the real API (the ASGI app on the engine's database); the model is a few lines
of Python that state the waiting-list rules directly. After every step the event's counts and
every booking's status and position must match the model, and the seat invariants must hold.

Bookings are the most frequent step (two rules make them) and an event is cancelled or deleted
only after a while, so that waiting lists grow long; after either, the machine goes on with a
fresh event. HYPOTHESIS_PROFILE=deep (the default under CI=true) runs random examples, 120 on
SQLite and 20 on each server engine (BOXOFFICE_MODEL_EXAMPLES overrides), instead of the quick
25 derandomized ones.
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

from boxoffice.app import create_app
from boxoffice.events.models import Event
from boxoffice.settings import Settings
from boxoffice.users.models import Role, User
from tests.bookings.invariants import assert_seats_exact
from tests.engines import MARIADB, POSTGRESQL, SQLITE
from tests.factories import auth_headers, make_event, make_user

T = TypeVar("T")
ATTENDEES = 16
# Steps on one event before it may be cancelled or deleted.
EVENT_MATURES_AFTER = 12
BANNED_AT_MOST = 2
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


@dataclass
class ModelBooking:
    id: int
    attendee: int
    seats: int
    status: str


@dataclass
class Model:
    capacity: int
    bookings: list[ModelBooking] = field(default_factory=list)

    @property
    def booked(self) -> int:
        return sum(b.seats for b in self.bookings if b.status == "confirmed")

    @property
    def waiting(self) -> list[ModelBooking]:
        return [b for b in self.bookings if b.status == "waitlisted"]

    def active_of(self, attendee: int) -> ModelBooking | None:
        return next(
            (b for b in self.bookings if b.attendee == attendee and b.status != "cancelled"), None
        )

    def expected_booking(self, attendee: int, seats: int, join: bool) -> str:
        if self.active_of(attendee):
            return "already_booked"
        if not self.waiting and seats <= self.capacity - self.booked:
            return "confirmed"
        return "waitlisted" if join else "sold_out"

    def serve(self) -> None:
        for booking in self.waiting:
            if booking.seats > self.capacity - self.booked:
                return
            booking.status = "confirmed"

    def cancel(self, booking: ModelBooking) -> None:
        booking.status = "cancelled"
        self.serve()

    def cancel_all(self) -> None:
        for booking in self.bookings:
            booking.status = "cancelled"


def make_machine(test_settings: Settings, reached: Reached) -> type[RuleBasedStateMachine]:
    class BookingMachine(RuleBasedStateMachine):
        bookings = Bundle("bookings")

        def __init__(self) -> None:
            super().__init__()
            self.loop = asyncio.new_event_loop()
            self.app = create_app(test_settings)
            transport = httpx.ASGITransport(app=self.app, raise_app_exceptions=False)
            self.client = httpx.AsyncClient(transport=transport, base_url="http://testserver")

        def run(self, work: Coroutine[Any, Any, T]) -> T:
            return self.loop.run_until_complete(work)

        def teardown(self) -> None:
            self.run(self.client.aclose())
            self.run(self.app.state.engine.dispose())
            self.loop.close()

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
                self.event_id = (await make_event(db, owner, capacity=capacity)).id
            self.model = Model(capacity)
            self.steps_on_event = 0

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
            crowd=st.lists(
                st.tuples(st.integers(0, ATTENDEES - 1), st.sampled_from([1, 2, 3, 7])),
                min_size=1,
                max_size=4,
            ),
        )
        def crowd_books_or_waits(self, crowd: list[tuple[int, int]]) -> MultipleResults[int]:
            """Several attendees in a row, each ready to wait: the step that makes lines long."""
            return multiple(*(self._book(attendee, seats, True) for attendee, seats in crowd))

        def _book(self, attendee: int, seats: int, join: bool) -> int:
            self.steps_on_event += 1
            if attendee in self.banned:
                expected = "invalid_token"
            else:
                expected = self.model.expected_booking(attendee, seats, join)
            response = self.run(
                self.client.post(
                    "/api/v1/bookings",
                    headers=self.attendees[attendee],
                    json={"event_id": self.event_id, "seats": seats, "join_waitlist": join},
                )
            )
            body = response.json()
            outcome = body["status"] if response.status_code == 201 else body["code"]
            assert outcome == expected, body
            if response.status_code != 201:
                return -1
            self.model.bookings.append(ModelBooking(body["id"], attendee, seats, body["status"]))
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
            self.run(self._check_database())

        async def _check_database(self) -> Event:
            async with self.app.state.sessionmaker() as db:
                return await assert_seats_exact(db, self.event_id)

    return BookingMachine


async def test_bookings_follow_the_waiting_list_model(settings: Settings, engine_name: str) -> None:
    reached = Reached()
    machine = make_machine(settings, reached)
    run_settings = settings_for_model(engine_name)
    # The machine drives its own event loop, so it runs in a thread of its own.
    await asyncio.to_thread(run_state_machine_as_test, machine, settings=run_settings)
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
