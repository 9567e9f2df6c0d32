"""The HTTP protocol `boxoffice serve` gives uvicorn: its own, with Nagle's algorithm off.

With `--workers N` uvicorn binds the listening socket itself as `socket.socket(AF_INET)`, whose
`proto` is 0, and every accepted socket inherits that 0. asyncio turns Nagle off (TCP_NODELAY)
only on sockets whose `proto` is IPPROTO_TCP, so in that mode it stays on. A response goes out in
two writes (head, then body): Nagle holds the body back until the head is acknowledged, and the
client delays that acknowledgement by 40 ms, waiting for the rest of the answer. Every request on
a keep-alive connection then takes 40 ms or more. With one process uvicorn lets asyncio bind the
socket, whose `proto` is right, so only multi-process serving suffered. Setting the option on
each accepted connection ourselves does not depend on how, or by whom, the socket was bound.
"""

import asyncio
import socket

from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


def no_delay(transport: asyncio.BaseTransport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class NoDelayH11Protocol(H11Protocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        no_delay(transport)
        super().connection_made(transport)


class NoDelayHttpToolsProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        no_delay(transport)
        super().connection_made(transport)
