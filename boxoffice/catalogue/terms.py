"""The sales terms of an event's ticket types, as a booking needs them: price, limits per
booking, sale window, access code and the quotas each type counts against.

A booking reads them from a small per-process cache (`TermsCache`), keyed by the event's
`catalogue_version`. That needs no invalidation across processes: the seat ledger takes seats
only if the version the booking was priced with is still the event's, under the event's row
lock, so terms that went stale cost a retry, never a wrong sale.
"""

import hmac
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.catalogue.models import TicketType, quota_ticket_types
from boxoffice.events.models import Event


@dataclass(frozen=True, slots=True)
class TypeTerms:
    id: int
    name: str
    price_minor: int
    min_per_booking: int
    max_per_booking: int
    sale_starts_at: datetime | None
    sale_ends_at: datetime | None
    hidden: bool
    access_code: str | None
    quota_ids: tuple[int, ...]

    def on_sale(self, now: datetime) -> bool:
        """Within the type's own window (the event's, published and not started, is the
        ledger's to check)."""
        return in_sale_window(self.sale_starts_at, self.sale_ends_at, now)

    def open_to(self, access_code: str | None) -> bool:
        """Whether the public may buy it: hidden types only with their access code."""
        return not self.hidden or unlocks(access_code, self.access_code)


def in_sale_window(starts_at: datetime | None, ends_at: datetime | None, now: datetime) -> bool:
    """A type's own sale window: NULL ends mean from publication, and until the event starts."""
    started = starts_at is None or starts_at <= now
    return started and (ends_at is None or now < ends_at)


def unlocks(given: str | None, access_code: str | None) -> bool:
    """Whether a code someone gave opens a hidden type: exactly its code (case matters on every
    engine), compared in a time that tells nothing of how close a guess came. A type without a
    code opens to nobody."""
    if given is None or access_code is None:
        return False
    return hmac.compare_digest(given.encode(), access_code.encode())


@dataclass(frozen=True, slots=True)
class Terms:
    version: int
    currency: str
    # In display order (`position`, then id).
    types: tuple[TypeTerms, ...]

    def type(self, ticket_type_id: int) -> TypeTerms | None:
        return next((kind for kind in self.types if kind.id == ticket_type_id), None)


# The event's version and currency with each of its types and each quota of each type, in one
# read; the event alone (types NULL) if it has none. Deleted events have no terms.
_TERMS = (
    select(
        Event.catalogue_version,
        Event.currency,
        TicketType.id,
        TicketType.name,
        TicketType.price_minor,
        TicketType.min_per_booking,
        TicketType.max_per_booking,
        TicketType.sale_starts_at,
        TicketType.sale_ends_at,
        TicketType.hidden,
        TicketType.access_code,
        quota_ticket_types.c.quota_id,
    )
    .select_from(Event)
    .outerjoin(TicketType, TicketType.event_id == Event.id)
    .outerjoin(quota_ticket_types, quota_ticket_types.c.ticket_type_id == TicketType.id)
    .where(Event.id == bindparam("event_id"), Event.deleted_at.is_(None))
    .order_by(TicketType.position, TicketType.id, quota_ticket_types.c.quota_id)
)


async def load(session: AsyncSession, event_id: int) -> Terms | None:
    """The event's terms as stored now; None if there is no such event."""
    rows = (await session.execute(_TERMS, {"event_id": event_id})).all()
    if not rows:
        return None
    # One row per (type, quota) in display order; a type's first row carries its terms.
    first_rows: dict[int, Any] = {}
    quotas: dict[int, list[int]] = {}
    for row in rows:
        if row.id is None:
            continue
        first_rows.setdefault(row.id, row)
        quotas.setdefault(row.id, [])
        if row.quota_id is not None:
            quotas[row.id].append(row.quota_id)
    types = tuple(
        TypeTerms(
            id=type_id,
            name=row.name,
            price_minor=row.price_minor,
            min_per_booking=row.min_per_booking,
            max_per_booking=row.max_per_booking,
            sale_starts_at=row.sale_starts_at,
            sale_ends_at=row.sale_ends_at,
            hidden=row.hidden,
            access_code=row.access_code,
            quota_ids=tuple(quotas[type_id]),
        )
        for type_id, row in first_rows.items()
    )
    return Terms(
        version=rows[0].catalogue_version,
        currency=rows[0].currency,
        types=types,
    )


class TermsCache:
    """The latest terms this process read of each event, the least recently used dropped first."""

    def __init__(self, *, max_events: int = 10_000) -> None:
        self._max_events = max_events
        self._terms: OrderedDict[int, Terms] = OrderedDict()

    async def current(self, session: AsyncSession, event_id: int) -> Terms | None:
        """The event's terms, read if this process has none; maybe stale (see the module's
        docstring). None if there is no such event."""
        terms = self._terms.get(event_id)
        if terms is not None:
            self._terms.move_to_end(event_id)
            return terms
        return await self.reload(session, event_id)

    async def reload(self, session: AsyncSession, event_id: int) -> Terms | None:
        """The event's terms as stored now, remembered."""
        terms = await load(session, event_id)
        self._terms.pop(event_id, None)
        if terms is not None:
            if len(self._terms) >= self._max_events:
                self._terms.popitem(last=False)
            self._terms[event_id] = terms
        return terms
