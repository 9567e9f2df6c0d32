"""Helpers for the operations tests: scraping /metrics, finding a server's worker processes."""

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

Sample = tuple[str, frozenset[tuple[str, str]]]


def parse_metrics(text: str) -> dict[Sample, float]:
    """Every sample of a Prometheus text exposition, keyed by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: dict[Sample, float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def scrape(base_url: str) -> dict[Sample, float]:
    answer = httpx.get(f"{base_url}/metrics", timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return parse_metrics(answer.text)


def workers_of(pid: int) -> list[int]:
    """The worker processes a `serve --workers N` started (spawned by multiprocessing; its
    resource tracker is a child too, but not a worker), from /proc."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            try:
                command = Path(f"/proc/{child}/cmdline").read_bytes()
            except FileNotFoundError:
                continue
            if b"spawn_main" in command:
                found.append(int(child))
    return found


def environment_of(pid: int) -> dict[str, str]:
    pairs = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(p.decode().split("=", 1) for p in pairs if b"=" in p)


def wait_for(condition_name: str, check: Callable[[], bool], seconds: float = 30) -> None:
    """Polls `check()` until it is true, failing after `seconds`."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{condition_name}: not within {seconds} s")
        time.sleep(0.05)


async def wait_until(condition_name: str, check: Callable[[], bool], seconds: float = 30) -> None:
    """`wait_for` for a test whose event loop must keep running meanwhile."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{condition_name}: not within {seconds} s")
        await asyncio.sleep(0.01)


def is_directory(path: Path) -> bool:
    return path.is_dir()
