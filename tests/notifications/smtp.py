"""A real SMTP server (aiosmtpd) for the tests, with knobs to refuse or stall."""

import asyncio
import email
import email.policy
import threading
import time
from collections import Counter
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


class Mailbox:
    """The server's handler: keeps what it accepted, parsed; refuses or stalls when told."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refusals = 0
        self.refuse_next = 0
        self.refuse_always = False
        self.stalled = 0
        self._lock = threading.Lock()
        self._flowing = threading.Event()
        self._flowing.set()

    def stall(self) -> None:
        self._flowing.clear()

    def flow(self) -> None:
        self._flowing.set()

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802
        with self._lock:
            if self.refuse_always or self.refuse_next > 0:
                self.refuse_next = max(0, self.refuse_next - 1)
                self.refusals += 1
                return "451 4.3.0 Try again later"
        if not self._flowing.is_set():
            with self._lock:
                self.stalled += 1
            await asyncio.to_thread(self._flowing.wait)
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        with self._lock:
            self.messages.append(parsed)
        return "250 2.0.0 OK"

    def message_ids(self) -> Counter[str]:
        with self._lock:
            return Counter(str(m["Message-ID"]) for m in self.messages)

    def wait_for(self, count: int, seconds: float = 30) -> list[EmailMessage]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.02)
        raise AssertionError(f"{len(self.messages)} messages arrived, not {count}")


class SmtpServer:
    def __init__(self, port: int) -> None:
        self.mailbox = Mailbox()
        self.port = port
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=port)

    def __enter__(self) -> "SmtpServer":
        self.controller.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.mailbox.flow()
        self.controller.stop()
