"""The console script, run as a person would: a real process with settings in its environment."""

import os
import subprocess
import sys

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.audit import AuditEntry
from boxoffice.settings import DEVELOPMENT_SECRET_KEY, Environment, Settings
from tests.servers import running_server


def boxoffice(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "boxoffice.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_create_admin_makes_an_admin_who_can_log_in(
    database_url: str, db: AsyncSession
) -> None:
    env = {"BOXOFFICE_DATABASE_URL": database_url}

    result = boxoffice(
        "create-admin", "--email", "Root@Example.com", "--password", "long enough", env=env
    )

    assert result.returncode == 0, result.stderr
    with running_server(env) as url:
        async with httpx.AsyncClient(base_url=url) as http:
            login = await http.post(
                "/api/v1/auth/login", json={"email": "root@example.com", "password": "long enough"}
            )
            me = await http.get(
                "/api/v1/users/me",
                headers={"Authorization": f"Bearer {login.json()['access_token']}"},
            )
    assert me.json()["role"] == "admin"
    entry = (await db.scalars(select(AuditEntry))).one()
    assert (entry.action, entry.target_type, entry.actor_id) == ("admin.created", "user", None)


async def test_create_admin_refuses_a_taken_email(database_url: str) -> None:
    env = {"BOXOFFICE_DATABASE_URL": database_url}
    boxoffice("create-admin", "--email", "root@example.com", "--password", "long enough", env=env)

    again = boxoffice(
        "create-admin", "--email", "ROOT@example.com", "--password", "long enough", env=env
    )

    assert again.returncode == 1
    assert "already registered" in again.stderr


def test_production_refuses_the_default_secret_key() -> None:
    result = boxoffice("serve", env={"BOXOFFICE_ENV": "production"})

    assert result.returncode == 2
    assert "BOXOFFICE_SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr


def test_production_starts_with_a_secret_of_its_own() -> None:
    settings = Settings(env=Environment.PRODUCTION, secret_key="s" * 40)

    assert settings.secret_key.get_secret_value() != DEVELOPMENT_SECRET_KEY


def test_create_admin_applies_the_rules_of_registration(database_url: str) -> None:
    result = boxoffice(
        "create-admin",
        "--email",
        "not-an-address",
        "--password",
        "short",
        "--full-name",
        " ",
        env={"BOXOFFICE_DATABASE_URL": database_url},
    )

    assert result.returncode == 2
    for field in ("email", "password", "full_name"):
        assert f"boxoffice: {field}:" in result.stderr
    assert "Traceback" not in result.stderr
