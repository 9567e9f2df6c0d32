"""GET /events/{id}/sales/{chart}.svg: bar charts drawn by the server, that a page can show
under its Content-Security-Policy and a screen reader can read."""

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.bookings.models import BookingStatus
from boxoffice.events.models import Event
from boxoffice.sales.charts import Bar, axis_ticks, bar_chart
from boxoffice.sales.schemas import Chart
from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.factories import Caller, make_event, make_ticket_type, signed_in
from tests.sales.support import pay, sales_path, sell

SVG = "{http://www.w3.org/2000/svg}"


def parsed(document: str) -> ET.Element:
    root = ET.fromstring(document)
    assert root.tag == f"{SVG}svg"
    return root


def texts(root: ET.Element) -> list[str]:
    return [element.text or "" for element in root.iter(f"{SVG}text")]


def title_and_description(root: ET.Element) -> tuple[str, str]:
    """The accessible name and description, found as assistive technology finds them."""
    assert root.get("role") == "img"
    by_id = {element.get("id"): element for element in root.iter() if element.get("id")}
    name = by_id[root.get("aria-labelledby")]
    description = by_id[root.get("aria-describedby")]
    assert (name.tag, description.tag) == (f"{SVG}title", f"{SVG}desc")
    return name.text or "", description.text or ""


@pytest.fixture
async def owner(db: AsyncSession, settings: Settings) -> Caller:
    return await signed_in(db, settings, Role.ORGANIZER)


async def an_event_with_a_sale(db: AsyncSession, owner: Caller, type_name: str) -> Event:
    """Three seats of `type_name` at 12.50 EUR, sold and paid for on 2027-03-14 in Lisbon."""
    event = await make_event(db, owner.user, timezone="Europe/Lisbon")
    kind = await make_ticket_type(db, event, name=type_name, price_minor=1250)
    at = datetime(2027, 3, 14, 11, tzinfo=UTC)
    await pay(db, await sell(db, event, [(kind, 3)], status=BookingStatus.CONFIRMED, at=at), at=at)
    return event


@pytest.mark.parametrize("chart", list(Chart))
async def test_every_chart_is_a_self_contained_accessible_svg(
    client: httpx.AsyncClient, db: AsyncSession, owner: Caller, chart: Chart
) -> None:
    event = await an_event_with_a_sale(db, owner, "Adult")

    response = await client.get(sales_path(event.id, chart), headers=owner.headers)

    assert response.status_code == 200
    assert response.headers["content-type"] == "image/svg+xml"
    assert response.headers["content-security-policy"] == "default-src 'none'"
    root = parsed(response.text)
    assert (root.get("width"), root.get("height"), root.get("viewBox")) == (
        "600",
        "300",
        "0 0 600 300",
    )
    name, description = title_and_description(root)
    assert name.startswith(("Seats sold by", "Revenue by"))
    assert description.startswith(name)
    elements = {element.tag.removeprefix(SVG) for element in root.iter()}
    assert elements <= {"svg", "title", "desc", "rect", "line", "text", "g"}
    attributes = {name for element in root.iter() for name in element.attrib}
    assert not {name for name in attributes if name.startswith("on") or "href" in name}
    assert "url(" not in response.text


async def test_a_chart_states_its_numbers_in_its_description(
    client: httpx.AsyncClient, db: AsyncSession, owner: Caller
) -> None:
    event = await an_event_with_a_sale(db, owner, "Adult")

    by_day = await client.get(sales_path(event.id, Chart.REVENUE_BY_DAY), headers=owner.headers)
    by_type = await client.get(sales_path(event.id, Chart.SEATS_BY_TYPE), headers=owner.headers)

    assert title_and_description(parsed(by_day.text)) == (
        "Revenue by day, EUR",
        "Revenue by day, EUR (days in Europe/Lisbon). 2027-03-14: 37.50 EUR. Total: 37.50 EUR.",
    )
    assert title_and_description(parsed(by_type.text))[1] == (
        "Seats sold by ticket type. General admission: 0 seats; Adult: 3 seats. Total: 3 seats."
    )


async def test_a_ticket_types_name_is_shown_as_text_never_as_markup(
    client: httpx.AsyncClient, db: AsyncSession, owner: Caller
) -> None:
    event = await an_event_with_a_sale(db, owner, '<b>&"')

    response = await client.get(sales_path(event.id, Chart.SEATS_BY_TYPE), headers=owner.headers)

    root = parsed(response.text)
    assert root.find(f".//{SVG}b") is None
    assert '<b>&"' in texts(root)
    assert '<b>&": 3 seats' in title_and_description(root)[1]


async def test_a_chart_of_nothing_says_so(
    client: httpx.AsyncClient, db: AsyncSession, owner: Caller
) -> None:
    event = await make_event(db, owner.user)

    response = await client.get(sales_path(event.id, Chart.SEATS_BY_DAY), headers=owner.headers)

    root = parsed(response.text)
    assert title_and_description(root) == (
        "Seats sold by day",
        "Seats sold by day (days in UTC): nothing yet.",
    )
    assert "Nothing yet" in texts(root)


async def test_an_unknown_chart_is_refused(
    client: httpx.AsyncClient, db: AsyncSession, owner: Caller
) -> None:
    event = await make_event(db, owner.user)

    response = await client.get(sales_path(event.id, "pie"), headers=owner.headers)

    assert (response.status_code, response.json()["code"]) == (422, "validation_error")


# -- drawing -----------------------------------------------------------------------------------


def seats(value: int) -> str:
    return f"{value} seats"


@pytest.mark.parametrize(
    ("top", "ticks"),
    [
        (0, [0]),
        (1, [0, 1]),
        (5, [0, 1, 2, 3, 4, 5]),
        (7, [0, 2, 4, 6, 8]),
        (12, [0, 5, 10, 15]),
        (1250, [0, 500, 1000, 1500]),
        (99_999, [0, 20_000, 40_000, 60_000, 80_000, 100_000]),
    ],
)
def test_the_axis_steps_by_round_numbers_to_just_above_the_tallest_bar(
    top: int, ticks: list[int]
) -> None:
    assert axis_ticks(top) == ticks


def test_the_bars_are_drawn_to_the_axis_scale() -> None:
    document = bar_chart(
        name="c", title="t", bars=[Bar("a", 12), Bar("b", 3)], tick_text=str, value_text=seats
    )

    root = parsed(document)
    # Tick labels sit 4 below their line: the axis runs 0, 5, 10, 15.
    at = {text.text: float(text.get("y", "0")) - 4 for text in root.iter(f"{SVG}text")}
    fifteen = at["0"] - at["15"]
    background, *bars = root.iter(f"{SVG}rect")
    assert [float(bar.get("height", "0")) for bar in bars] == pytest.approx(
        [fifteen * 12 / 15, fifteen * 3 / 15], abs=0.1
    )
    assert [float(bar.get("y", "0")) + float(bar.get("height", "0")) for bar in bars] == (
        pytest.approx([at["0"], at["0"]], abs=0.1)
    )


def test_characters_xml_cannot_carry_do_not_break_the_document() -> None:
    document = bar_chart(
        name="c", title="t", bars=[Bar("bell\x07 and tab\t", 1)], tick_text=str, value_text=seats
    )

    assert "bell\ufffd and tab\t: 1 seats" in title_and_description(parsed(document))[1]


def test_many_days_are_labelled_every_so_often_without_overlap() -> None:
    start = date(2027, 1, 1)
    days = [Bar((start + timedelta(days=n)).isoformat(), n % 7) for n in range(120)]

    root = parsed(bar_chart(name="c", title="t", bars=days, tick_text=str, value_text=seats))

    labels = [t for t in root.iter(f"{SVG}text") if (t.text or "").startswith("2027-")]
    assert 4 <= len(labels) <= 30
    xs = [float(label.get("x", "0")) for label in labels]
    assert min(b - a for a, b in zip(xs, xs[1:], strict=False)) >= 12 * 1.5
    assert all(label.get("transform", "").startswith("rotate(-45") for label in labels)
    assert min(xs) - 10 * 7 * 0.71 >= 0


def test_a_long_name_is_shortened_under_its_bar_and_whole_in_the_description() -> None:
    name = "Weekend pass with camping and breakfast"
    bars = [Bar(name, 2), *(Bar(f"Type {n}", 1) for n in range(5))]

    root = parsed(bar_chart(name="c", title="t", bars=bars, tick_text=str, value_text=seats))

    assert f"{name}: 2 seats" in title_and_description(root)[1]
    (shown,) = [text for text in texts(root) if text.startswith("Weekend")]
    assert shown.endswith("…")
    assert name.startswith(shown.removesuffix("…"))
