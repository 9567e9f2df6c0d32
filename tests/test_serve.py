"""`boxoffice serve`'s HTTP protocol turns Nagle's algorithm off on every connection, also on a
listening socket bound as uvicorn binds it for `--workers N` (see boxoffice/server.py)."""

import asyncio
import socket
from typing import Any

import pytest
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

from boxoffice.cli import HTTP_PROTOCOL
from boxoffice.server import NoDelayH11Protocol, NoDelayHttpToolsProtocol


async def _nothing(scope: Any, receive: Any, send: Any) -> None:
    """An ASGI app that is never called: the connection is inspected before any request."""


async def _nodelay_of_accepted_connection(protocol: type[H11Protocol] | type[Any]) -> int:
    """TCP_NODELAY of the server side of one connection accepted through `protocol`."""
    # As uvicorn binds for several workers: `proto` 0, which asyncio does not take for TCP.
    listener = socket.socket(socket.AF_INET)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    config = uvicorn.Config(app=_nothing, lifespan="off", log_level="warning")
    config.load()
    state = ServerState()
    made = asyncio.Event()

    class Watched(protocol):  # type: ignore[misc, valid-type]
        def connection_made(self, transport: asyncio.Transport) -> None:
            super().connection_made(transport)
            made.set()

    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: Watched(config=config, server_state=state, app_state={}), sock=listener
    )
    try:
        _, writer = await asyncio.open_connection(*listener.getsockname())
        await asyncio.wait_for(made.wait(), 10)
        (connection,) = state.connections
        accepted = connection.transport.get_extra_info("socket")
        nodelay = accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        writer.close()
        return int(nodelay)
    finally:
        server.close()


async def test_uvicorn_leaves_nagle_on_for_a_socket_bound_for_several_workers() -> None:
    # Why boxoffice has protocols of its own: without them the option stays off.
    assert await _nodelay_of_accepted_connection(H11Protocol) == 0


@pytest.mark.parametrize("protocol", [NoDelayH11Protocol, NoDelayHttpToolsProtocol])
async def test_boxoffice_protocols_turn_nagle_off_on_every_connection(protocol: type) -> None:
    assert await _nodelay_of_accepted_connection(protocol) == 1


def test_serve_runs_the_protocol_that_turns_nagle_off() -> None:
    module, name = HTTP_PROTOCOL.split(":")
    assert (module, name) == (NoDelayHttpToolsProtocol.__module__, "NoDelayHttpToolsProtocol")
