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

BOXOFFICE_FUZZ_EXAMPLES=200 (examples per operation) makes a deeper run.
"""

import asyncio
import os
import re
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import httpx
import pytest
import requests
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.settings import Settings
from boxoffice.users.models import Role, User
from tests.factories import auth_headers, make_user

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


CHECKS = [
    not_a_server_error,
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
    # Evidence that the run went where it claims: the (operation, identity) pairs sent, the
    # identities that got a 2xx anywhere, and any 401 a signed-in identity met behind auth.
    exercised: set[tuple[str, str]] = field(default_factory=set)
    succeeded: set[str] = field(default_factory=set)
    locked_out: list[str] = field(default_factory=list)

    def identities(self, operation: Operation) -> tuple[str, ...]:
        security = operation.definition.raw.get("security", self.document.get("security"))
        # A route that declares no auth never reads a token: sending one would teach nothing.
        return (ANONYMOUS, *SIGNED_IN) if security else (ANONYMOUS,)

    def fuzz(self, operation: Operation, identity: str, examples: int) -> None:
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
        @given(case=cases)
        def run(case: Case) -> None:
            self.call_and_validate(case, identity)

        run()

    def call_and_validate(self, case: Case, identity: str) -> None:
        response = self.loop.run_until_complete(self.send(case, identity))
        self.exercised.add((case.operation.label, identity))
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
    assert fuzzer.succeeded >= {ANONYMOUS, *SIGNED_IN}, f"only {fuzzer.succeeded} ever got a 2xx"
    assert not fuzzer.locked_out, "\n".join(fuzzer.locked_out)
