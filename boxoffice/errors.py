"""Domain errors and the one place that turns any failure into application/problem+json."""

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any, ClassVar

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import (
    DBAPIError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger("boxoffice.errors")

PROBLEM_JSON = "application/problem+json"


# Every code a DomainError answers with, and the statuses SPEC gives it: clients branch on the
# code, so a code means one status. One exception, which SPEC fixes: `invalid_credentials` is
# 401 where it refuses a login (nobody is signed in yet) and 400 where a signed-in user's
# password change names a wrong current password (the session is fine, and a 401 would tell
# the client to drop its tokens).
CODE_STATUSES: Mapping[str, frozenset[int]] = {
    "bad_request": frozenset({400}),
    "not_authenticated": frozenset({401}),
    # 401 for a bearer or refresh token; 400 for the one-time token of a link (SPEC §13).
    "invalid_token": frozenset({400, 401}),
    "invalid_credentials": frozenset({400, 401}),
    "forbidden": frozenset({403}),
    "account_disabled": frozenset({403}),
    "email_not_verified": frozenset({403}),
    "not_found": frozenset({404}),
    "conflict": frozenset({409}),
    "email_taken": frozenset({409}),
    "invalid_transition": frozenset({409}),
    "event_not_editable": frozenset({409}),
    "capacity_below_booked": frozenset({409}),
    "sold_out": frozenset({409}),
    "sale_not_open": frozenset({409}),
    "quantity_out_of_range": frozenset({422}),
    "already_booked": frozenset({409}),
    "event_not_bookable": frozenset({409}),
    "event_started": frozenset({409}),
    "already_checked_in": frozenset({409}),
    "booking_not_confirmed": frozenset({409}),
    "request_in_progress": frozenset({409}),
    "cannot_modify_self": frozenset({409}),
    "has_upcoming_events": frozenset({409}),
    "ticket_type_in_use": frozenset({409}),
    "last_ticket_type": frozenset({409}),
    "quota_below_taken": frozenset({409}),
    "booking_not_pending": frozenset({409}),
    "last_check_in_list": frozenset({409}),
    "offer_expired": frozenset({409}),
    "payment_not_allowed": frozenset({409}),
    "cancellation_closed": frozenset({409}),
    "invalid_signature": frozenset({400}),
    "validation_error": frozenset({422}),
    "idempotency_key_reused": frozenset({422}),
    "webhook_url_not_allowed": frozenset({422}),
    "rate_limited": frozenset({429}),
    "internal_error": frozenset({500}),
    "service_unavailable": frozenset({503}),
}


class DomainError(Exception):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    # A few failures must keep what the transaction did before them (a reused refresh token
    # revokes its family and still answers 401; holds reclaimed before a sale is refused stay
    # reclaimed); the session dependency commits for those. A class or one error may say so.
    keeps_changes: bool = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Checked where an error is defined, so that a wrong status fails at import, not in a
        # client that branched on the code.
        super().__init_subclass__(**kwargs)
        allowed = CODE_STATUSES.get(cls.code)
        if allowed is None or cls.status not in allowed:
            raise TypeError(
                f"{cls.__qualname__}: code `{cls.code}` with status {cls.status}; "
                f"SPEC gives it {sorted(allowed or ())} (errors.CODE_STATUSES)"
            )

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None, **extra: Any):
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


class BadRequest(DomainError):
    status, code = 400, "bad_request"


class NotAuthenticated(DomainError):
    status, code = 401, "not_authenticated"


class InvalidToken(DomainError):
    status, code = 401, "invalid_token"


class Forbidden(DomainError):
    status, code = 403, "forbidden"


class NotFound(DomainError):
    status, code = 404, "not_found"


class Conflict(DomainError):
    status, code = 409, "conflict"


class InvalidTransition(Conflict):
    """A state machine refusing a move: an event's status, a notification's retry."""

    code = "invalid_transition"


class Unprocessable(DomainError):
    status, code = 422, "validation_error"


class RateLimited(DomainError):
    status, code = 429, "rate_limited"


class ServiceUnavailable(DomainError):
    status, code = 503, "service_unavailable"


class InternalError(DomainError):
    """Never raised on purpose: the answer to whatever failed unexpectedly (a bug)."""

    status, code = 500, "internal_error"


class Problem(BaseModel):
    """RFC 9457 problem details, as every error response of the API carries them."""

    type: str
    title: str
    status: int
    detail: str
    code: str


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str


class ValidationProblem(Problem):
    errors: list[FieldError]


def problem_body(status: int, code: str, detail: str, **extra: Any) -> dict[str, Any]:
    if status == 422:
        # Every 422 lists what to fix (SPEC §2); a rule that names no single field still has one.
        extra.setdefault("errors", [{"loc": [], "msg": detail}])
    return {
        "type": f"/problems/{code}",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }


def problem_response(
    status: int,
    code: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = problem_body(status, code, detail, **extra)
    headers = dict(headers or {})
    if status == 401:
        headers.setdefault("WWW-Authenticate", "Bearer")
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


_CODES_FOR_HTTP_STATUS = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    503: "service_unavailable",
}


def _validation_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    return [
        {
            "loc": [part for part in error.get("loc", ()) if isinstance(part, str | int)],
            "msg": str(error.get("msg", "invalid value")),
        }
        for error in errors
    ]


def _describe(errors: list[dict[str, Any]]) -> str:
    first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
    where = ".".join(str(part) for part in first["loc"]) or "request"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {first['msg']}{more}"


async def _domain_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return problem_response(exc.status, exc.code, exc.detail, headers=exc.headers, **exc.extra)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = _validation_errors(exc.errors())
    return problem_response(422, "validation_error", _describe(errors), errors=errors)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:
        # Only the framework raises a bare 400: a body it cannot decode (JSON that is not UTF-8,
        # a broken form). To a client that is a malformed body like any other, so 422 (SPEC §2).
        detail = exc.detail if isinstance(exc.detail, str) else "the body cannot be decoded"
        errors = [{"loc": ["body"], "msg": detail}]
        return problem_response(422, "validation_error", _describe(errors), errors=errors)
    code = _CODES_FOR_HTTP_STATUS.get(exc.status_code, "internal_error")
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    return problem_response(exc.status_code, code, detail, headers=dict(exc.headers or {}))


# Failures of the way to the database, whatever the statement. asyncpg's own errors arrive
# unwrapped when a connection dies while SQLAlchemy is still setting it up (its type codecs).
_UNAVAILABLE = (
    PoolTimeout,
    ConnectionError,
    TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
)

# SQLSTATE classes of a database that cannot serve now: connection exceptions, insufficient
# resources (too many clients), operator intervention (shutting down, terminated); and a
# deadlock, which it broke by failing this transaction (try again, as MySQL's 1213 below).
_UNAVAILABLE_SQLSTATES = ("08", "53", "57P", "40P01")

# MySQL/MariaDB error numbers of the same kind: too many connections, lock wait timeout,
# deadlock (both: try again), can't connect, server gone away, connection lost.
_UNAVAILABLE_MYSQL_ERRORS = {1040, 1205, 1213, 2002, 2003, 2006, 2013}


def _database_unavailable(exc: Exception) -> bool:
    """A failure to reach the database, not a fault of this request: a connection refused, cut
    (a restart, a failover, `pg_terminate_backend`), refused for want of slots or timed out, no
    pooled connection free, or the database too busy to answer now. A statement the database
    cannot run (a missing column, a broken constraint) is a bug, not an outage."""
    if isinstance(exc, _UNAVAILABLE):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    original = exc.orig
    sqlstate = getattr(original, "sqlstate", None)
    if sqlstate is not None:
        return str(sqlstate).startswith(_UNAVAILABLE_SQLSTATES)
    if isinstance(original, _UNAVAILABLE):
        return True
    if not isinstance(exc, OperationalError | InterfaceError):
        return False
    arguments = getattr(original, "args", ())
    if arguments and isinstance(arguments[0], int):
        return arguments[0] in _UNAVAILABLE_MYSQL_ERRORS
    # SQLite names its only outage in words: another writer holds the database too long.
    return "database is locked" in str(original) or "database is busy" in str(original)


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    if not _database_unavailable(exc):
        # A bug like any other: RequestContextMiddleware answers 500, with the request id.
        raise exc
    request_id = getattr(request.state, "request_id", "-")
    logger.warning("database unavailable", exc_info=exc, extra={"request_id": request_id})
    return problem_response(
        503,
        "service_unavailable",
        "The database cannot be reached right now; try again in a few seconds.",
        headers={"Retry-After": "2"},
    )


def internal_error(request_id: str) -> JSONResponse:
    """The answer to an unexpected exception: the request id to quote, nothing internal."""
    return problem_response(
        InternalError.status,
        InternalError.code,
        f"Something went wrong on our side; quote request id {request_id} when reporting it.",
    )


def install_error_handlers(app: FastAPI) -> None:
    # Unexpected exceptions are answered by observability.RequestContextMiddleware, inside the
    # middleware that adds the request id and security headers; an `Exception` handler here would
    # answer from Starlette's outermost middleware, past both.
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for unavailable in (SQLAlchemyError, *_UNAVAILABLE):
        app.add_exception_handler(unavailable, _database_error)


def problem_responses(*errors: type[DomainError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI declarations of the problem responses a route can give: one per status, naming
    every `code` it can carry there. Made from the error classes the route raises, so the
    reference cannot drift from the code."""
    codes: dict[int, list[str]] = {}
    for error in (*errors, *_ANY_ROUTE):
        found = codes.setdefault(error.status, [])
        if error.code not in found:
            found.append(error.code)
    return {status: _declaration(status, codes[status]) for status in sorted(codes)}


# Every route can meet a malformed request, a rate limit and a server-side failure.
_ANY_ROUTE: tuple[type[DomainError], ...] = (Unprocessable, RateLimited, InternalError)


def _declaration(status: int, codes: list[str]) -> dict[str, Any]:
    model = ValidationProblem if status == 422 else Problem
    return {
        "model": model,
        # "Conflict: `sold_out`, `already_booked`": the codes a client can branch on.
        "description": f"{HTTPStatus(status).phrase}: " + ", ".join(f"`{code}`" for code in codes),
        "content": {PROBLEM_JSON: {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}},
    }
