"""The door's rules at work: lists, scans judged one list at a time, offline batches in the
scanners' own order, the ticket download, scanner keys."""

import hashlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from boxoffice.bookings import seats
from boxoffice.bookings.errors import AlreadyCheckedIn, BookingNotConfirmed
from boxoffice.bookings.tickets import normalize
from boxoffice.catalogue import service as catalogue
from boxoffice.catalogue.models import check_in_list_ticket_types
from boxoffice.db import utcnow
from boxoffice.door import repository
from boxoffice.door.arrivals import chart, per_bucket
from boxoffice.door.errors import LastCheckInList
from boxoffice.door.judge import Door, DoorTicket, Verdict, Whereabouts, judge
from boxoffice.door.models import (
    MAIN_ENTRANCE,
    CheckInList,
    Direction,
    Presence,
    RefusalReason,
    Scan,
    ScannerKey,
    ScanResult,
)
from boxoffice.door.schemas import (
    CheckInListCreate,
    CheckInListRead,
    Counts,
    DoorTickets,
    ScannedTicket,
    ScannerKeyCreated,
    ScanRead,
    ScanRequest,
    TicketAtDoor,
)
from boxoffice.errors import InvalidToken, NotFound
from boxoffice.events.models import Event, EventStatus
from boxoffice.keys import SCANNER_KEY, USE_PRECISION, key_hash
from boxoffice.webhooks import outbox as hooks
from boxoffice.webhooks.models import WebhookEventType as Hook

# A download's `as_of` lies this far back: a transaction that began before it may commit after
# it, and what it changed must still come with the next download.
DOWNLOAD_OVERLAP = timedelta(minutes=1)
# A scan's code as stored (scans.code): upper-casing can lengthen what was typed ("ß" is "SS").
MAX_CODE = 64


@dataclass(frozen=True, slots=True)
class Scanner:
    """Who scans: a signed-in organizer or admin, or a scanner key."""

    user_id: int | None = None
    key_id: int | None = None


def add_main_entrance(session: AsyncSession, event_id: int) -> None:
    session.add(CheckInList(event_id=event_id, name=MAIN_ENTRANCE, allow_reentry=True))


async def lists_of(session: AsyncSession, event: Event) -> list[CheckInListRead]:
    found = await session.scalars(_lists().where(CheckInList.event_id == event.id))
    return await _read(session, list(found))


async def get_list(session: AsyncSession, list_id: int) -> CheckInList:
    found = (await session.scalars(_lists().where(CheckInList.id == list_id))).one_or_none()
    if found is None:
        raise NotFound(f"there is no check-in list {list_id}")
    return found


async def first_list(session: AsyncSession, event_id: int) -> CheckInList:
    """The event's oldest list, where the check-in of SPEC §4 scans."""
    return (await session.scalars(_lists().where(CheckInList.event_id == event_id).limit(1))).one()


async def read_list(session: AsyncSession, door: CheckInList) -> CheckInListRead:
    (read,) = await _read(session, [door])
    return read


async def create_list(
    session: AsyncSession, event: Event, data: CheckInListCreate
) -> CheckInListRead:
    # The event's lock, as for a change of its ticket types: a type being deleted is not named.
    await seats.lock_event(session, event.id)
    door = CheckInList(event_id=event.id, name=data.name, allow_reentry=data.allow_reentry)
    session.add(door)
    await session.flush()
    await _admit_types(session, door.id, event.id, data.ticket_type_ids)
    return await read_list(session, await get_list(session, door.id))


async def edit_list(
    session: AsyncSession, door: CheckInList, changes: dict[str, object]
) -> CheckInListRead:
    """Changes the list between two scans: a scan judges by the rules it finds under the
    list's lock."""
    await seats.lock_event(session, door.event_id)
    await _locked(session, door.id)
    type_ids = changes.pop("ticket_type_ids", None)
    if changes:
        await session.execute(
            update(CheckInList).where(CheckInList.id == door.id).values(**changes)
        )
    if isinstance(type_ids, list):
        await session.execute(
            delete(check_in_list_ticket_types).where(
                check_in_list_ticket_types.c.check_in_list_id == door.id
            )
        )
        await _admit_types(session, door.id, door.event_id, type_ids)
    return await read_list(session, await _fresh(session, door.id))


async def delete_list(session: AsyncSession, door: CheckInList) -> None:
    """Removes the list with its scans, where-abouts and keys (they go with it: ON DELETE
    CASCADE); an event keeps at least one list. The event's lock makes two deletes at once
    count each other out; the list's waits for a scan on it to finish."""
    await seats.lock_event(session, door.event_id)
    await _locked(session, door.id)
    others = await session.scalar(
        select(CheckInList.id)
        .where(CheckInList.event_id == door.event_id, CheckInList.id != door.id)
        .limit(1)
    )
    if others is None:
        raise LastCheckInList("an event keeps at least one check-in list: add another first")
    await session.execute(delete(CheckInList).where(CheckInList.id == door.id))


async def scan(
    session: AsyncSession, door: CheckInList, scanner: Scanner, request: ScanRequest
) -> ScanRead:
    (answer,) = await scan_batch(session, door, scanner, [request])
    return answer


async def scan_batch(
    session: AsyncSession, door: CheckInList, scanner: Scanner, requests: Sequence[ScanRequest]
) -> list[ScanRead]:
    """Judges the scans in the order they were scanned (their `scanned_at`, then as sent),
    under the list's lock, by the list's rules as they are then; the answers in the order
    sent. A scan whose nonce this list has seen gets that scan's answer and records nothing."""
    door = await _locked(session, door.id)
    if scanner.key_id is not None:
        await _key_in_force(session, scanner.key_id)
    now = utcnow()
    asked = [Asked.of(request, now) for request in requests]
    named = await repository.tickets_by_code(
        session, door.event_id, {scan.code for scan in asked if len(scan.code) <= MAX_CODE}
    )
    tickets = {ticket.id: ticket for found in named.values() for ticket in found}
    stored = await repository.presence_of(session, door.id, tickets)
    where = {ticket_id: Whereabouts() for ticket_id in tickets} | {
        ticket_id: Whereabouts(presence.inside, presence.entries)
        for ticket_id, presence in stored.items()
    }
    answered = await _scans_by_digest(session, door.id, asked)
    rules = await _rules_of(session, door)
    made: dict[int, Scan] = {}
    moved: set[int] = set()
    entered: dict[int, datetime] = {}
    for i in sorted(range(len(asked)), key=lambda i: (asked[i].scanned_at, i)):
        scan = asked[i]
        if scan.digest is not None and scan.digest in answered:
            continue
        verdict = judge(rules, named.get(scan.code, []), where, scan.direction, force=scan.force)
        moved.update(ticket.id for ticket in verdict.moved)
        if scan.direction is Direction.ENTRY:
            for ticket in verdict.moved:
                entered.setdefault(ticket.id, scan.scanned_at)
        made[i] = _scan_of(door.id, scanner, scan, named.get(scan.code, []), verdict, now)
        if scan.digest is not None:
            answered[scan.digest] = made[i]
    session.add_all(made.values())
    _store_whereabouts(session, door.id, {i: where[i] for i in moved}, stored, now)
    first_time = [tickets[i] for i in entered if tickets[i].checked_in_at is None]
    await _mark_checked_in(session, first_time, entered, now)
    await session.flush()
    tickets |= await repository.tickets_by_id(
        session, {s.ticket_id for s in answered.values() if s.ticket_id not in tickets}
    )
    answers = [
        _read_scan(made[i] if i in made else answered[str(scan.digest)], tickets)
        for i, scan in enumerate(asked)
    ]
    await _tell_webhooks(session, door.event_id, [answers[i] for i in sorted(made)])
    return answers


async def _tell_webhooks(session: AsyncSession, event_id: int, scans: list[ScanRead]) -> None:
    """`checkin.created` for each scan recorded now that let someone in."""
    admitted = [
        scan for scan in scans if scan.result is ScanResult.OK and scan.direction is Direction.ENTRY
    ]
    if not admitted:
        return
    event = await hooks.event_of(session, event_id)
    if event is None or not hooks.wanted(event):
        return
    for scan in admitted:
        await hooks.write(session, event, Hook.CHECKIN_CREATED, scan)


@dataclass(frozen=True, slots=True)
class Asked:
    """A scan as it is judged: its code as a ticket's is written, a time no later than now (a
    phone whose clock runs ahead does not date arrivals in the future) and its nonce's digest."""

    code: str
    direction: Direction
    force: bool
    scanned_at: datetime
    nonce: str | None
    digest: str | None

    @classmethod
    def of(cls, request: ScanRequest, now: datetime) -> "Asked":
        nonce = request.nonce
        return cls(
            code=normalize(request.code),
            direction=request.direction,
            force=request.force,
            scanned_at=min(request.scanned_at or now, now),
            nonce=nonce,
            digest=hashlib.sha256(nonce.encode()).hexdigest() if nonce is not None else None,
        )


async def _locked(session: AsyncSession, list_id: int) -> CheckInList:
    """Takes the list's row lock; the list as it is now, or 404 if it was deleted meanwhile."""
    if not await repository.LOCK_LIST(session, list_id=list_id):
        raise NotFound(f"there is no check-in list {list_id}")
    return await _fresh(session, list_id)


async def _fresh(session: AsyncSession, list_id: int) -> CheckInList:
    found = await session.scalars(
        _lists().where(CheckInList.id == list_id).execution_options(populate_existing=True)
    )
    return found.one()


async def _key_in_force(session: AsyncSession, key_id: int) -> None:
    """Refuses a key revoked while its scan waited for the list (a revoke takes the list's
    lock too), and notes its use at most once a minute."""
    last_used = (
        await session.execute(select(ScannerKey.last_used_at).where(ScannerKey.id == key_id))
    ).one_or_none()
    if last_used is None:
        raise InvalidToken("this scanner key was revoked")
    now = utcnow()
    if last_used.last_used_at is None or last_used.last_used_at < now - USE_PRECISION:
        await session.execute(
            update(ScannerKey).where(ScannerKey.id == key_id).values(last_used_at=now)
        )


async def _rules_of(session: AsyncSession, door: CheckInList) -> Door:
    status = await session.scalar(select(Event.status).where(Event.id == door.event_id))
    return Door(
        admits_types=frozenset(kind.id for kind in door.ticket_types),
        allow_reentry=door.allow_reentry,
        event_cancelled=status is EventStatus.CANCELLED,
    )


async def _scans_by_digest(
    session: AsyncSession, list_id: int, asked: Sequence[Asked]
) -> dict[str, Scan]:
    digests = {scan.digest for scan in asked if scan.digest is not None}
    if not digests:
        return {}
    found = await session.scalars(
        select(Scan).where(Scan.check_in_list_id == list_id, Scan.nonce_digest.in_(digests))
    )
    return {str(scan.nonce_digest): scan for scan in found}


def _scan_of(
    list_id: int,
    scanner: Scanner,
    scan: Asked,
    named: list[DoorTicket],
    verdict: Verdict,
    now: datetime,
) -> Scan:
    # A ticket's own code names that ticket; a booking's code names the party.
    single = named[0] if len(named) == 1 and named[0].code == scan.code else None
    return Scan(
        check_in_list_id=list_id,
        # What was read, as far as it fits: a code that long names no ticket anyway.
        code=scan.code[:MAX_CODE],
        ticket_id=single.id if single else None,
        booking_id=named[0].booking_id if named else None,
        direction=scan.direction,
        result=ScanResult.REFUSED if verdict.reason else ScanResult.OK,
        reason=verdict.reason,
        seats=len(verdict.moved),
        forced=verdict.forced,
        nonce=scan.nonce,
        nonce_digest=scan.digest,
        scanned_at=scan.scanned_at,
        recorded_at=now,
        user_id=scanner.user_id,
        scanner_key_id=scanner.key_id,
    )


def _store_whereabouts(
    session: AsyncSession,
    list_id: int,
    changed: dict[int, Whereabouts],
    stored: dict[int, Presence],
    now: datetime,
) -> None:
    for ticket_id, where in changed.items():
        presence = stored.get(ticket_id)
        if presence is None:
            session.add(
                Presence(
                    check_in_list_id=list_id,
                    ticket_id=ticket_id,
                    inside=where.inside,
                    entries=where.entries,
                    changed_at=now,
                )
            )
        else:
            presence.inside, presence.entries, presence.changed_at = (
                where.inside,
                where.entries,
                now,
            )


async def _mark_checked_in(
    session: AsyncSession,
    tickets: list[DoorTicket],
    first_entry: dict[int, datetime],
    now: datetime,
) -> None:
    """A ticket's and its booking's first entry through any list, kept once. Rows are written
    in id order: batches at two lists that share bookings then lock them in the same order."""
    if not tickets:
        return
    await session.execute(
        repository.FIRST_ENTRY_OF_TICKET,
        [
            {"ticket": ticket.id, "at": first_entry[ticket.id]}
            for ticket in sorted(tickets, key=lambda ticket: ticket.id)
        ],
    )
    first_of_booking: dict[int, datetime] = {}
    for ticket in tickets:
        at = first_entry[ticket.id]
        first_of_booking[ticket.booking_id] = min(first_of_booking.get(ticket.booking_id, at), at)
    await session.execute(
        repository.FIRST_ENTRY_OF_BOOKING,
        [
            {"booking": booking, "at": at, "now": now}
            for booking, at in sorted(first_of_booking.items())
        ],
    )


def _read_scan(scan: Scan, tickets: dict[int, DoorTicket]) -> ScanRead:
    ticket = tickets.get(scan.ticket_id) if scan.ticket_id is not None else None
    stored = {name: getattr(scan, name) for name in ScanRead.model_fields if name != "ticket"}
    return ScanRead.model_validate(stored | {"ticket": _scanned(ticket) if ticket else None})


def _scanned(ticket: DoorTicket) -> ScannedTicket:
    # What does not change, so that a scan sent again gets the very answer it got first.
    return ScannedTicket.model_validate(asdict(ticket))


def _at_door(ticket: DoorTicket, where: Whereabouts) -> TicketAtDoor:
    return TicketAtDoor.model_validate(asdict(ticket) | {"inside": where.inside})


async def tickets_for_scanners(
    session: AsyncSession, door: CheckInList, changed_since: datetime | None
) -> DoorTickets:
    """Every ticket the list admits with its status and whether it is inside through this list,
    or only those changed since `changed_since`, and the list itself: what a scanner needs to
    judge offline."""
    as_of = utcnow() - DOWNLOAD_OVERLAP
    rows = await session.execute(repository.door_tickets(door, changed_since))
    items = [_at_door(DoorTicket(*row[:-1]), Whereabouts(inside=bool(row.inside))) for row in rows]
    return DoorTickets(check_in_list=await read_list(session, door), items=items, as_of=as_of)


async def arrivals(session: AsyncSession, door: CheckInList) -> list[tuple[datetime, int]]:
    """Seats let in through the list per ten minutes of the scanners' clocks."""
    entries = await session.execute(
        select(Scan.scanned_at, Scan.seats).where(
            Scan.check_in_list_id == door.id,
            Scan.direction == Direction.ENTRY,
            Scan.result == ScanResult.OK,
        )
    )
    return per_bucket([(at, seats) for at, seats in entries])


async def arrivals_chart(session: AsyncSession, door: CheckInList) -> str:
    timezone = await session.scalar(select(Event.timezone).where(Event.id == door.event_id))
    return chart(door.name, await arrivals(session, door), timezone or "UTC")


async def add_scanner_key(session: AsyncSession, door: CheckInList, name: str) -> ScannerKeyCreated:
    key = SCANNER_KEY.new()
    made = ScannerKey(check_in_list_id=door.id, name=name, key_hash=key_hash(key))
    session.add(made)
    await session.flush()
    return ScannerKeyCreated(
        id=made.id, name=made.name, created_at=made.created_at, last_used_at=None, key=key
    )


async def scanner_keys(session: AsyncSession, door: CheckInList) -> list[ScannerKey]:
    found = await session.scalars(
        select(ScannerKey).where(ScannerKey.check_in_list_id == door.id).order_by(ScannerKey.id)
    )
    return list(found)


async def revoke_scanner_keys(
    session: AsyncSession, door: CheckInList, key_id: int | None = None
) -> None:
    """Revokes one key of the list, or all of them: the next scan with it is refused, and so is
    one that waits for the list's lock with it now."""
    await _locked(session, door.id)
    query = delete(ScannerKey).where(ScannerKey.check_in_list_id == door.id)
    if key_id is not None:
        gone = await session.execute(query.where(ScannerKey.id == key_id))
        if not gone.rowcount:  # type: ignore[attr-defined]
            raise NotFound(f"the list has no scanner key {key_id}")
        return
    await session.execute(query)


async def revoke_keys_of_organizer(session: AsyncSession, organizer_id: int) -> None:
    """Revokes every scanner key of the lists of someone's events (their account is erased),
    each list under its lock, in id order, as revoking a list's keys does."""
    lists = await session.scalars(
        select(CheckInList.id)
        .join(Event, Event.id == CheckInList.event_id)
        .where(
            Event.organizer_id == organizer_id,
            CheckInList.id.in_(select(ScannerKey.check_in_list_id)),
        )
        .order_by(CheckInList.id)
    )
    for list_id in lists.all():
        await repository.LOCK_LIST(session, list_id=list_id)
        await session.execute(delete(ScannerKey).where(ScannerKey.check_in_list_id == list_id))


async def scanner_key_list(session: AsyncSession, key: str) -> tuple[int, int] | None:
    """The (key id, list id) of a scanner key in force; None for any other key."""
    found = (
        await session.execute(
            select(ScannerKey.id, ScannerKey.check_in_list_id).where(
                ScannerKey.key_hash == key_hash(key)
            )
        )
    ).one_or_none()
    return None if found is None else (found.id, found.check_in_list_id)


async def check_in_party(session: AsyncSession, event_id: int, code: str, scanner: Scanner) -> int:
    """SPEC §4's check-in: an entry scan on the event's first list that must let someone in;
    the booking's id."""
    door = await first_list(session, event_id)
    answer = await scan(session, door, scanner, ScanRequest(code=code))
    if answer.booking_id is None:
        raise NotFound("no booking of this event has that ticket code")
    if answer.reason is RefusalReason.ALREADY_INSIDE:
        raise AlreadyCheckedIn("this ticket has already been checked in")
    if answer.reason is not None:
        raise BookingNotConfirmed(f"this ticket does not admit anyone here: {answer.reason.value}")
    return answer.booking_id


def _lists() -> Select[CheckInList]:
    return (
        select(CheckInList).options(selectinload(CheckInList.ticket_types)).order_by(CheckInList.id)
    )


async def _read(session: AsyncSession, lists: list[CheckInList]) -> list[CheckInListRead]:
    counts = await repository.counts(session, lists)
    return [
        CheckInListRead(
            id=door.id,
            event_id=door.event_id,
            name=door.name,
            ticket_type_ids=[kind.id for kind in door.ticket_types],
            allow_reentry=door.allow_reentry,
            counts=Counts(
                tickets=counts[door.id][0], checked_in=counts[door.id][1], inside=counts[door.id][2]
            ),
            created_at=door.created_at,
        )
        for door in lists
    ]


async def _admit_types(
    session: AsyncSession, list_id: int, event_id: int, type_ids: Sequence[int]
) -> None:
    if not type_ids:
        return
    await catalogue.check_types(session, event_id, type_ids)
    await session.execute(
        insert(check_in_list_ticket_types),
        [{"check_in_list_id": list_id, "ticket_type_id": type_id} for type_id in type_ids],
    )
