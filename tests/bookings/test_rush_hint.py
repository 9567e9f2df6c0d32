"""The rush hint on its own, with a clock the test drives: which events it says a rush is on for."""

from boxoffice.bookings.errors import AlreadyBooked, EventNotBookable, SoldOut
from boxoffice.bookings.rush import RushHint
from boxoffice.errors import NotFound


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_sold_out_answer_starts_a_rush_for_that_event_only() -> None:
    hint = RushHint(clock=Clock())
    refusal = SoldOut("only 0 seats left")

    assert hint.noted(1, refusal) is refusal
    assert hint.on(1)
    assert not hint.on(2)


def test_no_other_refusal_starts_a_rush() -> None:
    hint = RushHint(clock=Clock())
    for refusal in (NotFound("gone"), EventNotBookable("started"), AlreadyBooked("yours")):
        assert hint.noted(1, refusal) is refusal
    assert not hint.on(1)


def test_a_rush_ends_when_the_window_has_passed_without_sold_out() -> None:
    clock = Clock()
    hint = RushHint(window_seconds=10, clock=clock)
    hint.noted(1, SoldOut("none left"))

    clock.now += 9.9
    assert hint.on(1)
    clock.now += 0.1
    assert not hint.on(1)


def test_another_sold_out_keeps_the_rush_on() -> None:
    clock = Clock()
    hint = RushHint(window_seconds=10, clock=clock)
    hint.noted(1, SoldOut("none left"))
    clock.now += 8
    hint.noted(1, SoldOut("none left"))

    clock.now += 8
    assert hint.on(1)


def test_it_remembers_at_most_max_events_and_forgets_the_longest_quiet_first() -> None:
    clock = Clock()
    hint = RushHint(max_events=3, clock=clock)
    for event_id in (1, 2, 3):
        hint.noted(event_id, SoldOut("none left"))
        clock.now += 1
    hint.noted(1, SoldOut("none left"))  # event 2 is now the longest quiet

    hint.noted(4, SoldOut("none left"))

    assert [event_id for event_id in (1, 2, 3, 4) if hint.on(event_id)] == [1, 3, 4]
