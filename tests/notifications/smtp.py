"""A real SMTP server (aiosmtpd) for the tests, with knobs to refuse or stall."""

import asyncio
import email
import email.policy
import threading
import time
import warnings
from collections import Counter
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass(frozen=True)
class Delivery:
    """What the server was told besides the message: who it is for, and whether SMTPUTF8."""

    recipients: list[str]
    smtputf8: bool
    content: bytes


class Mailbox:
    """The server's handler: keeps what it accepted, parsed; refuses or stalls when told."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.deliveries: list[Delivery] = []
        self.refusals = 0
        self.refuse_next = 0
        self.refuse_always = False
        self.stalled = 0
        self._lock = threading.Lock()
        self._flowing = threading.Event()
        self._flowing.set()
        self._stalling: str | None = None

    def stall(self, message_id: str | None = None) -> None:
        """Holds every message (or only the one with this Message-ID) until `flow()`."""
        self._stalling = message_id
        self._flowing.clear()

    def flow(self) -> None:
        self._flowing.set()

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802
        with self._lock:
            if self.refuse_always or self.refuse_next > 0:
                self.refuse_next = max(0, self.refuse_next - 1)
                self.refusals += 1
                return "451 4.3.0 Try again later"
        # As text, so that the UTF-8 headers of a message sent with SMTPUTF8 read as written.
        text = envelope.content.decode("utf-8", "surrogateescape")
        parsed = email.message_from_string(text, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        if not self._flowing.is_set() and self._stalling in (None, parsed["Message-ID"]):
            with self._lock:
                self.stalled += 1
            await asyncio.to_thread(self._flowing.wait)
        delivery = Delivery(list(envelope.rcpt_tos), bool(envelope.smtp_utf8), envelope.content)
        with self._lock:
            self.messages.append(parsed)
            self.deliveries.append(delivery)
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
    def __init__(
        self, port: int, *, login: tuple[str, str] | None = None, smtputf8: bool = False
    ) -> None:
        self.mailbox = Mailbox()
        self.port = port
        options: dict[str, Any] = {}
        if login is not None:
            warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
            # Plain-text login on a plain connection: only ever on 127.0.0.1, for the test.
            options = {
                "auth_required": True,
                "auth_require_tls": False,
                "authenticator": _Accepting(*login),
            }
        self.controller = Controller(
            self.mailbox, hostname="127.0.0.1", port=port, enable_SMTPUTF8=smtputf8, **options
        )

    def __enter__(self) -> "SmtpServer":
        self.controller.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.mailbox.flow()
        self.controller.stop()


class _Accepting:
    """An authenticator that knows one user."""

    def __init__(self, username: str, password: str) -> None:
        self.login = LoginPassword(username.encode(), password.encode())

    def __call__(
        self, _server: Any, _session: Any, _envelope: Any, _mechanism: str, data: Any
    ) -> AuthResult:
        return AuthResult(success=isinstance(data, LoginPassword) and data == self.login)
