"""The worker inside `serve`: started with the app, stopped with it, off when switched off."""

import asyncio

from fastapi import FastAPI

from boxoffice.notifications.worker import in_background
from boxoffice.settings import Settings


def _worker_tasks() -> set[asyncio.Task[object]]:
    return {t for t in asyncio.all_tasks() if "Worker.run" in repr(t.get_coro())}


async def test_the_app_runs_a_worker_for_as_long_as_it_serves(
    app: FastAPI, settings: Settings
) -> None:
    async with in_background(settings, app.state.sessionmaker):
        (running,) = _worker_tasks()
        assert not running.done()

    assert running.done()
    assert not running.cancelled()
    assert _worker_tasks() == set()


async def test_worker_enabled_false_runs_none(app: FastAPI, settings: Settings) -> None:
    switched_off = settings.model_copy(update={"worker_enabled": False})

    async with in_background(switched_off, app.state.sessionmaker):
        assert _worker_tasks() == set()
