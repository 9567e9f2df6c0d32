"""Where a rush is on: the events this process lately answered "sold out" for.

Only a hint of which way a booking asks first. During a rush most attempts are refused, and a
refusal is cheapest found by one read that takes no lock; elsewhere that read would only cost a
sale one statement more, so a booking goes the way of a sale at once. Both ways give the same
answers (but for an account disabled in the very instant: refused by the read with what the
event says, by the sale's account hold with 403). Forgetting a rush costs a statement, nothing
more, so the hint is per process and small.
"""

import time
from collections.abc import Callable
from typing import TypeVar

from boxoffice.bookings.errors import SoldOut
from boxoffice.errors import DomainError

Clock = Callable[[], float]
Refusal = TypeVar("Refusal", bound=DomainError)


class RushHint:
    def __init__(
        self,
        *,
        window_seconds: float = 10.0,
        max_events: int = 10_000,
        clock: Clock = time.monotonic,
    ) -> None:
        self._window = window_seconds
        self._max_events = max_events
        self._clock = clock
        # When each event last answered "sold out", oldest first.
        self._since: dict[int, float] = {}

    def on(self, event_id: int) -> bool:
        """Whether the event answered "sold out" within the window."""
        since = self._since.get(event_id)
        return since is not None and self._clock() - since < self._window

    def reads_first(self, event_id: int, *, join_waitlist: bool) -> bool:
        """Whether a booking should first be looked at by a read without locks: during a rush,
        unless it asks to wait in line (rarely refused: it goes on at once)."""
        return not join_waitlist and self.on(event_id)

    def noted(self, event_id: int, refusal: Refusal) -> Refusal:
        """Passes a booking's refusal through; a "sold out" starts (or prolongs) a rush."""
        if isinstance(refusal, SoldOut):
            self._since.pop(event_id, None)
            if len(self._since) >= self._max_events:
                del self._since[next(iter(self._since))]
            self._since[event_id] = self._clock()
        return refusal
