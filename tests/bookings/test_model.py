"""A stateful property test: random books, cancels and capacity changes against a simple model.

Hypothesis drives the real API (the ASGI app on the engine's database); the model is a few lines
of Python that state the waiting-list rules directly. After every step the event's counts and
every booking's status and position must match the model, and the seat invariants must hold.
"""

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from boxoffice.app import create_app
from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.bookings.invariants import assert_seats_exact
from tests.factories import auth_headers, make_event, make_user

T = TypeVar("T")
ATTENDEES = 12


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


def make_machine(test_settings: Settings) -> type[RuleBasedStateMachine]:
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
            self.model = Model(capacity)
            self.run(self._arrange(capacity))

        async def _arrange(self, capacity: int) -> None:
            async with self.app.state.sessionmaker() as db:
                owner = await make_user(db, role=Role.ORGANIZER)
                self.owner = await auth_headers(db, test_settings, owner)
                self.event_id = (await make_event(db, owner, capacity=capacity)).id
                self.attendees = [
                    await auth_headers(db, test_settings, await make_user(db))
                    for _ in range(ATTENDEES)
                ]

        @rule(
            target=bookings,
            attendee=st.integers(0, ATTENDEES - 1),
            # Mostly small or large requests: the mix that makes the waiting list interesting.
            seats=st.sampled_from([1, 1, 2, 7]),
            join=st.booleans(),
        )
        def book(self, attendee: int, seats: int, join: bool) -> int:
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
            return int(body["id"])

        @rule(booking_id=consumes(bookings))
        def cancel(self, booking_id: int) -> None:
            booking = next((b for b in self.model.bookings if b.id == booking_id), None)
            if booking is None:
                return
            response = self.run(
                self.client.delete(
                    f"/api/v1/bookings/{booking_id}", headers=self.attendees[booking.attendee]
                )
            )
            assert response.status_code == 200, response.text
            booking.status = "cancelled"
            self.model.serve()

        @rule(capacity=st.integers(1, 12))
        def change_capacity(self, capacity: int) -> None:
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

        async def _check_database(self) -> None:
            async with self.app.state.sessionmaker() as db:
                await assert_seats_exact(db, self.event_id)

    return BookingMachine


async def test_bookings_follow_the_waiting_list_model(settings: Settings) -> None:
    machine = make_machine(settings)
    run_settings = settings_for_model()
    # The machine drives its own event loop, so it runs in a thread of its own.
    await asyncio.to_thread(run_state_machine_as_test, machine, settings=run_settings)


def settings_for_model() -> settings:
    return settings(
        max_examples=25,
        stateful_step_count=20,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
