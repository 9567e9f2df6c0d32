"""Account flows read their links from the mail a worker sends to a real SMTP server."""

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email.message import EmailMessage

import httpx
import pytest
from fastapi import FastAPI

from boxoffice.app import create_app
from boxoffice.notifications.worker import Worker
from boxoffice.settings import Settings
from tests.conftest import make_settings
from tests.notifications.conftest import mailbox, smtp_server, smtp_settings
from tests.notifications.smtp import Mailbox
from tests.notifications.support import deliver

__all__ = ["mailbox", "smtp_server", "smtp_settings"]

_TOKEN = re.compile(r"#token=([A-Za-z0-9_-]+)")


@dataclass
class Inbox:
    """What the outbox sent to the test's SMTP server, and the links in it."""

    app: FastAPI
    settings: Settings
    mailbox: Mailbox

    async def deliver(self) -> list[EmailMessage]:
        """Sends everything due; every message received so far."""
        worker = Worker(self.settings, self.app.state.sessionmaker, name="accounts-test-worker")
        return await deliver(worker, self.mailbox)

    async def link(self, kind: str, to: str) -> str:
        """The link of the last `kind` message to this address (after delivering what is due)."""
        await self.deliver()
        found = [
            m for m in self.mailbox.messages if m["X-Boxoffice-Kind"] == kind and to in m["To"]
        ]
        assert found, f"no {kind} message to {to}"
        text = found[-1].get_body(("plain",))
        assert text is not None
        content: str = text.get_content()
        (link,) = [word for word in content.split() if "#token=" in word]
        return link

    async def token(self, kind: str, to: str) -> str:
        match = _TOKEN.search(await self.link(kind, to))
        assert match is not None
        return match.group(1)


@pytest.fixture
def inbox(app: FastAPI, smtp_settings: Settings, mailbox: Mailbox) -> Inbox:
    return Inbox(app, smtp_settings, mailbox)


def client_for(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
async def strict_client(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app with BOXOFFICE_REQUIRE_VERIFIED_EMAIL=true."""
    app = create_app(make_settings(database_url, require_verified_email=True))
    async with client_for(app) as client:
        yield client
    await app.state.engine.dispose()
