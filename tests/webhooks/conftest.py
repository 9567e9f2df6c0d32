import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from boxoffice.app import create_app
from boxoffice.settings import Settings
from boxoffice.webhooks.addresses import StaticResolver
from boxoffice.webhooks.delivery import Deliverer
from tests.conftest import make_settings
from tests.webhooks.support import LoopbackOnly, loopback_only

# Names the tests use, and the addresses they stand for: no real DNS.
NAMES = {
    "hooks.example.com": ["93.184.215.14"],
    "inside.example.com": ["10.1.2.3"],
    "home.example.com": ["127.0.0.1"],
    "receiver.test": ["127.0.0.1"],
}


@pytest.fixture(autouse=True)
def no_connection_beyond_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test here may reach 127.0.0.0/8 and ::1 only: any other connect, of any socket
    (asyncio's included, which calls `connect` too), fails the test before a packet is sent.
    The URLs these tests name on private and link-local addresses must be refused unconnected."""
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def connect(self: socket.socket, address: Any) -> None:
        loopback_only(address)
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        loopback_only(address)
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)


@pytest.fixture(scope="session")
def private_settings(database_url: str) -> Settings:
    """Webhooks to 127.0.0.1 allowed: the receivers of these tests are there."""
    return make_settings(database_url, webhooks_allow_private=True, webhook_concurrency=2)


@pytest.fixture(scope="session")
async def private_app(private_settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(private_settings)
    application.state.webhook_resolver = StaticResolver(NAMES)
    yield application
    await application.state.engine.dispose()


@pytest.fixture
async def hooks_client(private_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=private_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def deliverer(private_app: FastAPI) -> AsyncIterator[Deliverer]:
    worker = Deliverer(
        private_app.state.settings,
        private_app.state.sessionmaker,
        resolver=StaticResolver(NAMES),
        transport=LoopbackOnly(),
    )
    yield worker
    await worker.aclose()


@pytest.fixture(autouse=True)
def _resolver_without_dns(app: FastAPI) -> None:
    app.state.webhook_resolver = StaticResolver(NAMES)
