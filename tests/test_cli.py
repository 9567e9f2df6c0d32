"""The console script, run as a person would: a real process with settings in its environment."""

import os
import subprocess
import sys

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.audit import AuditEntry
from boxoffice.auth import passwords
from boxoffice.settings import DEVELOPMENT_SECRET_KEY, Environment, Settings
from boxoffice.users.models import User
from tests.servers import running_server


def boxoffice(
    *args: str, env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "boxoffice.cli", *args],
        env={**os.environ, **env},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        # No terminal to read from: a password prompt falls back to standard input.
        start_new_session=True,
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


@pytest.mark.parametrize("key", ["", "s" * 31, "ß" * 15])
def test_production_refuses_a_secret_key_shorter_than_32_bytes(key: str) -> None:
    result = boxoffice("serve", env={"BOXOFFICE_ENV": "production", "BOXOFFICE_SECRET_KEY": key})

    assert result.returncode == 2
    assert "BOXOFFICE_SECRET_KEY" in result.stderr
    assert "32 bytes" in result.stderr
    assert "Traceback" not in result.stderr


def test_production_takes_a_key_of_32_bytes() -> None:
    settings = Settings(env=Environment.PRODUCTION, secret_key="ß" * 16)

    assert len(settings.secret_key.get_secret_value().encode()) == 32


async def test_demo_refuses_to_run_in_production(database_url: str, db: AsyncSession) -> None:
    env = {
        "BOXOFFICE_DATABASE_URL": database_url,
        "BOXOFFICE_ENV": "production",
        "BOXOFFICE_SECRET_KEY": "p" * 48,
    }

    result = boxoffice("demo", env=env)

    assert result.returncode == 2
    assert "production" in result.stderr
    assert "Traceback" not in result.stderr
    assert (await db.scalars(select(User))).all() == [], "no account with a known password"


async def test_create_admin_reads_the_password_from_stdin(
    database_url: str, db: AsyncSession
) -> None:
    secret = "from a pipe, not the shell history"
    result = boxoffice(
        "create-admin",
        "--email",
        "root@example.com",
        "--password-stdin",
        env={"BOXOFFICE_DATABASE_URL": database_url},
        stdin=secret + "\n",
    )

    assert result.returncode == 0, result.stderr
    assert "from a pipe" not in result.stdout + result.stderr
    admin = (await db.scalars(select(User))).one()
    assert admin.role == "admin"
    assert await passwords.verify_password(secret, admin.password_hash)


async def test_create_admin_asks_for_the_password_when_none_is_given(
    database_url: str, db: AsyncSession
) -> None:
    result = boxoffice(
        "create-admin",
        "--email",
        "root@example.com",
        env={"BOXOFFICE_DATABASE_URL": database_url},
        stdin="typed at a prompt\ntyped at a prompt\n",
    )

    assert result.returncode == 0, result.stderr
    admin = (await db.scalars(select(User))).one()
    assert await passwords.verify_password("typed at a prompt", admin.password_hash)
