"""An event's sales for its organizer (SPEC §10): seats and money in total, by day and by
ticket type, as figures and as charts. Amounts are minor units here and decimal strings only in
what leaves."""

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.bookings.models import BookingStatus
from boxoffice.catalogue.money import to_decimal_string
from boxoffice.events.models import Event
from boxoffice.payments.models import RefundStatus
from boxoffice.sales import charts, repository
from boxoffice.sales.charts import Bar
from boxoffice.sales.schemas import (
    Chart,
    DaySales,
    SalesRead,
    SalesTotals,
    TicketTypeSales,
)


class _Day(NamedTuple):
    day: date
    seats: int
    revenue: int


class _TypeSold(NamedTuple):
    id: int
    name: str
    seats: int
    revenue: int


_TITLES = {
    Chart.SEATS_BY_DAY: "Seats sold by day",
    Chart.REVENUE_BY_DAY: "Revenue by day",
    Chart.SEATS_BY_TYPE: "Seats sold by ticket type",
    Chart.REVENUE_BY_TYPE: "Revenue by ticket type",
}


async def report(session: AsyncSession, event: Event) -> SalesRead:
    money = partial(to_decimal_string, currency=event.currency)
    asked = {"event_id": event.id}
    by_status = {
        status: (int(seats), int(price))
        for status, seats, price in await session.execute(repository.BY_STATUS, asked)
    }
    refunds = {
        status: int(amount)
        for status, amount in await session.execute(repository.REFUNDS_BY_STATUS, asked)
    }
    days = await _by_day(session, event)

    def seats_of(*statuses: BookingStatus) -> int:
        return sum(by_status.get(status, (0, 0))[0] for status in statuses)

    return SalesRead(
        currency=event.currency,
        totals=SalesTotals(
            seats_sold=seats_of(BookingStatus.CONFIRMED),
            seats_held=seats_of(BookingStatus.PENDING, BookingStatus.OFFERED),
            revenue=money(sum(day.revenue for day in days)),
            refunded=money(refunds.get(RefundStatus.SUCCEEDED, 0)),
            owed=money(refunds.get(RefundStatus.OWED, 0)),
            pending_payments=money(by_status.get(BookingStatus.PENDING, (0, 0))[1]),
        ),
        by_day=[
            DaySales(date=day.day, seats=day.seats, revenue=money(day.revenue)) for day in days
        ],
        by_ticket_type=[
            TicketTypeSales(
                ticket_type_id=sold.id,
                name=sold.name,
                seats=sold.seats,
                revenue=money(sold.revenue),
            )
            for sold in await _by_type(session, event)
        ],
    )


async def chart(session: AsyncSession, event: Event, which: Chart) -> str:
    """One of the sales page's bar charts as an SVG document."""
    money = partial(to_decimal_string, currency=event.currency)
    by_day = which in (Chart.SEATS_BY_DAY, Chart.REVENUE_BY_DAY)
    rows = (
        [(sold.day.isoformat(), sold.seats, sold.revenue) for sold in await _by_day(session, event)]
        if by_day
        else [(sold.name, sold.seats, sold.revenue) for sold in await _by_type(session, event)]
    )
    note = f"days in {event.timezone}" if by_day else ""
    if which in (Chart.SEATS_BY_DAY, Chart.SEATS_BY_TYPE):
        return charts.bar_chart(
            name=which.value,
            title=_TITLES[which],
            bars=[Bar(label, seats) for label, seats, _ in rows],
            tick_text=str,
            value_text=lambda seats: f"{seats} seat" if seats == 1 else f"{seats} seats",
            note=note,
        )
    return charts.bar_chart(
        name=which.value,
        title=f"{_TITLES[which]}, {event.currency}",
        bars=[Bar(label, revenue) for label, _, revenue in rows],
        tick_text=money,
        value_text=lambda minor: f"{money(minor)} {event.currency}",
        note=note,
    )


async def _by_day(session: AsyncSession, event: Event) -> list[_Day]:
    """Every day from the first sale or payment to the last, in the event's time zone."""
    zone = ZoneInfo(event.timezone)
    seats = await _per_local_day(session, repository.SEATS_BY_QUARTER_HOUR, event.id, zone)
    revenue = await _per_local_day(session, repository.REVENUE_BY_QUARTER_HOUR, event.id, zone)
    if not seats and not revenue:
        return []
    first, last = min(seats | revenue), max(seats | revenue)
    days = (first + timedelta(days=n) for n in range((last - first).days + 1))
    return [_Day(day, seats[day], revenue[day]) for day in days]


async def _per_local_day(
    session: AsyncSession,
    query: Select[*tuple[Any, ...]],
    event_id: int,
    zone: ZoneInfo,
) -> Counter[date]:
    """The sums of a query grouped by UTC quarter hour (repository._quarter_hour), by local
    day. int(): PostgreSQL's EXTRACT is a numeric, MariaDB's SUM a decimal."""
    totals: Counter[date] = Counter()
    rows = await session.execute(query, {"event_id": event_id})
    for year, month, day, hour, minute, amount in rows:
        start = datetime(int(year), int(month), int(day), int(hour), int(minute), tzinfo=UTC)
        totals[start.astimezone(zone).date()] += int(amount)
    return totals


async def _by_type(session: AsyncSession, event: Event) -> list[_TypeSold]:
    rows = await session.execute(repository.BY_TICKET_TYPE, {"event_id": event.id})
    return [
        _TypeSold(type_id, name, int(seats), int(revenue)) for type_id, name, seats, revenue in rows
    ]
