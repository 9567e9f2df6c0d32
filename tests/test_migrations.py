"""One Alembic history for every engine: upgrade from empty gives exactly the models' schema."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from boxoffice import migrations
from boxoffice.models import Base
from boxoffice.settings import Settings
from tests import engines


@pytest.fixture
async def empty_database(engine_name: str) -> AsyncIterator[str]:
    url = await engines.create_database(engine_name)
    yield url
    await engines.drop_database(engine_name, url)


async def _inspect(url: str, look: Any) -> Any:
    engine = create_async_engine(url, poolclass=NullPool)
    async with engine.connect() as connection:
        result = await connection.run_sync(look)
    await engine.dispose()
    return result


def _schema_differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_upgrade_from_empty_matches_the_models(empty_database: str) -> None:
    await asyncio.to_thread(migrations.upgrade, Settings(database_url=empty_database))

    assert await _inspect(empty_database, _schema_differences) == []


async def test_downgrade_to_base_removes_everything_and_upgrade_works_again(
    empty_database: str,
) -> None:
    settings = Settings(database_url=empty_database)
    await asyncio.to_thread(migrations.upgrade, settings)

    await asyncio.to_thread(migrations.downgrade, settings, "base")

    assert await _inspect(empty_database, _tables) == {"alembic_version"}
    await asyncio.to_thread(migrations.upgrade, settings)
    assert await _inspect(empty_database, _schema_differences) == []
