"""The databases (and Redis) the suite runs against: which answer, and a fresh database on each.

Servers default to the ones this machine runs; BOXOFFICE_TEST_POSTGRES_URL,
BOXOFFICE_TEST_MARIADB_URL and BOXOFFICE_TEST_REDIS_URL point elsewhere, and
BOXOFFICE_TEST_ENGINES (e.g. "sqlite,postgresql") narrows the run while developing.
"""

import os
import secrets
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

SQLITE, POSTGRESQL, MARIADB = "sqlite", "postgresql", "mariadb"
ALL_ENGINES = (SQLITE, POSTGRESQL, MARIADB)

SERVER_URLS = {
    POSTGRESQL: os.environ.get(
        "BOXOFFICE_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
    ),
    MARIADB: os.environ.get(
        "BOXOFFICE_TEST_MARIADB_URL", "mysql+asyncmy://root@127.0.0.1:3306/test?charset=utf8mb4"
    ),
}
REDIS_URL = os.environ.get("BOXOFFICE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _answers(host: str | None, port: int | None) -> bool:
    try:
        with socket.create_connection((host or "127.0.0.1", port or 0), timeout=2):
            return True
    except OSError:
        return False


@dataclass(frozen=True)
class Availability:
    engines: tuple[str, ...]
    redis: bool
    unreachable: tuple[str, ...]
    deselected: tuple[str, ...]


def discover() -> Availability:
    wanted = tuple(
        name.strip()
        for name in os.environ.get("BOXOFFICE_TEST_ENGINES", ",".join(ALL_ENGINES)).split(",")
        if name.strip()
    )
    reachable: list[str] = []
    unreachable: list[str] = []
    for name in wanted:
        if name == SQLITE:
            reachable.append(name)
            continue
        url = make_url(SERVER_URLS[name])
        (reachable if _answers(url.host, url.port) else unreachable).append(name)
    redis_url = make_url(REDIS_URL)
    redis_up = _answers(redis_url.host, redis_url.port or 6379)
    if not redis_up:
        unreachable.append("redis")
    return Availability(
        engines=tuple(reachable),
        redis=redis_up,
        unreachable=tuple(unreachable),
        deselected=tuple(name for name in ALL_ENGINES if name not in wanted),
    )


async def create_database(engine_name: str) -> str:
    """A new, empty database on that engine; its SQLAlchemy URL."""
    name = f"boxoffice_test_{secrets.token_hex(4)}"
    if engine_name == SQLITE:
        folder = Path(tempfile.mkdtemp(prefix="boxoffice-"))
        return f"sqlite+aiosqlite:///{folder / name}.db"
    server = make_url(SERVER_URLS[engine_name])
    admin = create_async_engine(server, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f"CREATE DATABASE {name}"))
    await admin.dispose()
    return server.set(database=name).render_as_string(hide_password=False)


def _remove_sqlite_files(url: str) -> None:
    path = str(make_url(url).database)
    for suffix in ("", "-wal", "-shm"):
        Path(path + suffix).unlink(missing_ok=True)


async def drop_database(engine_name: str, url: str) -> None:
    if engine_name == SQLITE:
        _remove_sqlite_files(url)
        return
    server = make_url(SERVER_URLS[engine_name])
    admin = create_async_engine(server, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        if engine_name == POSTGRESQL:
            await connection.execute(
                text(f"DROP DATABASE IF EXISTS {make_url(url).database} WITH (FORCE)")
            )
        else:
            await connection.execute(text(f"DROP DATABASE IF EXISTS {make_url(url).database}"))
    await admin.dispose()
