"""What a booking takes from the ledger: seats of the event, and of each quota its tickets count
against. Claims add up, so that several bookings of one event can be taken as one."""

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Self


@dataclass(frozen=True, slots=True)
class Claim:
    seats: int
    # Seats per quota id; a quota the claim does not touch is absent, never 0.
    quotas: Mapping[int, int] = field(default_factory=dict)

    def __add__(self, other: Self) -> Self:
        quotas = Counter(self.quotas)
        quotas.update(other.quotas)
        return type(self)(self.seats + other.seats, dict(quotas))
