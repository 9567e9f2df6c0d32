"""A TCP relay between the app and the test PostgreSQL, on the test's own event loop.

It passes bytes both ways and says what each side did, so that a test can wait for what it
needs (the server hung up, the app closed its end) instead of for a while. It can also stage
what a busy machine does at random: a terminated backend sends its farewell and then waits to
be scheduled before its socket closes, and the app reads the farewell between two statements
and sends the next one before it sees the socket close."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field

from sqlalchemy.engine import make_url

CHUNK = 65536
# A ReadyForQuery message but for its last byte, the transaction status: PostgreSQL's answer to a
# statement ends with one.
READY_FOR_QUERY = b"Z\x00\x00\x00\x05"


@dataclass
class Link:
    """One connection through the relay."""

    database_port: int
    """The port of the relay's end towards PostgreSQL: `client_port` in pg_stat_activity."""
    to_app: asyncio.StreamWriter
    cut_after: bytes | None
    """The relay's `cut_after` when the link was made."""
    asked: bool = False
    """The app sent a message containing `cut_after`."""
    held: bytearray | None = None
    """What PostgreSQL said from its answer to that message on, which the relay holds back."""
    server_hung_up: asyncio.Event = field(default_factory=asyncio.Event)
    """PostgreSQL closed the connection, and all it said before is passed on."""
    app_hung_up: asyncio.Event = field(default_factory=asyncio.Event)


class Relay:
    def __init__(self, database_host: str, database_port: int) -> None:
        self._database = (database_host, database_port)
        self._pipes: set[asyncio.Task[None]] = set()
        self.links: list[Link] = []
        self.hold_hangups = False
        """While true, a server's hang-up is not passed on: the app's end stays open until the
        app sends something."""
        self.cut_after: bytes | None = None
        """While set, on new links PostgreSQL's answer to the app's first message containing
        these bytes, and whatever follows it, is held back until PostgreSQL hangs up, and then
        passed on at once: the test can terminate the backend in between and its farewell
        arrives right behind that answer."""

    def database_ports(self) -> list[int]:
        return [link.database_port for link in self.links]

    def holds_an_answer(self) -> bool:
        return any(link.held for link in self.links)

    def server_hung_up_everywhere(self) -> bool:
        return all(link.server_hung_up.is_set() for link in self.links)

    def app_hung_up_everywhere(self) -> bool:
        return all(link.app_hung_up.is_set() for link in self.links)

    def release_hangups(self) -> None:
        """Passes on the hang-ups held so far, and those to come."""
        self.hold_hangups = False
        for link in self.links:
            if link.server_hung_up.is_set():
                link.to_app.close()

    async def accept(self, from_app: asyncio.StreamReader, to_app: asyncio.StreamWriter) -> None:
        from_database, to_database = await asyncio.open_connection(*self._database)
        link = Link(
            database_port=to_database.get_extra_info("sockname")[1],
            to_app=to_app,
            cut_after=self.cut_after,
        )
        self.links.append(link)
        pipes = (self._from_app(link, from_app, to_database), self._to_app(link, from_database))
        for pipe in pipes:
            task = asyncio.create_task(pipe)
            self._pipes.add(task)
            task.add_done_callback(self._pipes.discard)

    async def _from_app(
        self, link: Link, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        with suppress(ConnectionError):
            while data := await reader.read(CHUNK):
                if link.server_hung_up.is_set():
                    # Nobody is there to answer: the app learns it, as from a reset.
                    link.to_app.close()
                    break
                link.asked = link.asked or (link.cut_after is not None and link.cut_after in data)
                writer.write(data)
                await writer.drain()
        link.app_hung_up.set()
        writer.close()

    async def _to_app(self, link: Link, reader: asyncio.StreamReader) -> None:
        with suppress(ConnectionError):
            while data := await reader.read(CHUNK):
                if link.held is None and link.asked and data[-6:-1] == READY_FOR_QUERY:
                    link.held = bytearray()
                if link.held is not None:
                    link.held.extend(data)
                    continue
                link.to_app.write(data)
                await link.to_app.drain()
            if link.held:
                link.to_app.write(link.held)
                await link.to_app.drain()
        link.server_hung_up.set()
        if not self.hold_hangups:
            link.to_app.close()

    async def close(self) -> None:
        for task in list(self._pipes):
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)
        for link in self.links:
            link.to_app.close()


@asynccontextmanager
async def running_relay(database_url: str) -> AsyncIterator[tuple[Relay, str]]:
    """A relay in front of `database_url`'s server; yields it and the URL that goes through it.

    Without TLS on PostgreSQL: the relay reads what the server says."""
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        url = url.update_query_dict({"ssl": "disable"})
    relay = Relay(url.host or "127.0.0.1", url.port or 5432)
    server = await asyncio.start_server(relay.accept, "127.0.0.1", 0)
    port: int = server.sockets[0].getsockname()[1]
    try:
        yield relay, url.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
    finally:
        server.close()
        await relay.close()
        await server.wait_closed()
