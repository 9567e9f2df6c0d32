"""Real `boxoffice serve` processes, for tests about several processes sharing one database."""

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import ExitStack, asynccontextmanager, contextmanager
from typing import IO

import httpx
from aiohttp import web

from boxoffice.settings import Settings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def running_server(
    env: dict[str, str],
    *,
    workers: int = 1,
    startup_seconds: float = 30,
    sends_mail: bool = False,
) -> Iterator[str]:
    """Starts `boxoffice serve` (with `workers` processes) with these settings; yields its URL."""
    args = ("--workers", str(workers))
    with server_process(env, *args, startup_seconds=startup_seconds, sends_mail=sends_mail) as (
        _,
        base_url,
    ):
        yield base_url


@contextmanager
def server_process(
    env: dict[str, str],
    *args: str,
    startup_seconds: float = 30,
    command: Sequence[str] = (sys.executable, "-m", "boxoffice.cli", "serve"),
    cwd: str | None = None,
    sends_mail: bool = False,
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`boxoffice serve` with these settings and extra arguments (`--workers 2`); yields the
    process, for tests that signal it, and its base URL. `command` may be another installation's
    (`.../venv/bin/boxoffice serve --host ...`); `--port` is added.

    The notification worker inside `serve` is off unless `sends_mail` (then `env` decides, as in
    production): servers of other tests, still up on the same database, would otherwise send a
    test's messages before the server it watches does."""
    port = free_port()
    if not sends_mail:
        env = {"BOXOFFICE_WORKER_ENABLED": "false", **env}
    # A file, not a pipe: a pipe nobody reads fills up and stalls the server's logging.
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [*command, "--port", str(port), *args],
            env={**os.environ, "BOXOFFICE_LOG_LEVEL": "WARNING", **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=cwd,
        )
        yield from _serve(process, port, log, startup_seconds)


def _serve(
    process: subprocess.Popen[bytes], port: int, log: IO[bytes], startup_seconds: float
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(process, log, f"{base_url}/healthz", startup_seconds)
        yield process, base_url
    finally:
        process.terminate()
        try:
            # As long as serve may take by its own promise: a busy machine stretches a stop,
            # and a kill before then skips the clean-up some tests check (the metrics folder).
            process.wait(timeout=Settings.model_fields["shutdown_grace_seconds"].default + 5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def running_servers(env: dict[str, str], count: int) -> Iterator[list[str]]:
    with ExitStack() as stack:
        yield [stack.enter_context(running_server(env)) for _ in range(count)]


def wait_until_answering(
    process: subprocess.Popen[bytes], log: IO[bytes], url: str, seconds: float
) -> None:
    """Until a GET of `url` answers 200; the process's output in the error if it exits first."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            output = log.read().decode(errors="replace")
            raise RuntimeError(f"server exited with {process.returncode}: {output[-2000:]}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


@asynccontextmanager
async def receiving(
    path: str, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> AsyncIterator[str]:
    """An HTTP server on 127.0.0.1, in this event loop, that hands every POST to `path` to
    `handler`, for as long as the block runs; its URL."""
    port = free_port()
    app = web.Application()
    app.router.add_post(path, handler)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", port).start()
        yield f"http://127.0.0.1:{port}{path}"
    finally:
        await runner.cleanup()
