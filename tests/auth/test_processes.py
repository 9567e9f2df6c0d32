"""Revocation lives in the database: one server process logs out, another refuses the token."""

import asyncio

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import PASSWORD, make_user


async def test_logout_on_one_process_is_refused_by_another(
    servers: list[str], db: AsyncSession
) -> None:
    first, second = servers
    await make_user(db, email="ann@example.com")
    async with httpx.AsyncClient() as http:
        login = await http.post(
            f"{first}/api/v1/auth/login", json={"email": "ann@example.com", "password": PASSWORD}
        )
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        assert (await http.get(f"{second}/api/v1/users/me", headers=headers)).status_code == 200

        logout = await http.post(f"{first}/api/v1/auth/logout", headers=headers)

        assert logout.status_code == 204
        refused = await http.get(f"{second}/api/v1/users/me", headers=headers)
        assert refused.status_code == 401
        assert refused.json()["code"] == "invalid_token"


async def test_each_process_answers_the_same_user(servers: list[str], db: AsyncSession) -> None:
    await make_user(db, email="ann@example.com")
    async with httpx.AsyncClient() as http:
        login = await http.post(
            f"{servers[0]}/api/v1/auth/login",
            json={"email": "ann@example.com", "password": PASSWORD},
        )
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        answers = await asyncio.gather(
            *(http.get(f"{url}/api/v1/users/me", headers=headers) for url in servers)
        )
    assert [a.json()["email"] for a in answers] == ["ann@example.com"] * 2
