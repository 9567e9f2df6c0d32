"""What a booking request asks for, checked against the event's sales terms and priced: the
lines, each a ticket type and a quantity. Pure: no database, no clock of its own."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from boxoffice.bookings.claims import Claim
from boxoffice.bookings.errors import QuantityOutOfRange, SaleNotOpen
from boxoffice.catalogue.terms import Terms, TypeTerms
from boxoffice.errors import NotFound


@dataclass(frozen=True, slots=True)
class Line:
    kind: TypeTerms
    quantity: int


@dataclass(frozen=True, slots=True)
class Order:
    lines: tuple[Line, ...]
    currency: str
    version: int

    @property
    def seats(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def total_minor(self) -> int:
        return sum(line.kind.price_minor * line.quantity for line in self.lines)

    @property
    def claim(self) -> Claim:
        quotas: dict[int, int] = {}
        for line in self.lines:
            for quota_id in line.kind.quota_ids:
                quotas[quota_id] = quotas.get(quota_id, 0) + line.quantity
        return Claim(self.seats, quotas)

    def ticket_types(self) -> list[TypeTerms]:
        """One entry per seat, in line order: the tickets to issue."""
        return [line.kind for line in self.lines for _ in range(line.quantity)]


def order(
    terms: Terms,
    wanted: Sequence[tuple[int, int]] | int,
    *,
    access_code: str | None,
    now: datetime,
) -> Order:
    """The order for `wanted`: (ticket type id, quantity) pairs, or a number of seats of the
    event's first type open to the caller. Raises what refuses it: 404 for a type that is not
    the event's or is hidden without its code, `sale_not_open`, `quantity_out_of_range`."""
    if isinstance(wanted, int):
        wanted = [(_first_open(terms, access_code).id, wanted)]
    lines = []
    for ticket_type_id, quantity in wanted:
        kind = terms.type(ticket_type_id)
        if kind is None or not kind.open_to(access_code):
            raise NotFound(f"this event has no ticket type {ticket_type_id}")
        if not kind.on_sale(now):
            raise SaleNotOpen(_window(kind, now), ticket_type_id=kind.id)
        if not kind.min_per_booking <= quantity <= kind.max_per_booking:
            raise QuantityOutOfRange(
                f"{kind.name}: between {kind.min_per_booking} and {kind.max_per_booking} per "
                f"booking, {quantity} asked",
                errors=[{"loc": ["body", "lines"], "msg": "quantity out of range"}],
                ticket_type_id=kind.id,
            )
        lines.append(Line(kind, quantity))
    return Order(tuple(lines), terms.currency, terms.version)


def _first_open(terms: Terms, access_code: str | None) -> TypeTerms:
    for kind in terms.types:
        if kind.open_to(access_code):
            return kind
    raise NotFound("this event sells no ticket type you can book; ask for `lines` with a type")


def _window(kind: TypeTerms, now: datetime) -> str:
    if kind.sale_starts_at is not None and now < kind.sale_starts_at:
        return f"{kind.name} goes on sale at {kind.sale_starts_at.isoformat()}"
    return f"the sale of {kind.name} has ended"
