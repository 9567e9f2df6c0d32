"""The door in a real browser: door staff scanning with a key from the organizer's link, on a
phone, online and offline; the organizer's lists, keys and arrivals; the camera."""

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
import segno
from playwright.async_api import Browser, Page, Request, Route, expect
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.door.models import Scan
from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.door.support import Door
from tests.factories import auth_headers, make_event, make_ticket_type
from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE, MakePerson, Person, registered

pytestmark = pytest.mark.engines("sqlite", "postgresql")

LISTS = "/api/v1/check-in-lists"
ORGANIZER = "olga.organizer@example.com"


@pytest.fixture
async def door(base_url: str, db: AsyncSession, settings: Settings) -> AsyncIterator[Door]:
    """Olga's Harbour festival, with a VIP type besides General admission, at the real server."""
    organizer = await registered(db, Role.ORGANIZER, "Olga Organizer")
    event = await make_event(db, organizer, title="Harbour festival")
    await make_ticket_type(db, event, name="VIP")
    async with httpx.AsyncClient(base_url=base_url) as client:
        yield Door(client, db, settings, event, await auth_headers(db, settings, organizer))


async def holders(door: Door, list_id: int, key: dict[str, str]) -> dict[str, str]:
    """The name on each ticket of the event, by its code, as a scanner downloads them."""
    download = await door.client.get(f"{LISTS}/{list_id}/tickets", headers=key)
    return {item["code"]: item["holder_name"] for item in download.json()["items"]}


def key_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


async def at_the_door(person: MakePerson, base_url: str, list_id: int, key: str) -> Person:
    """Door staff on a phone, no account, opening the organizer's scanner link."""
    steward = await person()
    await steward.page.set_viewport_size(PHONE)
    await steward.page.goto(f"{base_url}/scan/{list_id}#key={key}")
    await expect(steward.heading).to_have_text("Scanner: Main entrance")
    return steward


async def scan(page: Page, code: str) -> None:
    await page.get_by_label("Ticket code").fill(code)
    await page.get_by_label("Ticket code").press("Enter")


async def test_door_staff_scan_typed_codes_with_the_key_of_their_link(
    person: MakePerson, base_url: str, door: Door
) -> None:
    booking = await door.book(seats=2)
    main = await door.main_entrance()
    key = await door.scanner_key(main)
    code = booking["tickets"][0]["code"]
    holder = (await holders(door, main, key))[code]

    steward = await at_the_door(person, base_url, main, key_of(key))
    page = steward.page

    # The key left the address bar for this phone's storage; nothing else is needed.
    assert "#" not in page.url
    stored = await page.evaluate(f"localStorage.getItem('boxoffice.scanner_key.{main}')")
    assert stored == key_of(key)
    if not await page.evaluate("'BarcodeDetector' in window"):
        await expect(page.get_by_role("button", name="Start camera")).to_have_count(0)
    result = page.get_by_role("status").filter(has=page.locator(".scan-words"))
    await scan(page, code)
    await expect(result).to_contain_text(f"IN — General admission — {holder}")
    await expect(result).to_have_class(re.compile(r"\bscan-ok\b"))
    await expect(page.locator(".door-counts [data-count=inside]")).to_have_text("1")

    await scan(page, code)
    await expect(result).to_contain_text("REFUSED: already inside")
    await expect(result).to_have_class(re.compile(r"\bscan-refused\b"))
    # Only an organizer may let a ticket in twice.
    await expect(page.get_by_role("button", name="Let in anyway")).to_have_count(0)

    await page.get_by_text("Exit", exact=True).click()
    await scan(page, code)
    await expect(result).to_contain_text(f"OUT — General admission — {holder}")
    await expect(page.locator(".door-counts [data-count=inside]")).to_have_text("0")
    assert await door.counts(main) == {"tickets": 2, "checked_in": 1, "inside": 0}

    await steward.check_page("door-scanner")
    # The reload kept the key and the direction.
    await expect(page.get_by_role("radio", name="Exit")).to_be_checked()
    await page.set_viewport_size(PHONE)
    await scan(page, "NO-SUCH-CODE")
    await expect(result).to_contain_text("REFUSED: unknown ticket")


async def test_scans_made_offline_wait_on_the_phone_and_go_as_one_batch_counted_once(
    person: MakePerson, base_url: str, door: Door, db: AsyncSession
) -> None:
    first, second = await door.book(), await door.book()
    main = await door.main_entrance()
    key = await door.scanner_key(main)
    names = await holders(door, main, key)
    codes = [first["tickets"][0]["code"], second["tickets"][0]["code"]]
    steward = await at_the_door(person, base_url, main, key_of(key))
    page = steward.page
    batches: list[str] = []

    def sent(request: Request) -> None:
        if request.url.endswith("/scans/batch"):
            batches.append(request.method)

    page.on("request", sent)

    await steward.context.set_offline(True)
    for code in codes:
        await scan(page, code)
        await expect(page.locator(".scan-result")).to_contain_text(f"Code {code}")
    await expect(page.get_by_text("Offline — 2 scans waiting")).to_be_visible()
    await expect(page.locator(".scan-result")).to_contain_text("SAVED")
    assert await door.counts(main) == {"tickets": 2, "checked_in": 0, "inside": 0}

    # The first upload reaches the server, but its answer is lost on the way: the scans wait on.
    lost: list[int] = []

    async def lose_the_answer(route: Route) -> None:
        response = await route.fetch()
        lost.append(response.status)
        await route.abort()

    await page.route("**/scans/batch", lose_the_answer)
    await steward.context.set_offline(False)
    await expect(page.get_by_text("2 scans waiting to be sent")).to_be_visible()
    assert lost == [200]
    await page.unroute("**/scans/batch")

    # Sent again with the same nonces when the network comes back: the first answers, nothing new.
    await steward.context.set_offline(True)
    await steward.context.set_offline(False)
    log = page.get_by_role("region", name="Sent while offline")
    await expect(log.locator("li")).to_have_count(2)
    for code in codes:
        await expect(log).to_contain_text(f"IN — General admission — {names[code]}")
    await expect(page.locator("#status-queue")).to_have_text("")
    await expect(page.locator(".scan-result")).to_contain_text("were sent: their answers are below")
    await expect(page.locator(".door-counts [data-count=inside]")).to_have_text("2")
    assert batches == ["POST", "POST"]
    assert await door.counts(main) == {"tickets": 2, "checked_in": 2, "inside": 2}
    stored = await db.execute(
        select(Scan.nonce, func.count()).where(Scan.check_in_list_id == main).group_by(Scan.nonce)
    )
    assert sorted(count for _, count in stored) == [1, 1]
    await steward.assert_accessible("door-scanner-offline")


async def test_organizer_adds_and_edits_a_list_and_a_revoked_key_is_refused_at_the_door(
    person: MakePerson, base_url: str, door: Door
) -> None:
    olga = await person()
    page = olga.page
    await olga.log_in(ORGANIZER)

    await page.get_by_role("link", name="Door: Harbour festival").click()
    await expect(olga.heading).to_have_text("Door: Harbour festival")
    main = page.locator(".door-list", has=page.get_by_role("heading", name="Main entrance"))
    await expect(main).to_contain_text("Admits every ticket type · re-entry allowed")
    await main.get_by_role("button", name="Delete list: Main entrance").click()
    await expect(main.get_by_role("status").first).to_have_text(
        "an event keeps at least one check-in list: add another first"
    )

    await page.get_by_text("Add a check-in list").click()
    new_list = page.get_by_role("form", name="New check-in list")
    await new_list.get_by_label("Name").fill("Side door")
    await new_list.get_by_label("VIP").check()
    await new_list.get_by_label("Allow re-entry").uncheck()
    await new_list.get_by_role("button", name="Add list").click()
    await expect(page.get_by_text('Added the list "Side door".')).to_be_visible()
    side = page.locator(".door-list", has=page.get_by_role("heading", name="Side door"))
    await expect(side).to_contain_text("Admits VIP · no re-entry")

    await side.get_by_text("Edit Side door").click()
    await side.get_by_role("form", name="Edit list Side door").get_by_label("Name").fill("VIP door")
    await side.get_by_role("button", name="Save list: Side door").click()
    vip = page.locator(".door-list", has=page.get_by_role("heading", name="VIP door"))
    await expect(vip).to_contain_text("Admits VIP · no re-entry")
    made = (await door.lists())[1]
    assert (made["name"], made["allow_reentry"], len(made["ticket_type_ids"])) == (
        "VIP door",
        False,
        1,
    )

    await vip.get_by_label("Name of the phone").fill("Gate phone")
    await vip.get_by_role("button", name="New scanner key for VIP door").click()
    shown = vip.locator(".key-shown")
    await expect(shown).to_contain_text('Scanner key "Gate phone", shown this once')
    link = await shown.get_by_label("Scanner link").input_value()
    key = await shown.get_by_label("Key", exact=True).input_value()
    assert link == f"{base_url}/scan/{made['id']}#key={key}"
    assert key.startswith("bxs_")
    await expect(vip.get_by_role("row", name="Gate phone")).to_contain_text("never")

    await olga.check_page("door-organizer")
    # Shown once: after a reload the page has it no more.
    await expect(page.locator(".key-shown:not([hidden])")).to_have_count(0)
    assert key not in await page.content()

    await vip.get_by_role("button", name="Revoke key: Gate phone").click()
    await expect(vip.get_by_text('Revoked the key "Gate phone"')).to_be_visible()
    await expect(vip.get_by_role("row", name="Gate phone")).to_have_count(0)

    steward = await person()
    await steward.page.set_viewport_size(PHONE)
    await steward.page.goto(link)
    await expect(steward.heading).to_have_text("Scanner refused")
    await expect(steward.page.get_by_role("alert")).to_contain_text(
        "This scanner key does not work: the organizer revoked it"
    )
    await steward.assert_accessible("door-scanner-refused")


async def test_organizer_lets_a_ticket_in_anyway_and_reads_the_arrivals(
    person: MakePerson, door: Door
) -> None:
    booking = await door.book(seats=2)
    main = await door.main_entrance()
    olga = await person()
    page = olga.page
    await olga.log_in(ORGANIZER)
    await olga.open(f"/organizer/events/{door.event.id}/door")

    await page.get_by_role("link", name="Open scanner: Main entrance").click()
    await expect(olga.heading).to_have_text("Scanner: Main entrance")
    result = page.locator(".scan-result")
    await scan(page, booking["ticket_code"])
    await expect(result).to_contain_text("IN — 2 seats of the party")
    await scan(page, booking["ticket_code"])
    await expect(result).to_contain_text("REFUSED: already inside")
    await page.get_by_role("button", name="Let in anyway").click()
    await expect(result).to_contain_text("IN (let in anyway) — 2 seats of the party")
    assert await door.counts(main) == {"tickets": 2, "checked_in": 2, "inside": 2}

    await page.get_by_role("link", name="The event's door").click()
    await expect(olga.heading).to_have_text("Door: Harbour festival")
    chart = page.get_by_role(
        "img", name="Bar chart: arrivals through Main entrance per 10 minutes."
    )
    width = await chart.evaluate("async img => { await img.decode(); return img.naturalWidth; }")
    assert width > 0
    figures = page.get_by_role("table", name="Arrivals through Main entrance: the figures")
    await expect(figures.locator("tbody tr")).to_have_count(1)
    await expect(figures.locator("tbody td")).to_have_text("4")
    await expect(page.locator(".door-counts [data-count=checked_in]")).to_have_text("2")


def y4m_of_qr(text: str, path: Path, frames: int = 10) -> tuple[int, int]:
    """A video of a QR code for Chromium's fake camera: raw I420 frames, luma 0 or 255 per module
    (a quiet zone of 4 around it), chroma neutral; its width and height."""
    matrix = [list(row) for row in segno.make(text, error="m").matrix_iter(scale=8, border=4)]
    # I420 halves both sides for chroma: even sides (the border is white anyway).
    height, width = len(matrix) // 2 * 2, len(matrix[0]) // 2 * 2
    luma = bytes(0 if matrix[y][x] else 255 for y in range(height) for x in range(width))
    chroma = bytes([128]) * (width // 2 * height // 2)
    header = f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode()
    path.write_bytes(header + (b"FRAME\n" + luma + chroma + chroma) * frames)
    return width, height


@asynccontextmanager
async def phone_with_camera(
    browser: Browser, base_url: str, engine: str, axe: str, video: Path | None = None
) -> AsyncIterator[Person]:
    """Door staff whose phone has Chromium's fake camera, showing `video` (or its own test
    pattern) and allowed without asking; no script error nor CSP violation may happen there."""
    args = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
    if video is not None:
        args.append(f"--use-file-for-fake-video-capture={video}")
    launched = await browser.browser_type.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[*CHROMIUM_ARGS, *args],
    )
    try:
        context = await launched.new_context(viewport=PHONE)
        context.set_default_timeout(10_000)
        steward = Person(context, await context.new_page(), base_url, engine, axe)
        yield steward
    finally:
        await launched.close()
    assert not steward.problems, f"the browser reported: {steward.problems}"


# BarcodeDetector as a browser that has one offers it, reading the ticket's code off every frame
# the camera delivers, and counting how often it was asked.
DETECTOR_STAND_IN = """
window.detections = 0;
window.BarcodeDetector = class {
  static async getSupportedFormats() { return ["qr_code", "ean_13"]; }
  constructor({ formats }) { if (!formats.includes("qr_code")) throw new TypeError("formats"); }
  async detect(video) {
    if (!video.videoWidth) return [];
    window.detections += 1;
    return [{ rawValue: CODE, format: "qr_code" }];
  }
};
"""


async def test_the_camera_scans_a_code_once_however_long_it_is_held_up(
    browser: Browser, base_url: str, engine_name: str, axe_source: str, door: Door
) -> None:
    booking = await door.book()
    main = await door.main_entrance()
    key = await door.scanner_key(main)
    code = booking["tickets"][0]["code"]
    holder = (await holders(door, main, key))[code]
    async with phone_with_camera(browser, base_url, engine_name, axe_source) as steward:
        page = steward.page
        await page.add_init_script(DETECTOR_STAND_IN.replace("CODE", json.dumps(code)))
        await page.goto(f"{base_url}/scan/{main}#key={key_of(key)}")

        await page.get_by_role("button", name="Start camera").click()

        await expect(
            page.get_by_role("img", name="Camera").or_(page.locator("video"))
        ).to_be_visible()
        await expect(page.locator(".scan-result")).to_contain_text(
            f"IN — General admission — {holder}"
        )
        # Read again on every frame for two seconds: still one scan, not a refusal.
        await page.wait_for_function("() => window.detections >= 6")
        await expect(page.locator(".scan-result")).to_have_class(re.compile(r"\bscan-ok\b"))
        await steward.assert_accessible("door-scanner-camera")
        await page.get_by_role("button", name="Stop camera").click()
        await expect(page.get_by_label("Camera", exact=True)).to_be_hidden()
    assert await door.counts(main) == {"tickets": 1, "checked_in": 1, "inside": 1}
    scans = await door.db.scalar(select(func.count()).where(Scan.check_in_list_id == main))
    assert scans == 1


async def test_where_the_browser_cannot_read_codes_the_camera_is_not_offered_and_typing_works(
    browser: Browser, base_url: str, engine_name: str, axe_source: str, door: Door, tmp_path: Path
) -> None:
    """Debian's chromium, the browser of this suite, has no BarcodeDetector (Chromium offers it
    on macOS, ChromeOS and Android, not on Linux). Its fake camera shows the ticket's QR code all
    the same; with nothing to read it, the page must not offer a camera, and the typed code
    stays the way in. (The camera's own loop is the test above, with a stand-in detector.)"""
    booking = await door.book()
    main = await door.main_entrance()
    key = await door.scanner_key(main)
    code = booking["tickets"][0]["code"]
    video = tmp_path / "ticket.y4m"
    size = y4m_of_qr(code, video)
    async with phone_with_camera(browser, base_url, engine_name, axe_source, video) as steward:
        page = steward.page
        await page.goto(f"{base_url}/scan/{main}#key={key_of(key)}")
        await expect(page.locator("main h1")).to_have_text("Scanner: Main entrance")
        assert not await page.evaluate("'BarcodeDetector' in window"), (
            "this chromium reads barcodes: test the camera on the real QR code here instead"
        )
        shown = await page.evaluate(
            """async () => {
                const stream = await navigator.mediaDevices.getUserMedia({ video: true });
                const { width, height } = stream.getVideoTracks()[0].getSettings();
                stream.getTracks().forEach((track) => track.stop());
                return [width, height];
            }"""
        )
        assert tuple(shown) == size
        await expect(page.get_by_role("button", name="Start camera")).to_have_count(0)

        await page.get_by_label("Ticket code").fill(code)
        await page.get_by_label("Ticket code").press("Enter")

        await expect(page.locator(".scan-result")).to_contain_text("IN — General admission")
    assert await door.counts(main) == {"tickets": 1, "checked_in": 1, "inside": 1}
