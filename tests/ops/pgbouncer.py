"""PgBouncer (Debian's `pgbouncer` package) in transaction mode, in front of the test PostgreSQL."""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from sqlalchemy.engine import make_url

from tests.servers import free_port

BINARY_PLACES = ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer")


def find_binary() -> str | None:
    return shutil.which("pgbouncer") or next(
        (place for place in BINARY_PLACES if os.access(place, os.X_OK)), None
    )


@contextmanager
def running_pgbouncer(binary: str, database_url: str) -> Iterator[str]:
    """Starts PgBouncer on a spare port; yields `database_url` pointed at it."""
    server = make_url(database_url)
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="boxoffice-pgbouncer-") as folder:
        config = Path(folder)
        # PgBouncer refuses to run as root; it drops to the postgres user, who must read these.
        config.chmod(0o755)
        (config / "userlist.txt").write_text(f'"{server.username}" ""\n')
        (config / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"* = host={server.host or '127.0.0.1'} port={server.port or 5432}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {config / 'userlist.txt'}\n"
            "pool_mode = transaction\n"
            # Fewer server connections than the two processes' pools hold: they must share.
            "default_pool_size = 8\nmax_client_conn = 1000\n"
            "ignore_startup_parameters = extra_float_digits\n"
        )
        for file in config.iterdir():
            file.chmod(0o644)
        as_user = ["-u", "postgres"] if os.geteuid() == 0 and _has_user("postgres") else []
        with tempfile.TemporaryFile() as log:
            process = subprocess.Popen(
                [binary, *as_user, str(config / "pgbouncer.ini")],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                _wait_for_port(process, log, port)
                yield server.set(port=port).render_as_string(hide_password=False)
            finally:
                process.terminate()
                process.wait(timeout=10)


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _wait_for_port(process: subprocess.Popen[bytes], log: IO[bytes], port: int) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"pgbouncer exited: {log.read().decode(errors='replace')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("pgbouncer did not listen within 15 s")
