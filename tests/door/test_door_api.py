"""The door through the API (SPEC §11): lists, what a scan answers and changes, nonces, scanner
keys, the offline download, and SPEC §4's check-in on the first list."""

import asyncio
from datetime import datetime, timedelta

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.bookings.models import Booking
from boxoffice.db import utcnow
from boxoffice.door.models import Scan
from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.door.support import Door
from tests.factories import auth_headers, make_ticket_type, make_user

LISTS = "/api/v1/check-in-lists"


async def test_every_event_has_a_main_entrance_that_admits_every_type(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    organizer = await make_user(db, role=Role.ORGANIZER)
    owner = await auth_headers(db, settings, organizer)
    made = await client.post(
        "/api/v1/events",
        headers=owner,
        json={
            "title": "Gala",
            "starts_at": (utcnow() + timedelta(days=3)).isoformat(),
            "capacity": 10,
            "location": "Town hall",
        },
    )
    assert made.status_code == 201, made.text

    lists = await client.get(f"/api/v1/events/{made.json()['id']}/check-in-lists", headers=owner)

    (main,) = lists.json()["items"]
    assert (main["name"], main["ticket_type_ids"], main["allow_reentry"]) == (
        "Main entrance",
        [],
        True,
    )
    assert main["counts"] == {"tickets": 0, "checked_in": 0, "inside": 0}


async def test_a_ticket_goes_in_out_and_in_again_and_the_counts_follow(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    door = await Door.open(client, db, settings)
    code = (await door.book(seats=2))["tickets"][0]["code"]
    main = await door.main_entrance()

    entered = await door.scan(main, code)
    again = await door.scan(main, code)
    assert await door.counts(main) == {"tickets": 2, "checked_in": 1, "inside": 1}
    left = await door.scan(main, code, direction="exit")
    assert await door.counts(main) == {"tickets": 2, "checked_in": 1, "inside": 0}
    back = await door.scan(main, code)

    assert entered.status_code == 201
    assert [(r.json()["result"], r.json()["reason"]) for r in (entered, again, left, back)] == [
        ("ok", None),
        ("refused", "already_inside"),
        ("ok", None),
        ("ok", None),
    ]
    shown = entered.json()
    assert shown["ticket"]["code"] == code
    assert shown["ticket"]["ticket_type"] == "General admission"
    assert shown["seats"] == 1
    assert await door.counts(main) == {"tickets": 2, "checked_in": 1, "inside": 1}


async def test_without_reentry_an_exit_does_not_let_a_ticket_back_in(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    door = await Door.open(client, db, settings)
    code = (await door.book())["tickets"][0]["code"]
    gate = (await door.add_list(allow_reentry=False))["id"]

    await door.scan(gate, code)
    await door.scan(gate, code, direction="exit")
    back = await door.scan(gate, code)

    assert (back.json()["result"], back.json()["reason"]) == ("refused", "already_inside")


async def test_a_forced_second_entry_is_let_in_recorded_as_forced_and_counted(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    door = await Door.open(client, db, settings)
    code = (await door.book())["tickets"][0]["code"]
    main = await door.main_entrance()
    await door.scan(main, code)

    forced = (await door.scan(main, code, force=True)).json()
    unforced = (await door.scan(main, code, force=False)).json()

    assert (forced["result"], forced["forced"], forced["seats"]) == ("ok", True, 1)
    assert (unforced["result"], unforced["forced"]) == ("refused", False)
    assert await door.counts(main) == {"tickets": 1, "checked_in": 1, "inside": 1}


async def test_the_booking_code_admits_every_seat_of_the_party_not_inside_yet(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    door = await Door.open(client, db, settings)
    party = await door.book(seats=3)
    main = await door.main_entrance()
    await door.scan(main, party["tickets"][0]["code"])

    rest = (await door.scan(main, party["ticket_code"])).json()
    nobody = (await door.scan(main, party["ticket_code"])).json()
    out = (await door.scan(main, party["ticket_code"], direction="exit")).json()

    assert (rest["result"], rest["seats"], rest["ticket"], rest["booking_id"]) == (
        "ok",
        2,
        None,
        party["id"],
    )
    assert (nobody["result"], nobody["reason"]) == ("refused", "already_inside")
    assert (out["result"], out["seats"]) == ("ok", 3)
    assert await door.counts(main) == {"tickets": 3, "checked_in": 3, "inside": 0}


async def test_each_refusal_names_its_reason_and_lets_nobody_in(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    door = await Door.open(client, db, settings, capacity=2)
    cancelled = await door.book()
    await client.delete(f"/api/v1/bookings/{cancelled['id']}", headers=cancelled["headers"])
    await door.book(seats=2)
    waiting = await door.book(join_waitlist=True)
    vip = await make_ticket_type(db, door.event, name="VIP")
    vip_gate = (await door.add_list(name="VIP gate", ticket_type_ids=[vip.id]))["id"]
    main = await door.main_entrance()
    seated = (await door.lists())[0]["counts"]

    answers = [
        (await door.scan(main, "NOSUCHCODE")).json(),
        (await door.scan(main, cancelled["tickets"][0]["code"])).json(),
        (await door.scan(main, waiting["ticket_code"])).json(),
        (await door.scan(vip_gate, cancelled["ticket_code"])).json(),
    ]

    assert [(a["result"], a["reason"]) for a in answers] == [
        ("refused", "unknown_ticket"),
        ("refused", "cancelled"),
        ("refused", "not_confirmed"),
        ("refused", "cancelled"),
    ]
    assert answers[0]["ticket"] is None
    assert (await door.lists())[0]["counts"] == seated


async def test_a_list_for_some_types_refuses_the_others(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    door = await Door.open(client, db, settings)
    vip = await make_ticket_type(db, door.event, name="VIP")
    vip_gate = (await door.add_list(name="VIP gate", ticket_type_ids=[vip.id]))["id"]
    general = (await door.book())["tickets"][0]["code"]

    refused = (await door.scan(vip_gate, general)).json()

    assert (refused["result"], refused["reason"]) == ("refused", "wrong_ticket_type")
    assert await door.counts(vip_gate) == {"tickets": 0, "checked_in": 0, "inside": 0}


async def test_a_cancelled_event_admits_nobody(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    door = await Door.open(client, db, settings)
    code = (await door.book())["tickets"][0]["code"]
    await client.post(f"/api/v1/events/{door.event.id}/cancel", headers=door.owner)

    answer = (await door.scan(await door.main_entrance(), code)).json()

    assert (answer["result"], answer["reason"]) == ("refused", "event_cancelled")


async def test_each_list_counts_on_its_own(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    door = await Door.open(client, db, settings)
    code = (await door.book())["tickets"][0]["code"]
    main, side = await door.main_entrance(), (await door.add_list())["id"]

    answers = [(await door.scan(gate, code)).json()["result"] for gate in (main, side)]

    assert answers == ["ok", "ok"]
    for gate in (main, side):
        assert await door.counts(gate) == {"tickets": 1, "checked_in": 1, "inside": 1}


async def test_a_scan_sent_again_with_its_nonce_gets_the_first_answer_and_records_nothing(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    door = await Door.open(client, db, settings)
    code = (await door.book())["tickets"][0]["code"]
    main = await door.main_entrance()

    first = (await door.scan(main, code, nonce="phone-1:0001")).json()
    resent = (await door.scan(main, code, nonce="phone-1:0001")).json()
    other = (await door.scan(main, code, nonce="phone-1:0002")).json()

    assert resent == first
    assert first["result"] == "ok"
    assert (other["result"], other["reason"]) == ("refused", "already_inside")
    stored = await db.scalar(select(func.count()).select_from(Scan).where(Scan.code == code))
    assert stored == 2


async def test_a_batch_is_judged_in_scan_time_order_and_answered_in_the_order_sent(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    door = await Door.open(client, db, settings)
    code = (await door.book())["tickets"][0]["code"]
    main = await door.main_entrance()
    at = utcnow() - timedelta(minutes=30)

    def scanned(minutes: int) -> str:
        return (at + timedelta(minutes=minutes)).isoformat()

    response = await client.post(
        f"{LISTS}/{main}/scans/batch",
        headers=door.owner,
        json={
            "scans": [
                # Sent out of order: the exit at minute 5 comes between the two entries.
                {"code": code, "direction": "entry", "scanned_at": scanned(9), "nonce": "b"},
                {"code": code, "direction": "exit", "scanned_at": scanned(5), "nonce": "c"},
                {"code": code, "direction": "entry", "scanned_at": scanned(1), "nonce": "a"},
                {"code": code, "direction": "entry", "scanned_at": scanned(12), "force": True},
            ]
        },
    )

    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [(r["nonce"], r["result"], r["forced"]) for r in results] == [
        ("b", "ok", False),
        ("c", "ok", False),
        ("a", "ok", False),
        (None, "ok", True),
    ]
    assert [r["seats"] for r in results] == [1, 1, 1, 1]


async def test_a_scanner_key_scans_at_its_own_list_only_and_dies_when_revoked(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    door = await Door.open(client, db, settings)
    code = (await door.book())["tickets"][0]["code"]
    main, side = await door.main_entrance(), (await door.add_list())["id"]
    key = await door.scanner_key(main)

    scanned = await door.scan(main, code, headers=key)
    elsewhere = await door.scan(side, code, headers=key)
    download = await client.get(f"{LISTS}/{main}/tickets", headers=key)
    manage = await client.patch(f"{LISTS}/{main}", headers=key, json={"name": "Mine"})
    listed = await client.get(f"{LISTS}/{main}/scanner-keys", headers=door.owner)
    (shown,) = listed.json()["items"]
    revoked = await client.delete(f"{LISTS}/{main}/scanner-keys/{shown['id']}", headers=door.owner)
    after = await door.scan(main, code, headers=key, direction="exit")

    assert (scanned.status_code, scanned.json()["result"]) == (201, "ok")
    assert (elsewhere.status_code, elsewhere.json()["code"]) == (403, "forbidden")
    assert download.status_code == 200
    assert (manage.status_code, manage.json()["code"]) == (401, "invalid_token")
    assert "key" not in shown
    assert shown["name"] == "Phone 1"
    assert shown["last_used_at"] is not None
    assert revoked.status_code == 204
    assert (after.status_code, after.json()["code"]) == (401, "invalid_token")


async def test_a_scanner_key_reads_its_lists_rules_and_counts_with_its_tickets_only(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    door = await Door.open(client, db, settings)
    code = (await door.book(seats=2))["tickets"][0]["code"]
    main, side = await door.main_entrance(), (await door.add_list())["id"]
    key = await door.scanner_key(main)
    await door.scan(main, code, headers=key)

    own = await client.get(f"{LISTS}/{main}/tickets", headers=key)
    listed = await client.get(f"{LISTS}/{main}", headers=key)
    other = await client.get(f"{LISTS}/{side}/tickets", headers=key)
    keys = await client.get(f"{LISTS}/{main}/scanner-keys", headers=key)

    shown = own.json()["check_in_list"]
    assert (shown["name"], shown["counts"]) == (
        "Main entrance",
        {"tickets": 2, "checked_in": 1, "inside": 1},
    )
    assert (listed.status_code, listed.json()["code"]) == (401, "invalid_token")
    assert (other.status_code, other.json()["code"]) == (403, "forbidden")
    assert (keys.status_code, keys.json()["code"]) == (401, "invalid_token")


async def test_revoking_every_key_of_a_list_at_once(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    door = await Door.open(client, db, settings)
    main = await door.main_entrance()
    keys = [await door.scanner_key(main, name) for name in ("Phone 1", "Phone 2")]

    revoked = await client.delete(f"{LISTS}/{main}/scanner-keys", headers=door.owner)

    assert revoked.status_code == 204
    for key in keys:
        assert (await door.scan(main, "ANYCODE", headers=key)).status_code == 401


async def test_only_the_events_organizer_and_admins_manage_its_lists(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    door = await Door.open(client, db, settings)
    main = await door.main_entrance()
    stranger = await auth_headers(db, settings, await make_user(db, role=Role.ORGANIZER))
    attendee = await auth_headers(db, settings, await make_user(db))
    admin = await auth_headers(db, settings, await make_user(db, role=Role.ADMIN))

    assert (await client.get(f"{LISTS}/{main}", headers=stranger)).status_code == 403
    assert (await client.get(f"{LISTS}/{main}", headers=attendee)).status_code == 403
    assert (await door.scan(main, "ANYCODE", headers=stranger)).status_code == 403
    assert (await client.get(f"{LISTS}/{main}", headers=admin)).status_code == 200
    assert (await client.get(f"{LISTS}/{main}")).status_code == 401
    assert (await client.get(f"{LISTS}/999999", headers=admin)).status_code == 404


async def test_the_download_carries_every_ticket_and_then_only_what_changed(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    door = await Door.open(client, db, settings)
    first, second = await door.book(seats=2), await door.book()
    main = await door.main_entrance()
    key = await door.scanner_key(main)
    everything = (await client.get(f"{LISTS}/{main}/tickets", headers=key)).json()
    # What follows happens after the download's `as_of`, as it would a while later.
    await db.execute(update(Booking).values(updated_at=utcnow() - timedelta(hours=1)))
    await db.commit()
    since = (utcnow() - timedelta(seconds=1)).isoformat()
    await door.scan(main, first["tickets"][1]["code"])
    await client.delete(f"/api/v1/bookings/{second['id']}", headers=second["headers"])

    changed = await client.get(
        f"{LISTS}/{main}/tickets", headers=key, params={"changed_since": since}
    )

    assert [t["code"] for t in everything["items"]] == [
        *(t["code"] for t in first["tickets"]),
        second["tickets"][0]["code"],
    ]
    assert {t["status"] for t in everything["items"]} == {"confirmed"}
    assert changed.status_code == 200
    assert "no-store" in changed.headers["cache-control"]
    assert {(t["code"], t["status"], t["inside"]) for t in changed.json()["items"]} == {
        # The whole party changed: its booking now has a first entry.
        (first["tickets"][0]["code"], "confirmed", False),
        (first["tickets"][1]["code"], "confirmed", True),
        (second["tickets"][0]["code"], "cancelled", False),
    }


async def test_the_check_in_of_spec_4_scans_on_the_first_list(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    door = await Door.open(client, db, settings)
    party = await door.book(seats=2)
    check_in = f"/api/v1/events/{door.event.id}/check-in"

    checked = await client.post(
        check_in, headers=door.owner, json={"ticket_code": party["ticket_code"]}
    )
    again = await client.post(
        check_in, headers=door.owner, json={"ticket_code": party["ticket_code"]}
    )
    unknown = await client.post(check_in, headers=door.owner, json={"ticket_code": "NOSUCHCODE"})

    assert checked.status_code == 200
    assert checked.json()["checked_in_at"] is not None
    assert (again.status_code, again.json()["code"]) == (409, "already_checked_in")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "not_found")
    assert await door.counts(await door.main_entrance()) == {
        "tickets": 2,
        "checked_in": 2,
        "inside": 2,
    }


async def test_an_event_keeps_at_least_one_list(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    door = await Door.open(client, db, settings)
    main = await door.main_entrance()
    side = (await door.add_list())["id"]
    code = (await door.book())["tickets"][0]["code"]
    await door.scan(side, code)

    removed = await client.delete(f"{LISTS}/{side}", headers=door.owner)
    last = await client.delete(f"{LISTS}/{main}", headers=door.owner)

    assert removed.status_code == 204
    assert (last.status_code, last.json()["code"]) == (409, "last_check_in_list")
    assert [item["id"] for item in await door.lists()] == [main]


async def test_editing_a_list_changes_what_it_admits(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    door = await Door.open(client, db, settings)
    vip = await make_ticket_type(db, door.event, name="VIP")
    side = (await door.add_list())["id"]

    edited = await client.patch(
        f"{LISTS}/{side}",
        headers=door.owner,
        json={"name": "VIP gate", "ticket_type_ids": [vip.id], "allow_reentry": False},
    )
    stranger_type = await client.patch(
        f"{LISTS}/{side}", headers=door.owner, json={"ticket_type_ids": [vip.id + 1000]}
    )

    assert edited.status_code == 200, edited.text
    assert (edited.json()["name"], edited.json()["ticket_type_ids"]) == ("VIP gate", [vip.id])
    assert edited.json()["allow_reentry"] is False
    assert stranger_type.status_code == 422


async def test_a_ticket_type_a_list_names_cannot_be_deleted(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    door = await Door.open(client, db, settings)
    vip = await make_ticket_type(db, door.event, name="VIP")
    await door.add_list(name="VIP gate", ticket_type_ids=[vip.id])

    refused = await client.delete(
        f"/api/v1/events/{door.event.id}/ticket-types/{vip.id}", headers=door.owner
    )

    assert (refused.status_code, refused.json()["code"]) == (409, "ticket_type_in_use")


async def test_arrivals_come_per_ten_minutes_of_the_scanners_clocks_with_quiet_ones_as_zero(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    door = await Door.open(client, db, settings)
    party, single = await door.book(seats=3), await door.book()
    main = await door.main_entrance()
    start = (utcnow() - timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)

    def at(minutes: int) -> str:
        return (start + timedelta(minutes=minutes)).isoformat()

    await client.post(
        f"{LISTS}/{main}/scans/batch",
        headers=door.owner,
        json={
            "scans": [
                {"code": party["ticket_code"], "scanned_at": at(1)},
                {"code": single["ticket_code"], "scanned_at": at(34)},
                {"code": single["ticket_code"], "scanned_at": at(35)},  # refused: not counted
                {"code": single["ticket_code"], "scanned_at": at(36), "direction": "exit"},
            ]
        },
    )

    arrivals = await client.get(f"{LISTS}/{main}/arrivals", headers=door.owner)
    chart = await client.get(f"{LISTS}/{main}/arrivals.svg", headers=door.owner)

    assert [(a["starts_at"], a["seats"]) for a in arrivals.json()["items"]] == [
        (at(0).replace("+00:00", "Z"), 3),
        (at(10).replace("+00:00", "Z"), 0),
        (at(20).replace("+00:00", "Z"), 0),
        (at(30).replace("+00:00", "Z"), 1),
    ]
    assert chart.headers["content-type"] == "image/svg+xml"
    assert "Arrivals through Main entrance, per 10 minutes" in chart.text


async def test_a_list_for_some_types_downloads_only_their_tickets_and_itself(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    door = await Door.open(client, db, settings)
    vip = await make_ticket_type(db, door.event, name="VIP")
    gate = await door.add_list(name="VIP gate", ticket_type_ids=[vip.id])
    await door.book()
    guest = await door.book(lines=[{"ticket_type_id": vip.id, "quantity": 1}])
    key = await door.scanner_key(gate["id"])

    download = (await client.get(f"{LISTS}/{gate['id']}/tickets", headers=key)).json()

    assert [t["code"] for t in download["items"]] == [guest["tickets"][0]["code"]]
    shown = download["check_in_list"]
    assert (shown["id"], shown["name"], shown["ticket_type_ids"]) == (
        gate["id"],
        "VIP gate",
        [vip.id],
    )
    assert shown["counts"] == {"tickets": 1, "checked_in": 0, "inside": 0}


async def test_whoever_is_inside_may_leave_after_their_booking_or_event_is_cancelled(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    door = await Door.open(client, db, settings)
    first, second = await door.book(), await door.book()
    main = await door.main_entrance()
    for booking in (first, second):
        await door.scan(main, booking["ticket_code"])
    await client.delete(f"/api/v1/bookings/{first['id']}", headers=first["headers"])
    out = (await door.scan(main, first["ticket_code"], direction="exit")).json()
    await client.post(f"/api/v1/events/{door.event.id}/cancel", headers=door.owner)

    last_out = (await door.scan(main, second["ticket_code"], direction="exit")).json()
    back_in = (await door.scan(main, second["ticket_code"])).json()

    assert (out["result"], out["seats"]) == ("ok", 1)
    assert (last_out["result"], last_out["seats"]) == ("ok", 1)
    assert (back_in["result"], back_in["reason"]) == ("refused", "event_cancelled")
    assert (await door.counts(main))["inside"] == 0


async def test_nonces_that_differ_only_in_case_or_trailing_space_are_different_scans(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """MariaDB's default collation takes "abc" for "ABC" and "n1" for "n1 "; a scanner does
    not."""
    door = await Door.open(client, db, settings)
    codes = [ticket["code"] for ticket in (await door.book(seats=4))["tickets"]]
    main = await door.main_entrance()

    answers = [
        (await door.scan(main, code, nonce=nonce)).json()
        for code, nonce in zip(codes, ["abc", "ABC", "n1", "n1 "], strict=True)
    ]

    assert [a["result"] for a in answers] == ["ok"] * 4
    assert len({a["id"] for a in answers}) == 4
    assert [a["nonce"] for a in answers] == ["abc", "ABC", "n1", "n1 "]


async def test_a_code_that_grows_when_written_in_capitals_is_an_unknown_ticket(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    door = await Door.open(client, db, settings)
    main = await door.main_entrance()

    answers = [await door.scan(main, code) for code in ("ß" * 64, "ﬃ" * 30)]
    check_in = await client.post(
        f"/api/v1/events/{door.event.id}/check-in",
        headers=door.owner,
        json={"ticket_code": "ß" * 32},
    )

    assert [(a.status_code, a.json()["reason"]) for a in answers] == [(201, "unknown_ticket")] * 2
    assert len(answers[0].json()["code"]) == 64
    assert (check_in.status_code, check_in.json()["code"]) == (404, "not_found")


async def test_a_scan_from_a_clock_running_ahead_is_dated_when_it_arrived(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    door = await Door.open(client, db, settings)
    code = (await door.book())["tickets"][0]["code"]
    main = await door.main_entrance()
    before = utcnow()

    answer = (await door.scan(main, code, scanned_at="2999-01-01T00:00:00Z")).json()

    assert before <= datetime.fromisoformat(answer["scanned_at"]) <= utcnow()


async def test_two_lists_deleted_at_once_leave_the_event_one(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    door = await Door.open(client, db, settings)
    lists = [await door.main_entrance(), (await door.add_list())["id"]]

    answers = await asyncio.gather(
        *(client.delete(f"{LISTS}/{list_id}", headers=door.owner) for list_id in lists)
    )

    assert sorted(a.status_code for a in answers) == [204, 409]
    assert len(await door.lists()) == 1


async def test_a_revoked_key_scans_no_more_and_a_deleted_list_is_gone_for_a_scan(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    door = await Door.open(client, db, settings)
    code = (await door.book())["tickets"][0]["code"]
    side = (await door.add_list())["id"]
    key = await door.scanner_key(side)

    racing = await asyncio.gather(
        door.scan(side, code, headers=key),
        client.delete(f"{LISTS}/{side}/scanner-keys", headers=door.owner),
    )
    after = await door.scan(side, code, headers=door.owner, direction="exit")
    await client.delete(f"{LISTS}/{side}", headers=door.owner)
    gone = await door.scan(side, code)

    # The scan came first and counted, or came second and was refused: never a 5xx.
    assert racing[0].status_code in (201, 401)
    assert racing[1].status_code == 204
    assert after.json()["seats"] == (1 if racing[0].status_code == 201 else 0)
    assert (gone.status_code, gone.json()["code"]) == (404, "not_found")
