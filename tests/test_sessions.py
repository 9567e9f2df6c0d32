"""The sessions of requests that only read: on PostgreSQL, statements in autocommit."""

import pytest
from fastapi import FastAPI
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.events.models import Event
from boxoffice.users.models import Role
from tests.factories import make_event, make_user

pytestmark = pytest.mark.engines("postgresql")


async def test_a_reading_session_runs_each_statement_as_its_own_transaction(app: FastAPI) -> None:
    async with app.state.reading_sessionmaker() as reading:
        # Inside one transaction both would answer the same id.
        first, second = [await reading.scalar(text("SELECT pg_current_xact_id()")) for _ in "12"]
    assert first != second


async def test_a_reading_session_refuses_to_write_and_changes_nothing(
    app: FastAPI, db: AsyncSession
) -> None:
    event = await make_event(db, await make_user(db, role=Role.ORGANIZER))

    async with app.state.reading_sessionmaker() as reading:
        with pytest.raises(RuntimeError, match="may not write"):
            await reading.execute(update(Event).where(Event.id == event.id).values(title="Gone"))

    assert await db.scalar(select(Event.title).where(Event.id == event.id)) == event.title
