from collections.abc import Iterator

import pytest

from boxoffice.settings import EmailBackend, Settings
from tests.conftest import make_settings
from tests.notifications.smtp import Mailbox, SmtpServer
from tests.servers import free_port


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    with SmtpServer(free_port()) as server:
        yield server


@pytest.fixture
def mailbox(smtp_server: SmtpServer) -> Mailbox:
    return smtp_server.mailbox


@pytest.fixture
def smtp_settings(database_url: str, smtp_server: SmtpServer) -> Settings:
    """The test settings, sending to the test's SMTP server."""
    return make_settings(
        database_url,
        email_backend=EmailBackend.SMTP,
        smtp_host="127.0.0.1",
        smtp_port=smtp_server.port,
        smtp_timeout_seconds=10,
        email_from="boxoffice <tickets@boxoffice.test>",
        email_max_attempts=3,
        # With a path and a trailing slash: links must still come out with one slash.
        public_url="https://tickets.example.org/box/",
    )
