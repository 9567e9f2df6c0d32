"""Fuzzing with the inputs schema-driven generation rarely reaches (SPEC §6a: "Any request, however
malformed, gets a 4xx, never a 5xx"): deep nesting, calendar edges, huge integers and odd Unicode.

Hypothesis picks an operation, one of its fields (body, query or path) and a hostile value of
one class; the request goes to the app over HTTP as raw bytes. Every answer must be no 5xx, be
what the OpenAPI document says (status, content type, headers, body schema; checked by
schemathesis), and every error a problem+json with a snake_case code. The tests report how many
cases they sent. BOXOFFICE_FUZZ_MALFORMED_EXAMPLES (per class, default 120) makes a deeper run.

Like tests/test_fuzz.py, the tests are synchronous and send each case on the session's event loop,
where the app's connection pool lives.
"""

import asyncio
import json
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeAlias
from urllib.parse import quote

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.factories import auth_headers, make_event, make_user

Operation: TypeAlias = schemathesis.APIOperation[Any, Any, Any, Any]

EXAMPLES = int(os.environ.get("BOXOFFICE_FUZZ_MALFORMED_EXAMPLES", "120"))
SNAKE_CASE = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")
PROBLEM_JSON = "application/problem+json"


# -- the classes of hostile input ------------------------------------------------------------------


@dataclass(frozen=True)
class Raw:
    """A JSON value written out as is (deep nesting, lone surrogates: what json.dumps won't)."""

    text: str

    def __repr__(self) -> str:
        more = f"... ({len(self.text)} characters)" if len(self.text) > 60 else ""
        return f"Raw({self.text[:60]!r}{more})"


def _nested(depth: int, kind: str) -> Raw:
    if kind == "array":
        return Raw("[" * depth + "]" * depth)
    if kind == "object":
        return Raw('{"a":' * depth + "1" + "}" * depth)
    return Raw('[{"a":' * (depth // 2) + "1" + "}]" * (depth // 2))


deep_nesting = st.builds(
    _nested,
    st.one_of(
        st.integers(33, 120),
        st.sampled_from([900, 1000, 5000, 100_000]),
        st.integers(1001, 50_000),
    ),
    st.sampled_from(["array", "object", "mixed"]),
)

_OFFSETS = ["Z", "+00:00", "-00:00", "+23:59", "-23:59", "+14:00", "-12:00", "+05:30", "+24:00"]
_DATES = [
    "0001-01-01",
    "0001-01-02",
    "9999-12-31",
    "9999-12-30",
    "1969-12-31",
    "1970-01-01",
    "1999-12-31",
    "2000-01-01",
    "2000-02-29",
    "2028-02-29",
    "2027-02-29",
    "2100-02-29",
    "2999-12-31",
    "3000-01-01",
    "2027-13-01",
    "2027-00-10",
    "2027-04-31",
]
_TIMES = ["00:00:00", "23:59:59", "23:59:59.999999", "24:00:00", "23:59:60", "12:00:00.1234567"]
calendar_edges = st.one_of(
    st.builds(
        lambda d, t, o: f"{d}T{t}{o}",
        st.sampled_from(_DATES),
        st.sampled_from(_TIMES),
        st.sampled_from(_OFFSETS),
    ),
    st.datetimes(timezones=st.timezones()).map(lambda value: value.isoformat()),
    st.sampled_from(["2027-06-01", "2027-06-01T20:00:00", "now", "", "-1", "1e309"]),
)

huge_integers = st.one_of(
    st.sampled_from(
        [2**31 - 1, 2**31, 2**32, 2**53 + 1, 2**63 - 1, 2**63, 2**64, 10**30, 10**100]
    ).flatmap(lambda n: st.sampled_from([n, -n])),
    st.sampled_from([0, -1, 100_001, 101, 11]),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.sampled_from([Raw("1e309"), Raw("-0"), Raw("1.0e2"), Raw("9" * 5000), Raw("0x10")]),
)

odd_unicode = st.one_of(
    st.sampled_from(
        [
            "\x00",
            "a\x00b",
            "\u202eevil\u202c",
            "\u200f\u05e9\u05dc\u05d5\u05dd",
            "e" + "\u0301" * 500,
            "\ufeffbom",
            "\U0001f3ab" * 100,
            "\ud7ff\ue000\uffff",
            " ",
            "\t\n\r",
            "x" * 10_000,
            "\u00e9" * 300,
        ]
    ),
    # Lone surrogates can only travel as JSON escapes; Python's json writes them that way.
    st.sampled_from(["\\ud800", "a\\udfffb", "\\udc00\\ud800", "\\u0000"]).map(
        lambda escaped: Raw(f'"{escaped}"')
    ),
    st.text(min_size=1, max_size=300),
    st.text(st.characters(codec="utf-8", categories=["Mn", "Cf", "Co", "Zl", "Zp"]), min_size=1),
)

CLASSES: dict[str, st.SearchStrategy[Any]] = {
    "deep nesting": deep_nesting,
    "calendar edges": calendar_edges,
    "huge integers": huge_integers,
    "odd unicode": odd_unicode,
}
_TIMES_FIELDS = {"starts_at", "ends_at", "starts_after", "starts_before"}
_INTEGER_FIELDS = {"event_id", "booking_id", "user_id", "organizer_id", "limit", "offset"}
_INTEGER_FIELDS |= {"capacity", "seats"}
# Half of each class's cases go to the fields it is about (where a bug of its kind would live),
# the rest anywhere.
FOCUS: dict[str, set[str] | None] = {
    "deep nesting": None,
    "calendar edges": _TIMES_FIELDS,
    "huge integers": _INTEGER_FIELDS,
    "odd unicode": None,
}


# -- where the values go -------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    method: str
    path: str  # the OpenAPI path template
    who: str  # anonymous, attendee, organizer or admin
    body: dict[str, Any] | None = None  # a valid body; one field is replaced
    query: dict[str, Any] = field(default_factory=dict)  # a valid query; one field is replaced
    path_fields: tuple[str, ...] = ()
    query_fields: tuple[str, ...] = ()


def targets(event_id: int, booking_id: int, user_id: int) -> list[Target]:
    future = "2031-05-01T19:00:00+02:00"
    event_body = {
        "title": "t",
        "location": "l",
        "starts_at": future,
        "ends_at": "2031-05-01T21:00:00+02:00",
        "capacity": 5,
    }
    ids = {"event_id": event_id, "booking_id": booking_id, "user_id": user_id}
    return [
        Target(
            "POST",
            "/api/v1/auth/register",
            "anonymous",
            {"email": "fuzz@example.com", "password": "long enough", "full_name": "F"},
        ),
        Target("POST", "/api/v1/auth/login", "anonymous", {"email": "a@b.c", "password": "x"}),
        Target("POST", "/api/v1/auth/refresh", "anonymous", {"refresh_token": "x"}),
        Target("PATCH", "/api/v1/users/me", "attendee", {"full_name": "Ann"}),
        Target(
            "POST",
            "/api/v1/users/me/password",
            "attendee",
            {"current_password": "wrong one", "new_password": "long enough"},
        ),
        Target("POST", "/api/v1/events", "organizer", event_body),
        Target("PATCH", "/api/v1/events/{event_id}", "organizer", {"capacity": 6}, ids),
        Target(
            "GET",
            "/api/v1/events",
            "anonymous",
            query={"upcoming_only": "false"},
            query_fields=(
                "starts_after",
                "starts_before",
                "limit",
                "offset",
                "q",
                "location",
                "organizer_id",
            ),
        ),
        Target("GET", "/api/v1/events/{event_id}", "anonymous", path_fields=("event_id",)),
        Target(
            "GET", "/api/v1/events/{event_id}/calendar.ics", "anonymous", path_fields=("event_id",)
        ),
        Target(
            "GET",
            "/api/v1/events/{event_id}/bookings",
            "organizer",
            query=ids,
            query_fields=("limit", "offset", "status"),
            path_fields=("event_id",),
        ),
        Target(
            "POST",
            "/api/v1/events/{event_id}/check-in",
            "organizer",
            {"ticket_code": "ABCDEFGH"},
            ids,
        ),
        Target("POST", "/api/v1/bookings", "attendee", {"event_id": event_id, "seats": 1}),
        Target(
            "PATCH",
            "/api/v1/events/{event_id}",
            "organizer",
            {"starts_at": "2031-05-01T19:00:00Z", "ends_at": "2031-05-01T21:00:00Z"},
            ids,
        ),
        Target("GET", "/api/v1/bookings/{booking_id}", "attendee", path_fields=("booking_id",)),
        Target(
            "GET",
            "/api/v1/bookings/me",
            "attendee",
            query_fields=("limit", "offset", "status", "upcoming_only"),
        ),
        Target(
            "GET",
            "/api/v1/admin/users",
            "admin",
            query_fields=("q", "role", "is_active", "limit", "offset"),
        ),
        Target("PATCH", "/api/v1/admin/users/{user_id}", "admin", {"role": "organizer"}, ids),
        Target("GET", "/api/v1/admin/users/{user_id}", "admin", path_fields=("user_id",)),
    ]


def _json(value: Any) -> str:
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{_json(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)


# Servers and clients refuse longer URLs before the app sees them (httpx at 64 KiB).
MAX_URL_VALUE = 8192


def _as_text(value: Any) -> str:
    """A value as it appears in a URL: raw JSON text stays as written, cut to fit in a URL."""
    if isinstance(value, Raw):
        text = value.text
    elif isinstance(value, bool):
        text = str(value).lower()
    else:
        text = str(value)
    return text[:MAX_URL_VALUE]


# -- sending and checking -------------------------------------------------------------------------


def problem_check(
    ctx: schemathesis.CheckContext,  # noqa: ARG001 - schemathesis passes all three
    response: schemathesis.Response,
    case: schemathesis.Case[Operation],  # noqa: ARG001
) -> None:
    if response.status_code < 400:
        return
    content_type = response.headers.get("content-type", [""])[0]
    assert content_type.split(";")[0] == PROBLEM_JSON, content_type
    body = response.json()
    assert body["status"] == response.status_code
    assert SNAKE_CASE.fullmatch(body["code"]), body
    if response.status_code == 422:
        assert isinstance(body.get("errors"), list), body


CHECKS: list[Callable[..., object]] = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    problem_check,
]


@dataclass(eq=False, repr=False)
class MalformedFuzzer:
    client: httpx.AsyncClient
    loop: asyncio.AbstractEventLoop
    schema: Any
    headers: dict[str, dict[str, str]]
    targets: list[Target]
    ids: dict[str, int]
    sent: int = 0
    statuses: dict[int, int] = field(default_factory=dict)

    def send(self, target: Target, place: str, name: str, value: Any) -> None:
        path_values: dict[str, Any] = {
            part: self.ids[part] for part in re.findall(r"{(\w+)}", target.path)
        }
        query = dict(target.query)
        for key in list(query):
            if key in self.ids and key not in target.query_fields:
                query.pop(key)  # ids in `query` only mark the path's needs
        body = dict(target.body) if target.body is not None else None
        if place == "path":
            # An empty segment is another URL (`/events/` redirects to the listing), not a value.
            assume(_as_text(value) != "")
            path_values[name] = value
        elif place == "query":
            query[name] = value
        else:
            assert body is not None
            body[name] = value
        url = target.path.format(
            **{
                k: quote(_as_text(v), safe="", errors="surrogatepass")
                for k, v in path_values.items()
            }
        )
        params = {k: _as_text(v) for k, v in query.items()}
        content = None if body is None else _json(body).encode("utf-8", "surrogatepass")
        headers = dict(self.headers[target.who])
        if content is not None:
            headers["content-type"] = "application/json"
        response = self.loop.run_until_complete(
            self.client.request(target.method, url, params=params, content=content, headers=headers)
        )
        self.sent += 1
        self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1
        operation = self.schema[target.path][target.method]
        case = operation.Case(method=target.method, path_parameters=path_values, query=params)
        case.validate_response(response, checks=CHECKS)


@pytest.fixture
async def malformed(
    settings: Settings, client: httpx.AsyncClient, db: AsyncSession
) -> MalformedFuzzer:
    document = (await client.get("/openapi.json")).raise_for_status().json()
    organizer = await make_user(db, role=Role.ORGANIZER)
    attendee = await make_user(db)
    admin = await make_user(db, role=Role.ADMIN)
    event = await make_event(db, organizer, capacity=100)
    headers: dict[str, dict[str, str]] = {"anonymous": {}}
    for name, user in (("organizer", organizer), ("attendee", attendee), ("admin", admin)):
        headers[name] = await auth_headers(db, settings, user)
    booked = await client.post(
        "/api/v1/bookings", headers=headers["attendee"], json={"event_id": event.id}
    )
    booking_id = booked.raise_for_status().json()["id"]
    ids = {"event_id": event.id, "booking_id": booking_id, "user_id": attendee.id}
    return MalformedFuzzer(
        client,
        asyncio.get_running_loop(),
        schemathesis.openapi.from_dict(document),
        headers,
        targets(**ids),
        ids,
    )


def _fields(target: Target) -> list[tuple[str, str]]:
    places = [("body", name) for name in (target.body or {})]
    places += [("query", name) for name in target.query_fields]
    places += [("path", name) for name in target.path_fields]
    return places


@pytest.mark.parametrize("kind", list(CLASSES))
def test_hostile_values_get_documented_4xx_answers(
    malformed: MalformedFuzzer, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    placements = [(t, place, name) for t in malformed.targets for place, name in _fields(t)]
    if kind == "deep nesting":
        placements = [p for p in placements if p[1] == "body"]
    focus = FOCUS[kind]
    focused = [p for p in placements if focus is None or p[2] in focus]
    assert focused, kind

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(placement=st.sampled_from(focused) | st.sampled_from(placements), value=CLASSES[kind])
    def run(placement: tuple[Target, str, str], value: Any) -> None:
        target, place, name = placement
        malformed.send(target, place, name, value)

    run()

    with capsys.disabled():
        sys.stderr.write(
            f"\n{kind}: {malformed.sent} requests, statuses {sorted(malformed.statuses.items())}\n"
        )
    assert malformed.sent >= EXAMPLES
    assert not any(status >= 500 for status in malformed.statuses)


def test_every_placement_is_a_documented_operation(malformed: MalformedFuzzer) -> None:
    for target in malformed.targets:
        operation = malformed.schema[target.path][target.method]
        names = {p.name for p in operation.iter_parameters()}
        for place, name in _fields(target):
            if place != "body":
                assert name in names, f"{target.method} {target.path} has no parameter {name}"
