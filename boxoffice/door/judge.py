"""The rules of a door, apart from storage: what one scan of a code does, given where each of its
tickets is. The service runs them in scan-time order under the list's lock."""

from dataclasses import dataclass, field
from datetime import datetime

from boxoffice.bookings.models import ENDED_STATUSES, BookingStatus
from boxoffice.door.models import Direction, RefusalReason


@dataclass(slots=True)
class DoorTicket:
    """One ticket, with what the door checks of its booking."""

    id: int
    code: str
    booking_id: int
    booking_code: str
    ticket_type_id: int
    ticket_type: str
    holder_name: str
    status: BookingStatus
    checked_in_at: datetime | None


@dataclass(slots=True)
class Whereabouts:
    """Where a ticket is as far as one list knows."""

    inside: bool = False
    entries: int = 0


@dataclass(slots=True)
class Door:
    admits_types: frozenset[int]  # empty: every type
    allow_reentry: bool
    event_cancelled: bool

    def admits(self, ticket: DoorTicket) -> bool:
        return not self.admits_types or ticket.ticket_type_id in self.admits_types


@dataclass(slots=True)
class Verdict:
    reason: RefusalReason | None = None
    # The tickets that went in or out.
    moved: list[DoorTicket] = field(default_factory=list)
    forced: bool = False


def judge(
    door: Door,
    tickets: list[DoorTicket],
    where: dict[int, Whereabouts],
    direction: Direction,
    *,
    force: bool,
) -> Verdict:
    """The answer to a scan of a code naming `tickets` (one ticket's code, or a whole party's
    booking code), and where it moves them: applied to `where` before it returns. Whoever is
    inside may always leave, even once their booking or the event is cancelled."""
    if not tickets:
        return Verdict(reason=RefusalReason.UNKNOWN_TICKET)
    if direction is Direction.EXIT:
        leaving = [ticket for ticket in tickets if where[ticket.id].inside]
        for ticket in leaving:
            where[ticket.id].inside = False
        return Verdict(moved=leaving)
    refusal = _refusal(door, tickets)
    if refusal is not None:
        return Verdict(reason=refusal)
    admitted = [ticket for ticket in tickets if door.admits(ticket)]
    if not admitted:
        return Verdict(reason=RefusalReason.WRONG_TICKET_TYPE)
    coming = [ticket for ticket in admitted if _may_enter(door, where[ticket.id])]
    if not coming and not force:
        return Verdict(reason=RefusalReason.ALREADY_INSIDE)
    for ticket in coming or admitted:
        where[ticket.id].inside = True
        where[ticket.id].entries += 1
    return Verdict(moved=coming or admitted, forced=not coming)


def _refusal(door: Door, tickets: list[DoorTicket]) -> RefusalReason | None:
    if door.event_cancelled:
        return RefusalReason.EVENT_CANCELLED
    # A code names tickets of one booking: they share its status.
    status = tickets[0].status
    if status in ENDED_STATUSES:
        return RefusalReason.CANCELLED
    if status is not BookingStatus.CONFIRMED:
        return RefusalReason.NOT_CONFIRMED
    return None


def _may_enter(door: Door, where: Whereabouts) -> bool:
    return not where.inside and (door.allow_reentry or where.entries == 0)
