"""Real `boxoffice worker` processes, for tests about several workers and about crashes."""

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import IO

from tests.conftest import TEST_SECRET


def worker_env(database_url: str, smtp_port: int, **settings: str) -> dict[str, str]:
    env = {
        "BOXOFFICE_DATABASE_URL": database_url,
        "BOXOFFICE_SECRET_KEY": TEST_SECRET,
        "BOXOFFICE_EMAIL_BACKEND": "smtp",
        "BOXOFFICE_SMTP_HOST": "127.0.0.1",
        "BOXOFFICE_SMTP_PORT": str(smtp_port),
        "BOXOFFICE_EMAIL_FROM": "boxoffice <tickets@boxoffice.test>",
        "BOXOFFICE_WORKER_POLL_SECONDS": "0.1",
        "BOXOFFICE_WORKER_BATCH_SIZE": "10",
        "BOXOFFICE_LOG_LEVEL": "WARNING",
    }
    return env | {f"BOXOFFICE_{name.upper()}": value for name, value in settings.items()}


class WorkerProcess:
    def __init__(self, env: dict[str, str], log: IO[bytes]) -> None:
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, "-m", "boxoffice.cli", "worker"],
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, as an orchestrator stops it; the exit status."""
        if self.process.poll() is None:
            self.process.terminate()
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()


@contextmanager
def running_workers(env: dict[str, str], count: int) -> Iterator[list[WorkerProcess]]:
    with ExitStack() as stack:
        workers: list[WorkerProcess] = []
        for _ in range(count):
            # A file, not a pipe: a pipe nobody reads fills up and stalls the process.
            log = stack.enter_context(tempfile.TemporaryFile())
            workers.append(WorkerProcess(env, log))
        try:
            yield workers
        finally:
            for worker in workers:
                if worker.process.poll() is None:
                    worker.stop()
