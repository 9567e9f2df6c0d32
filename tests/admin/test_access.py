"""Every admin route is for admins only: anonymous callers 401, other roles 403."""

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.settings import Settings
from boxoffice.users.models import Role
from tests.admin.support import ADMIN, AUDIT_LOG, STATS, USERS, stored_user, user_path
from tests.factories import make_user, signed_in

ROUTES = [
    ("GET", USERS, None),
    ("GET", user_path("{target}"), None),
    ("PATCH", user_path("{target}"), {"is_active": False}),
    ("DELETE", user_path("{target}"), None),
    ("POST", user_path("{target}") + "/erase", None),
    ("GET", STATS, None),
    ("GET", AUDIT_LOG, None),
    ("GET", f"{ADMIN}/notifications", None),
    # Refused before the notification is looked up: any id will do.
    ("POST", f"{ADMIN}/notifications/{{target}}/retry", None),
]


async def _call(
    client: httpx.AsyncClient,
    route: tuple[str, str, dict[str, object] | None],
    target: int,
    headers: dict[str, str],
) -> httpx.Response:
    method, path, body = route
    return await client.request(method, path.format(target=target), json=body, headers=headers)


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r[0]} {r[1]}")
async def test_anonymous_caller_is_not_authenticated(
    client: httpx.AsyncClient, db: AsyncSession, route: tuple[str, str, dict[str, object] | None]
) -> None:
    target = await make_user(db)

    response = await _call(client, route, target.id, {})

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("role", [Role.ATTENDEE, Role.ORGANIZER])
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r[0]} {r[1]}")
async def test_attendees_and_organizers_are_forbidden(
    client: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,
    route: tuple[str, str, dict[str, object] | None],
    role: Role,
) -> None:
    caller = await signed_in(db, settings, role)
    target = await make_user(db)

    response = await _call(client, route, target.id, caller.headers)

    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert (await stored_user(db, target.id)).is_active


async def test_every_admin_route_documents_its_problem_responses(app: FastAPI) -> None:
    paths = app.openapi()["paths"]
    admin_operations = [
        (path, method, operation)
        for path, operations in paths.items()
        if path.startswith("/api/v1/admin/")
        for method, operation in operations.items()
    ]

    assert len(admin_operations) == len(ROUTES)
    for path, method, operation in admin_operations:
        declared = operation["responses"]
        assert {"401", "403", "422"} <= declared.keys(), (method, path)
        if "{user_id}" in path:
            assert "404" in declared, (method, path)
        if method in ("patch", "delete"):
            assert "409" in declared, (method, path)
