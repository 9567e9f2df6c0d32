"""/docs is the API reference: every route explains itself and names the problems it can answer."""

import re

from fastapi import FastAPI

from boxoffice.errors import PROBLEM_JSON

_CODE = re.compile(r"`([a-z_]+)`")


def _operations(app: FastAPI) -> list[tuple[str, dict[str, object]]]:
    return [
        (f"{method.upper()} {path}", operation)
        for path, operations in app.openapi()["paths"].items()
        for method, operation in operations.items()
    ]


def _codes(operation: dict[str, object], status: int) -> set[str]:
    responses = operation["responses"]
    assert isinstance(responses, dict)
    return set(_CODE.findall(responses[str(status)]["description"]))


async def test_every_route_has_a_summary_and_a_description(app: FastAPI) -> None:
    for name, operation in _operations(app):
        assert operation.get("summary"), name
        assert operation.get("description"), name


async def test_every_problem_response_names_its_codes(app: FastAPI) -> None:
    for name, operation in _operations(app):
        responses = operation["responses"]
        assert isinstance(responses, dict)
        for status, response in responses.items():
            if int(status) < 400:
                continue
            assert PROBLEM_JSON in response["content"], (name, status)
            assert _codes(operation, int(status)), (name, status)


async def test_booking_conflicts_are_listed_by_code(app: FastAPI) -> None:
    (book,) = [op for name, op in _operations(app) if name == "POST /api/v1/bookings"]

    assert _codes(book, 409) == {
        "sold_out",
        "already_booked",
        "event_not_bookable",
        "request_in_progress",
    }
    assert _codes(book, 422) == {"idempotency_key_reused", "validation_error"}
    assert _codes(book, 401) == {"not_authenticated", "invalid_token"}
    assert _codes(book, 403) == {"forbidden", "email_not_verified"}
    assert _codes(book, 404) == {"not_found"}


async def test_a_managed_event_route_lists_what_refuses_a_change(app: FastAPI) -> None:
    (edit,) = [op for name, op in _operations(app) if name == "PATCH /api/v1/events/{event_id}"]

    assert _codes(edit, 409) == {"capacity_below_booked", "event_not_editable"}
    assert _codes(edit, 404) == {"not_found"}


async def test_catalogue_conflicts_are_listed_by_code(app: FastAPI) -> None:
    operations = dict(_operations(app))
    types = "/api/v1/events/{event_id}/ticket-types/{type_id}"
    quota = "/api/v1/events/{event_id}/quotas/{quota_id}"

    assert _codes(operations[f"DELETE {types}"], 409) == {
        "event_not_editable",
        "ticket_type_in_use",
        "last_ticket_type",
    }
    assert _codes(operations[f"PATCH {quota}"], 409) == {"event_not_editable", "quota_below_taken"}
    assert _codes(operations["POST /api/v1/events/{event_id}/quotas"], 409) == {
        "event_not_editable",
        "quota_below_taken",
    }
    assert _codes(operations["GET /api/v1/events/{event_id}/ticket-types"], 404) == {"not_found"}
