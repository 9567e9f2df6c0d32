"""`boxoffice serve` as a deployment runs it: real processes, real sockets."""

import time
from pathlib import Path

import httpx

from tests.servers import running_server


def test_keep_alive_requests_to_several_workers_are_answered_without_delay(
    tmp_path: Path,
) -> None:
    # With Nagle's algorithm left on, each answer waited for the client's delayed ACK: 40 ms or
    # more per request, 400+ ms for these ten, whatever the machine. Without it, a few ms.
    env = {"BOXOFFICE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}"}
    # Start-up alone can take long on a busy machine; only the requests are timed.
    with (
        running_server(env, workers=2, startup_seconds=120) as url,
        httpx.Client(base_url=url) as client,
    ):
        assert client.get("/healthz").status_code == 200  # the connection is open
        started = time.perf_counter()
        for _ in range(10):
            assert client.get("/healthz").status_code == 200
        elapsed = time.perf_counter() - started

    assert elapsed < 0.4, f"10 sequential requests took {elapsed * 1000:.0f} ms"
