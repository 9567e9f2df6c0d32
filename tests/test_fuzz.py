"""Schema-driven fuzzing: every operation in the app's own /openapi.json keeps the API's contract.

Schemathesis generates valid and invalid requests for each operation the document lists when the
test runs, so routes added later are fuzzed without touching this file. Operations behind auth are
fuzzed anonymously and as an attendee, an organizer and an admin. Every response must be
documented (status code, content type, headers, body schema), none may be a 5xx, and every error
is problem+json with a snake_case `code` (SPEC §2).

Schemathesis' own ASGI transport would run the app on an event loop of its own, away from the
connection pool that lives on the test session's loop. So the test is synchronous, Hypothesis
drives it, and each generated case is sent by httpx on the session loop (idle while a synchronous
test runs), byte for byte as schemathesis serialized it.

Random ids almost never name a row, so most valid requests would stop at 404. Instead, most
schema-valid cases get real ids: a fresh published event for an `event_id` (path or body), a
fresh booking of the attendee for a `booking_id` (and its event and ticket code for a check-in), a
fresh user for a `user_id`, a second check-in list of an event with a booking (and a scanner key
of it, and that booking's code to scan) for a `list_id`. So booking, cancelling, publishing,
checking in, scanning and banning reach their success paths, and the test asserts that they did.

BOXOFFICE_FUZZ_EXAMPLES=200 (examples per operation) makes a deeper run.
"""

import asyncio
import os
import re
from dataclasses import dataclass, field
from secrets import token_hex
from typing import Any, TypeAlias

import httpx
import pytest
import requests
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.apikeys.models import ApiKey
from boxoffice.auth.models import TOKEN_VALIDITY, AccountToken, TokenPurpose
from boxoffice.auth.tokens import (
    account_token,
    account_token_hash,
    new_seed,
    unsubscribe_token,
)
from boxoffice.db import utcnow
from boxoffice.door.models import CheckInList, ScannerKey
from boxoffice.events.models import Event, EventStatus
from boxoffice.settings import Settings
from boxoffice.users.models import Role, User
from boxoffice.webhooks.models import Webhook, WebhookDelivery, WebhookMessage
from boxoffice.webhooks.service import new_secret
from tests.factories import auth_headers, make_event, make_quota, make_ticket_type, make_user

# Schemathesis parametrises operations by its internal adapter types; none of them is used here.
Operation: TypeAlias = schemathesis.APIOperation[Any, Any, Any, Any]
Case: TypeAlias = schemathesis.Case[Operation]

# Shared by the identities an operation is fuzzed as: 6 each for one behind auth. Kept low so
# that the file runs in well under a minute on three engines; raise it for a deeper run.
EXAMPLES_PER_OPERATION = int(os.environ.get("BOXOFFICE_FUZZ_EXAMPLES", "24"))
ANONYMOUS = "anonymous"
SIGNED_IN = tuple(role.value for role in Role)
BASE_URL = "http://testserver"
PROBLEM_JSON = "application/problem+json"
PROBLEM_FIELDS = ("type", "title", "status", "detail", "code")
SNAKE_CASE = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")
# What schemathesis' serializers hand to `requests`, whose PreparedRequest has the exact bytes.
_REQUEST_ARGUMENTS = ("method", "url", "headers", "params", "cookies", "data", "json", "files")


def problem_details(
    ctx: schemathesis.CheckContext,  # noqa: ARG001 - schemathesis calls checks with all three
    response: schemathesis.Response,
    case: Case,  # noqa: ARG001
) -> None:
    """Every 4xx and 5xx is an RFC 9457 problem with a stable snake_case code (SPEC §2)."""
    status = response.status_code
    if status < 400:
        return
    content_type = response.headers.get("content-type", [""])[0]
    assert content_type.split(";")[0].strip() == PROBLEM_JSON, (
        f"{status} answered as {content_type!r}, not {PROBLEM_JSON}"
    )
    body = response.json()
    assert isinstance(body, dict), f"{status} problem is not a JSON object: {body!r}"
    missing = [name for name in PROBLEM_FIELDS if name not in body]
    assert not missing, f"{status} problem lacks {missing}: {body!r}"
    assert body["status"] == status, f"problem says status {body['status']!r} on a {status}"
    for name in ("type", "title", "detail"):
        assert isinstance(body[name], str), f"problem {name} is not a string: {body!r}"
    code = body["code"]
    assert isinstance(code, str), f"problem code is not a string: {body!r}"
    assert SNAKE_CASE.fullmatch(code), f"problem code {code!r} is not snake_case"
    if status == 422:
        errors = body.get("errors")
        assert isinstance(errors, list), f"422 problem without an 'errors' list: {body!r}"
        for error in errors:
            assert isinstance(error, dict), f"422 error entry is not an object: {body!r}"
            assert isinstance(error.get("loc"), list), f"422 error entry without loc: {body!r}"
            assert isinstance(error.get("msg"), str), f"422 error entry without msg: {body!r}"
    if status == 401:
        challenge = response.headers.get("www-authenticate", [""])[0]
        assert challenge.startswith("Bearer"), f"401 without 'WWW-Authenticate: Bearer': {body!r}"


# Operations whose request schema is looser than what they accept, so that schema-valid data may
# rightly be refused with a 400 or 422. Every other operation's schema is exact.
LOOSER_THAN_THE_RULES = {
    "POST /api/v1/auth/register": "a full name of blanks is refused",
    "PATCH /api/v1/users/me": "a full name of blanks is refused",
    "POST /api/v1/users/me/password": "a wrong current password is a 400 invalid_credentials",
    # Which also keeps the fuzzed identities alive: no generated password is theirs.
    "DELETE /api/v1/users/me": "a wrong password is a 400 invalid_credentials",
    "GET /api/v1/events": "status filters only together with mine=true",
    "POST /api/v1/events": "blank texts, unknown time zones, past or reversed times are refused",
    "PATCH /api/v1/events/{event_id}": "blank texts, unknown time zones, past or reversed times",
    "POST /api/v1/events/{event_id}/ticket-types": "blank names, prices finer than the currency, "
    "a minimum above the maximum, reversed sale windows",
    "PATCH /api/v1/events/{event_id}/ticket-types/{type_id}": "the same, and null for a field "
    "that cannot be cleared",
    "POST /api/v1/events/{event_id}/quotas": "blank names, ticket types of another event",
    "POST /api/v1/bookings/{booking_id}/payments": "an Idempotency-Key used before for another "
    "booking or provider is a 422 idempotency_key_reused",
    "PATCH /api/v1/events/{event_id}/quotas/{quota_id}": "blank names, null fields, ticket types "
    "of another event",
    "POST /api/v1/events/{event_id}/check-in-lists": "blank names, ticket types of another event",
    "PATCH /api/v1/check-in-lists/{list_id}": "blank names, null fields, ticket types of another "
    "event",
    "POST /api/v1/check-in-lists/{list_id}/scanner-keys": "blank names",
    "POST /api/v1/users/me/api-keys": "blank names, an expiry in the past",
    "POST /api/v1/auth/verify-email": "a token not issued, used or expired is a 400 invalid_token",
    "POST /api/v1/auth/password-reset": "a token not issued, used or expired is a 400 "
    "invalid_token",
    "POST /api/v1/webhooks": "a URL that is not http(s) or names no public address is a 422 "
    "webhook_url_not_allowed",
    "PATCH /api/v1/webhooks/{webhook_id}": "the same",
}
# The one-time token each of these takes, seeded as a live one (SPEC §13).
TOKEN_PURPOSES = {
    "POST /api/v1/auth/verify-email": TokenPurpose.VERIFY_EMAIL,
    "POST /api/v1/auth/password-reset": TokenPurpose.PASSWORD_RESET,
}
# The one-click unsubscribe link's path: its token needs no row, only a user, seeded as a real one.
UNSUBSCRIBE = "/api/v1/users/unsubscribe"


def positive_data_accepted_where_exact(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: Case
) -> bool | None:
    """Schema-valid data is never refused as malformed (400, 422) where the schema is exact."""
    if case.operation.label in LOOSER_THAN_THE_RULES:
        return None
    result: bool | None = positive_data_acceptance(ctx, response, case)
    return result


CHECKS = [
    not_a_server_error,
    positive_data_accepted_where_exact,
    # Schema-invalid data is never accepted (2xx), on every operation.
    negative_data_rejection,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    problem_details,
]


@dataclass(eq=False, repr=False)  # its repr would bury a failure under every case sent
class Fuzzer:
    app: FastAPI
    settings: Settings
    client: httpx.AsyncClient
    loop: asyncio.AbstractEventLoop
    document: dict[str, Any]
    users: dict[str, User]
    sessions: dict[str, dict[str, str]] = field(default_factory=dict)
    # The identity whose cases are being generated (a seeded API key must be its own).
    calling: str = ANONYMOUS
    # Evidence that the run went where it claims: the (operation, identity) pairs sent, the
    # identities that got a 2xx anywhere, and any 401 a signed-in identity met behind auth.
    exercised: set[tuple[str, str]] = field(default_factory=set)
    succeeded: set[str] = field(default_factory=set)
    locked_out: list[str] = field(default_factory=list)
    # Per operation, every status code it answered with.
    answered: dict[str, set[int]] = field(default_factory=dict)

    def identities(self, operation: Operation) -> tuple[str, ...]:
        security = operation.definition.raw.get("security", self.document.get("security"))
        # A route that declares no auth never reads a token: sending one would teach nothing.
        return (ANONYMOUS, *SIGNED_IN) if security else (ANONYMOUS,)

    def fuzz(self, operation: Operation, identity: str, examples: int) -> None:
        self.calling = identity
        cases = operation.as_strategy(schemathesis.GenerationMode.POSITIVE) | (
            operation.as_strategy(schemathesis.GenerationMode.NEGATIVE)
        )

        @settings(
            max_examples=examples,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.generate, Phase.shrink],
            # Slow or large generation is schemathesis' business; what the app answers is ours.
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(case=cases, seeded=st.sampled_from((True, True, True, False)))
        def run(case: Case, seeded: bool) -> None:
            if seeded and case.meta is not None and case.meta.generation.mode.is_positive:
                self.loop.run_until_complete(self.seed(case))
            self.call_and_validate(case, identity)

        run()

    def call_and_validate(self, case: Case, identity: str) -> None:
        response = self.loop.run_until_complete(self.send(case, identity))
        self.exercised.add((case.operation.label, identity))
        self.answered.setdefault(case.operation.label, set()).add(response.status_code)
        if response.is_success:
            self.succeeded.add(identity)
            if case.method.upper() != "GET":
                # A write may have ended a session or demoted or banned one of our users.
                self.sessions.clear()
        elif response.status_code == 401 and identity != ANONYMOUS:
            # Signed-in identities only call routes behind auth, with a live session.
            self.locked_out.append(f"{identity}: {case.operation.label}: {response.text}")
        case.validate_response(response, checks=CHECKS)

    async def send(self, case: Case, identity: str) -> httpx.Response:
        kwargs = case.as_transport_kwargs(base_url=BASE_URL, headers=await self.headers(identity))
        arguments = {name: kwargs[name] for name in _REQUEST_ARGUMENTS if name in kwargs}
        prepared = requests.Request(**arguments).prepare()
        assert prepared.method is not None
        assert prepared.url is not None
        body = prepared.body
        assert body is None or isinstance(body, bytes | str)
        headers = {
            name: value if isinstance(value, str) else value.decode("latin-1")
            for name, value in prepared.headers.items()
        }
        return await self.client.request(
            prepared.method, prepared.url, headers=headers, content=body
        )

    async def seed(self, case: Case) -> None:
        """Real ids in place of the generated ones, in a case that is otherwise as generated."""
        path = case.path_parameters or {}
        body = case.body if isinstance(case.body, dict) else {}
        if "key_id" in path and "list_id" not in path:
            # An API key of the caller's own (anonymous callers are refused before any lookup).
            if self.calling in self.users:
                path["key_id"] = await self.fresh_api_key(self.users[self.calling].id)
            return
        if "list_id" in path:
            await self.seed_door(path, body)
            return
        if "webhook_id" in path:
            path["webhook_id"], delivery_id = await self.fresh_webhook()
            if "delivery_id" in path:
                path["delivery_id"] = delivery_id
            return
        purpose = TOKEN_PURPOSES.get(case.operation.label)
        if purpose is not None and "token" in body:
            body["token"] = await self.fresh_account_token(purpose)
            return
        query = case.query or {}
        if case.operation.path == UNSUBSCRIBE and "token" in query:
            async with self.app.state.sessionmaker() as db:
                query["token"] = unsubscribe_token(self.settings, (await make_user(db)).id)
            return
        if "booking_id" in path or "ticket_code" in body:
            booking_id, event_id, ticket_code = await self.fresh_booking()
            if "booking_id" in path:
                path["booking_id"] = booking_id
            if "ticket_code" in body:
                body["ticket_code"] = ticket_code
            if "event_id" in path:
                path["event_id"] = event_id
            return
        if "event_id" in path:
            path["event_id"] = await self.fresh_event()
            if {"type_id", "quota_id"} & path.keys() or "ticket_type_ids" in body:
                type_id, quota_id = await self.fresh_catalogue(path["event_id"])
                if "type_id" in path:
                    path["type_id"] = type_id
                if "quota_id" in path:
                    path["quota_id"] = quota_id
                if isinstance(body.get("ticket_type_ids"), list):
                    body["ticket_type_ids"] = [type_id]
        if "event_id" in body:
            body["event_id"] = await self.fresh_event()
        if "user_id" in path:
            async with self.app.state.sessionmaker() as db:
                path["user_id"] = (await make_user(db)).id

    async def seed_door(self, path: dict[str, Any], body: dict[str, Any]) -> None:
        """A check-in list besides the Main entrance (so that it may be deleted) of an event with
        a confirmed booking, and a scanner key of the list; scans of the booking's code."""
        _, event_id, ticket_code = await self.fresh_booking()
        async with self.app.state.sessionmaker() as db:
            door = CheckInList(event_id=event_id, name="Side door", allow_reentry=True)
            db.add(door)
            await db.flush()
            key = ScannerKey(check_in_list_id=door.id, name="Phone", key_hash=token_hex(32))
            db.add(key)
            await db.commit()
            path["list_id"] = door.id
            if "key_id" in path:
                path["key_id"] = key.id
        scans = body.get("scans")
        for scan in [body, *(scans if isinstance(scans, list) else [])]:
            if isinstance(scan, dict) and "code" in scan:
                scan["code"] = ticket_code

    async def fresh_api_key(self, user_id: int) -> int:
        async with self.app.state.sessionmaker() as db:
            key = ApiKey(user_id=user_id, name="Script", key_hash=token_hex(32))
            db.add(key)
            await db.commit()
            return key.id

    async def fresh_account_token(self, purpose: TokenPurpose) -> str:
        """A live token of this purpose for a new user, as a link would carry it."""
        token = account_token(self.settings, new_seed())
        async with self.app.state.sessionmaker() as db:
            user = await make_user(db)
            db.add(
                AccountToken(
                    user_id=user.id,
                    purpose=purpose,
                    token_hash=account_token_hash(token),
                    created_at=utcnow(),
                    expires_at=utcnow() + TOKEN_VALIDITY[purpose],
                )
            )
            await db.commit()
        return token

    async def fresh_event(self) -> int:
        """A published event of the organizer identity, room for everybody, nobody booked."""
        async with self.app.state.sessionmaker() as db:
            organizer = self.users[Role.ORGANIZER.value]
            event = await make_event(db, organizer, capacity=100_000, status=EventStatus.PUBLISHED)
            return event.id

    async def fresh_webhook(self) -> tuple[int, int]:
        """A webhook of the organizer identity with one delivery attempt: their ids."""
        async with self.app.state.sessionmaker() as db:
            webhook = Webhook(
                owner_id=self.users[Role.ORGANIZER.value].id,
                organizer_id=self.users[Role.ORGANIZER.value].id,
                url="https://93.184.215.14/hook",
                events_mask=1,
                secret=new_secret(),
                enabled=True,
            )
            db.add(webhook)
            await db.flush()
            message = WebhookMessage(webhook_id=webhook.id, type="webhook.ping", body="{}")
            db.add(message)
            await db.flush()
            delivery = WebhookDelivery(
                webhook_id=webhook.id, message_id=message.id, status_code=500, duration_ms=1
            )
            db.add(delivery)
            await db.commit()
            return webhook.id, delivery.id

    async def fresh_catalogue(self, event_id: int) -> tuple[int, int]:
        """A second ticket type of the event, never booked, and a quota of it: their ids."""
        async with self.app.state.sessionmaker() as db:
            event = await db.get(Event, event_id)
            assert event is not None
            ticket_type = await make_ticket_type(db, event)
            return ticket_type.id, (await make_quota(db, event, 10, [ticket_type])).id

    async def fresh_booking(self) -> tuple[int, int, str]:
        """A confirmed booking of the attendee identity, made through the API: its id, its
        event's id and its ticket code."""
        event_id = await self.fresh_event()
        response = await self.client.post(
            "/api/v1/bookings",
            headers=await self.headers(Role.ATTENDEE.value),
            json={"event_id": event_id},
        )
        assert response.status_code == 201, response.text
        booking = response.json()
        return booking["id"], event_id, booking["ticket_code"]

    async def headers(self, identity: str) -> dict[str, str]:
        if identity == ANONYMOUS:
            return {}
        if identity not in self.sessions:
            # A new session, as the user was made, whatever an earlier case did to either.
            user = self.users[identity]
            async with self.app.state.sessionmaker() as db:
                await db.execute(
                    update(User).where(User.id == user.id).values(role=user.role, is_active=True)
                )
                self.sessions[identity] = await auth_headers(db, self.settings, user)
        return self.sessions[identity]


@pytest.fixture
async def fuzzer(
    app: FastAPI, settings: Settings, client: httpx.AsyncClient, db: AsyncSession
) -> Fuzzer:
    document = (await client.get("/openapi.json")).raise_for_status().json()
    users = {role.value: await make_user(db, role=role) for role in Role}
    return Fuzzer(app, settings, client, asyncio.get_running_loop(), document, users)


SUCCESS = set(range(200, 300))
# The operations that only a real id brings to their success path, and the answer it is.
SEEDED_SUCCESSES = {
    "POST /api/v1/bookings": 201,
    "GET /api/v1/bookings/{booking_id}": 200,
    "DELETE /api/v1/bookings/{booking_id}": 200,
    "GET /api/v1/events/{event_id}": 200,
    "PATCH /api/v1/events/{event_id}": 200,
    "DELETE /api/v1/events/{event_id}": 204,
    "POST /api/v1/events/{event_id}/cancel": 200,
    "GET /api/v1/events/{event_id}/bookings": 200,
    "POST /api/v1/events/{event_id}/check-in": 200,
    "GET /api/v1/webhooks/{webhook_id}": 200,
    "PATCH /api/v1/webhooks/{webhook_id}": 200,
    "DELETE /api/v1/webhooks/{webhook_id}": 204,
    "GET /api/v1/webhooks/{webhook_id}/deliveries": 200,
    "POST /api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/retry": 202,
    "POST /api/v1/webhooks/{webhook_id}/ping": 202,
    "POST /api/v1/webhooks/{webhook_id}/rotate-secret": 200,
    "GET /api/v1/admin/users/{user_id}": 200,
    "POST /api/v1/admin/users/{user_id}/erase": 204,
    "GET /api/v1/events/{event_id}/ticket-types": 200,
    "PATCH /api/v1/events/{event_id}/ticket-types/{type_id}": 200,
    "DELETE /api/v1/events/{event_id}/ticket-types/{type_id}": 204,
    "GET /api/v1/events/{event_id}/quotas": 200,
    "POST /api/v1/events/{event_id}/quotas": 201,
    "PATCH /api/v1/events/{event_id}/quotas/{quota_id}": 200,
    "DELETE /api/v1/events/{event_id}/quotas/{quota_id}": 204,
    "GET /api/v1/events/{event_id}/sales": 200,
    "GET /api/v1/events/{event_id}/sales/{chart}.svg": 200,
    "GET /api/v1/events/{event_id}/check-in-lists": 200,
    "POST /api/v1/events/{event_id}/check-in-lists": 201,
    "GET /api/v1/check-in-lists/{list_id}": 200,
    "PATCH /api/v1/check-in-lists/{list_id}": 200,
    "DELETE /api/v1/check-in-lists/{list_id}": 204,
    "POST /api/v1/check-in-lists/{list_id}/scans": 201,
    "POST /api/v1/check-in-lists/{list_id}/scans/batch": 200,
    "GET /api/v1/check-in-lists/{list_id}/tickets": 200,
    "GET /api/v1/check-in-lists/{list_id}/arrivals": 200,
    "GET /api/v1/check-in-lists/{list_id}/arrivals.svg": 200,
    "POST /api/v1/check-in-lists/{list_id}/scanner-keys": 201,
    "GET /api/v1/check-in-lists/{list_id}/scanner-keys": 200,
    "DELETE /api/v1/check-in-lists/{list_id}/scanner-keys": 204,
    "DELETE /api/v1/check-in-lists/{list_id}/scanner-keys/{key_id}": 204,
    "DELETE /api/v1/users/me/api-keys/{key_id}": 204,
}


def test_every_operation_keeps_the_contract_under_fuzzing(fuzzer: Fuzzer) -> None:
    schema = schemathesis.openapi.from_dict(fuzzer.document)
    expected: set[tuple[str, str]] = set()
    failures: list[str] = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            failures.append(f"schemathesis cannot read an operation: {result.err()}")
            continue
        operation: Operation = result.ok()
        identities = fuzzer.identities(operation)
        for identity in identities:
            expected.add((operation.label, identity))
            try:
                fuzzer.fuzz(operation, identity, EXAMPLES_PER_OPERATION // len(identities))
            # Collected, so that one broken route hides no other.
            except (Exception, schemathesis.errors.FailureGroup) as error:
                failures.append(f"{operation.label} as {identity}: {type(error).__name__}: {error}")

    assert expected, "the OpenAPI document lists no operation"
    assert not failures, "\n\n".join(failures)
    assert expected <= fuzzer.exercised, f"never sent: {sorted(expected - fuzzer.exercised)}"
    assert fuzzer.succeeded == {ANONYMOUS, *SIGNED_IN}, f"only {fuzzer.succeeded} ever got a 2xx"
    reached = {label: statuses for label, statuses in fuzzer.answered.items() if statuses & SUCCESS}
    assert reached.keys() >= SEEDED_SUCCESSES.keys(), (
        f"never succeeded: {sorted(SEEDED_SUCCESSES.keys() - reached.keys())}: {fuzzer.answered}"
    )
    for label, status in SEEDED_SUCCESSES.items():
        assert status in fuzzer.answered[label], f"{label} never answered {status}"
    assert not fuzzer.locked_out, "\n".join(fuzzer.locked_out)
