"""Where messages go: the log (development) or an SMTP server."""

import sys
from email.message import EmailMessage
from typing import Protocol, TextIO

import aiosmtplib

from boxoffice.settings import EmailBackend, Settings


class SendFailed(Exception):
    """The message did not go out; the worker retries it later."""


class Backend(Protocol):
    async def send(self, message: EmailMessage) -> None: ...


class ConsoleBackend:
    """Writes each message, readable, to the process's log stream (standard error by default):
    its headers, its plain-text part and the names of its other parts."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    async def send(self, message: EmailMessage) -> None:
        lines = ["", "-" * 72]
        lines += [f"{name}: {value}" for name, value in message.items() if name != "Content-Type"]
        text = message.get_body(("plain",))
        if text is not None:
            lines += ["", text.get_content().rstrip()]
        others = [
            f"{part.get_content_type()} {part.get_filename() or ''}".rstrip()
            for part in message.walk()
            if not part.is_multipart() and part is not text
        ]
        lines += ["", f"[other parts: {', '.join(others)}]" if others else "", "-" * 72, ""]
        stream = self.stream or sys.stderr
        stream.write("\n".join(lines))
        stream.flush()


class SmtpBackend:
    """One connection per message: STARTTLS and login when configured, every step timed out."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def send(self, message: EmailMessage) -> None:
        settings = self.settings
        username, password = settings.smtp_username, settings.smtp_password
        login = username is not None and password is not None
        try:
            await aiosmtplib.send(
                message,
                hostname=settings.smtp_host,
                port=settings.smtp_port,
                username=username if login else None,
                password=password.get_secret_value() if login and password else None,
                start_tls=settings.smtp_starttls,
                timeout=settings.smtp_timeout_seconds,
            )
        except (aiosmtplib.SMTPException, OSError) as error:
            raise SendFailed(f"{type(error).__name__}: {error}") from error


def backend_for(settings: Settings) -> Backend:
    if settings.email_backend is EmailBackend.SMTP:
        return SmtpBackend(settings)
    return ConsoleBackend()
