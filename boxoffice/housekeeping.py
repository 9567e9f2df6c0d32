"""Deleting what nobody needs any more, every domain's share of it in one transaction.

The notification worker runs it every BOXOFFICE_HOUSEKEEPING_INTERVAL_SECONDS; any number of
workers may, since each deletion is idempotent.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from boxoffice.auth import service as auth_service
from boxoffice.bookings import idempotency
from boxoffice.db import transaction
from boxoffice.notifications import repository as outbox_repository
from boxoffice.settings import Settings

logger = logging.getLogger("boxoffice.housekeeping")


@dataclass(frozen=True)
class Pruned:
    notifications: int
    idempotency_records: int
    sessions: int
    account_tokens: int


async def run(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], *, now: datetime
) -> Pruned:
    """Deletes sent notifications older than BOXOFFICE_SENT_NOTIFICATIONS_KEEP_DAYS, expired
    idempotency records, and sessions ended (revoked or expired) more than
    BOXOFFICE_ENDED_SESSIONS_KEEP_DAYS ago, and account tokens that can no longer be used."""
    async with transaction(sessionmaker) as session:
        notifications = await outbox_repository.prune_sent(
            session, now - timedelta(days=settings.sent_notifications_keep_days)
        )
        records = await idempotency.prune(session, now)
        sessions = await auth_service.prune_ended_sessions(
            session, now - timedelta(days=settings.ended_sessions_keep_days)
        )
        account_tokens = await auth_service.prune_account_tokens(session, now)
    pruned = Pruned(notifications, records, sessions, account_tokens)
    if notifications or records or sessions or account_tokens:
        logger.info("housekeeping", extra={"pruned": vars(pruned)})
    return pruned
