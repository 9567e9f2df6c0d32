"""A small HTTP/1.1 load driver: keep-alive connections, prebuilt requests, raw sockets.

httpx on the same two cores as the server spent more CPU per request than the server's trivial
routes, so it measured itself. This driver sends prebuilt request bytes over N keep-alive
connections (N requests in flight), reads only the status line, the headers it needs and the
body, and records each request's latency. It also records its own CPU time: a share near 1.0
of a core means the driver, not the server, was the limit, and the figure is a floor.
"""

import asyncio
import json
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit


def request(
    method: str, path: str, headers: dict[str, str] | None = None, body: Any = None
) -> bytes:
    """The bytes of one request; `body`, if given, is sent as JSON."""
    lines = [f"{method} {path} HTTP/1.1", "Host: bench"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    payload = b"" if body is None else json.dumps(body).encode()
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


def machine_busy_seconds() -> float:
    """CPU time every core of the machine has spent busy since boot (/proc/stat)."""
    with open("/proc/stat") as stat:
        fields = stat.readline().split()
    user, nice, system, _idle, _iowait, irq, softirq = (int(f) for f in fields[1:8])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


@dataclass
class Outcome:
    seconds: float
    client_cpu_seconds: float
    latencies: list[float]
    statuses: list[int]
    bodies: list[bytes] = field(default_factory=list)
    # CPU the whole machine spent meanwhile: server, database, the driver, anything else.
    machine_cpu_seconds: float = 0.0
    # After the last answer, until the server's mail workers had sent what the requests queued
    # (bookings only): how long, and the machine's CPU meanwhile.
    mail_seconds: float = 0.0
    mail_machine_cpu_seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return len(self.statuses) / self.seconds

    def percentile_ms(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000

    def summary(self) -> dict[str, float]:
        return {
            "requests": len(self.statuses),
            "seconds": round(self.seconds, 3),
            "per_second": round(self.per_second, 1),
            "p50_ms": round(self.percentile_ms(0.50), 2),
            "p99_ms": round(self.percentile_ms(0.99), 2),
            # Share of one core the driver used while it ran: near 1.0, the driver was the limit.
            "client_cpu": round(self.client_cpu_seconds / self.seconds, 2),
            # What a request cost the server and its database (the machine minus the driver):
            # with C cores, C seconds of it per second is as fast as the machine can go.
            "cpu_ms_per_request": self._cpu_ms_per_request(0.0),
            "mail_seconds": round(self.mail_seconds, 2),
            # The same, with the mail the requests caused: a booking's full cost.
            "cpu_ms_per_request_with_mail": self._cpu_ms_per_request(self.mail_machine_cpu_seconds),
        }

    def _cpu_ms_per_request(self, more: float) -> float:
        spent = self.machine_cpu_seconds + more - self.client_cpu_seconds
        return round(spent / len(self.statuses) * 1000, 2)


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def exchange(self, message: bytes) -> tuple[int, bytes]:
        self.writer.write(message)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
                break
        body = await self.reader.readexactly(length) if length else b""
        return status, body

    def close(self) -> None:
        self.writer.close()


async def _connect(base_url: str) -> _Connection:
    parts = urlsplit(base_url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    return _Connection(reader, writer)


async def drive(
    base_url: str, messages: Sequence[bytes], in_flight: int, *, keep_bodies: bool = False
) -> Outcome:
    """Sends every message once, `in_flight` at a time, each connection taking the next one."""
    connections = [await _connect(base_url) for _ in range(min(in_flight, len(messages)))]
    latencies = [0.0] * len(messages)
    statuses = [0] * len(messages)
    bodies = [b""] * len(messages) if keep_bodies else []
    queue = iter(range(len(messages)))

    async def work(connection: _Connection) -> None:
        for index in queue:
            started = time.perf_counter()
            statuses[index], body = await connection.exchange(messages[index])
            latencies[index] = time.perf_counter() - started
            if keep_bodies:
                bodies[index] = body

    cpu, busy, started = time.process_time(), machine_busy_seconds(), time.perf_counter()
    try:
        await asyncio.gather(*(work(connection) for connection in connections))
    finally:
        for connection in connections:
            connection.close()
    return Outcome(
        seconds=time.perf_counter() - started,
        client_cpu_seconds=time.process_time() - cpu,
        latencies=latencies,
        statuses=statuses,
        bodies=bodies,
        machine_cpu_seconds=machine_busy_seconds() - busy,
    )


async def probe(base_url: str, message: bytes, stop: asyncio.Event, pause: float) -> list[float]:
    """Sends `message` on one connection, one at a time with `pause` between, until `stop`."""
    connection = await _connect(base_url)
    latencies: list[float] = []
    try:
        while not stop.is_set():
            started = time.perf_counter()
            status, _ = await connection.exchange(message)
            latencies.append(time.perf_counter() - started)
            assert status == 200, status
            await asyncio.sleep(pause)
    finally:
        connection.close()
    return latencies


@contextmanager
def pinned_to_one_core() -> Iterator[int]:
    """Keeps the driver on the last core while it runs, so it can starve at most that one."""
    allowed = os.sched_getaffinity(0)
    core = max(allowed)
    os.sched_setaffinity(0, {core})
    try:
        yield core
    finally:
        os.sched_setaffinity(0, allowed)
