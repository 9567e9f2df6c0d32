"""Arrivals through a list, per ten minutes: how the door is doing, and when the rush came."""

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from boxoffice.sales import charts
from boxoffice.sales.charts import Bar

BUCKET = timedelta(minutes=10)
# A chart of more bars than this reads as a smear: longer spans show their latest hours.
MOST_BUCKETS = 72


def per_bucket(entries: Sequence[tuple[datetime, int]]) -> list[tuple[datetime, int]]:
    """Seats that came in per ten minutes (UTC, on the ten-minute marks), from the first arrival
    to the last, quiet stretches included; at most the last MOST_BUCKETS."""
    if not entries:
        return []
    counts: dict[datetime, int] = {}
    for at, seats in entries:
        start = _bucket_of(at)
        counts[start] = counts.get(start, 0) + seats
    last = max(counts)
    first = max(min(counts), last - BUCKET * (MOST_BUCKETS - 1))
    buckets = []
    start = first
    while start <= last:
        buckets.append((start, counts.get(start, 0)))
        start += BUCKET
    return buckets


def chart(list_name: str, buckets: Sequence[tuple[datetime, int]], timezone: str) -> str:
    zone = ZoneInfo(timezone)
    return charts.bar_chart(
        name="arrivals",
        title=f"Arrivals through {list_name}, per 10 minutes",
        bars=[Bar(start.astimezone(zone).strftime("%H:%M"), seats) for start, seats in buckets],
        tick_text=str,
        value_text=lambda seats: f"{seats} seat" if seats == 1 else f"{seats} seats",
        note=f"times in {timezone}",
    )


def _bucket_of(at: datetime) -> datetime:
    return at.replace(minute=at.minute - at.minute % 10, second=0, microsecond=0)
