"""Pooled database connections: tested before use when they sat idle, not at every request."""

import asyncio
import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from boxoffice.db import create_engine
from tests.conftest import make_settings
from tests.ops.relay import running_relay

pytestmark = pytest.mark.engines("postgresql", "mariadb")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _pooled_connection_dropped_by_the_server(engine: AsyncEngine, database_url: str) -> None:
    """Ends the server side of the pool's one connection, as a database restart would."""
    postgres = engine.dialect.name == "postgresql"
    async with engine.connect() as connection:
        server_id = int(
            await connection.scalar(
                text("SELECT pg_backend_pid()" if postgres else "SELECT CONNECTION_ID()")
            )
        )
    admin = create_async_engine(database_url, poolclass=NullPool)
    try:
        async with admin.connect() as connection:
            if postgres:
                # Waits (up to 10 s) until that server process is gone.
                ended = f"SELECT pg_terminate_backend({server_id}, 10000)"
                assert await connection.scalar(text(ended))
                return
            await connection.execute(text(f"KILL CONNECTION {server_id}"))
            alive = f"SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = {server_id}"
            deadline = time.monotonic() + 10
            while await connection.scalar(text(alive)):
                assert time.monotonic() < deadline, "the killed connection is still there"
                await asyncio.sleep(0.05)
    finally:
        await admin.dispose()


async def test_a_connection_dropped_while_idle_is_replaced_before_use(database_url: str) -> None:
    clock = Clock()
    engine = create_engine(
        make_settings(database_url, database_pool_ping_idle_seconds=30), clock=clock
    )
    try:
        await _pooled_connection_dropped_by_the_server(engine, database_url)
        clock.now += 31

        async with engine.connect() as connection:
            assert await connection.scalar(text("SELECT 1")) == 1
    finally:
        await engine.dispose()


async def test_a_connection_used_a_moment_ago_is_not_pinged(database_url: str) -> None:
    clock = Clock()
    # asyncpg notices a hang-up by itself, and the pool replaces a connection it knows closed
    # at no cost: the relay holds the hang-up back, so that only a ping could find it dead.
    async with running_relay(database_url) as (relay, relayed_url):
        engine = create_engine(
            make_settings(relayed_url, database_pool_ping_idle_seconds=30), clock=clock
        )
        relay.hold_hangups = True
        try:
            await _no_longer_pinged(engine, database_url, clock)
        finally:
            relay.release_hangups()
            await engine.dispose()


async def _no_longer_pinged(engine: AsyncEngine, database_url: str, clock: Clock) -> None:
    await _pooled_connection_dropped_by_the_server(engine, database_url)
    clock.now += 1

    # No round trip was spent on testing it, so its first statement finds it dead...
    with pytest.raises(DBAPIError) as raised:
        async with engine.connect() as connection:
            await connection.scalar(text("SELECT 1"))
    assert raised.value.connection_invalidated
    # ...and the next checkout gets a fresh one.
    async with engine.connect() as connection:
        assert await connection.scalar(text("SELECT 1")) == 1


@pytest.mark.engines("sqlite", "postgresql", "mariadb")
async def test_the_pool_keeps_every_connection_it_opened(
    database_url: str,
) -> None:
    engine = create_engine(make_settings(database_url, database_pool_size=1))
    try:
        async with engine.connect() as first, engine.connect() as second:
            await first.execute(text("SELECT 1"))
            await second.execute(text("SELECT 1"))
        pool = engine.sync_engine.pool
        # Both back in the pool, open: an overflow connection would have been closed on return.
        assert (pool.checkedin(), pool.checkedout()) == (2, 0)  # type: ignore[attr-defined]
    finally:
        await engine.dispose()
