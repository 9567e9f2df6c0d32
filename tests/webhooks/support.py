"""A receiver of webhooks on 127.0.0.1, and a transport that refuses any other address."""

import asyncio
import ipaddress
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiohttp import web

from tests.servers import receiving


class LoopbackOnly(httpx.AsyncHTTPTransport):
    """The deliveries' transport in tests: a request to anything but a loopback address fails
    the test before a connection is opened."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        address = ipaddress.ip_address(request.url.host)
        assert address.is_loopback, f"a delivery tried to connect to {address}"
        return await super().handle_async_request(request)


@dataclass
class Received:
    headers: dict[str, str]
    body: str


@dataclass
class Receiver:
    """Answers each request with the next of `answers` (then 200), and keeps what it got."""

    url: str
    answers: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)

    async def receive(self, request: web.Request) -> web.Response:
        self.received.append(Received(dict(request.headers), await request.text()))
        status = self.answers.pop(0) if self.answers else 200
        return web.Response(status=status)


@asynccontextmanager
async def receiver() -> AsyncIterator[Receiver]:
    got = Receiver("")
    async with receiving("/hook", got.receive) as url:
        got.url = url
        yield got
        await asyncio.sleep(0)


class LeftLoopback(AssertionError):
    """A webhook test tried to open a connection beyond this machine."""


def loopback_only(address: Any) -> None:
    host = address[0] if isinstance(address, tuple) else None
    if host is None:
        return  # a Unix socket (the databases' own, maybe): never leaves the machine
    if not ipaddress.ip_address(host.split("%")[0]).is_loopback:
        raise LeftLoopback(f"a connection to {host} was about to be opened")
