"""A ban made through one server process is obeyed by every other one at once."""

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.users.models import Role
from tests.admin.support import ME, user_path
from tests.factories import PASSWORD, make_user
from tests.servers import running_servers

LOGIN = "/api/v1/auth/login"


@pytest.fixture
def two_servers(database_url: str) -> Iterator[list[str]]:
    with running_servers(
        {
            "BOXOFFICE_DATABASE_URL": database_url,
            "BOXOFFICE_SECRET_KEY": "admin-process-test-secret-key-32-bytes",
        },
        count=2,
    ) as urls:
        yield urls


async def bearer(http: httpx.AsyncClient, base_url: str, email: str) -> dict[str, str]:
    login = await http.post(f"{base_url}{LOGIN}", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


async def test_ban_on_one_process_refuses_the_live_token_on_another(
    two_servers: list[str], db: AsyncSession
) -> None:
    first, second = two_servers
    ann = await make_user(db, email="ann@example.com")
    await make_user(db, email="root@example.com", role=Role.ADMIN)
    async with httpx.AsyncClient() as http:
        ann_headers = await bearer(http, first, "ann@example.com")
        admin_headers = await bearer(http, second, "root@example.com")
        assert (await http.get(f"{first}{ME}", headers=ann_headers)).status_code == 200

        banned = await http.patch(
            f"{second}{user_path(ann.id)}", headers=admin_headers, json={"is_active": False}
        )

        assert banned.status_code == 200
        refused = await http.get(f"{first}{ME}", headers=ann_headers)
        assert refused.status_code == 401
        assert refused.json()["code"] == "invalid_token"
