"""Housekeeping prunes what nobody needs any more, and only that."""

from datetime import datetime, timedelta

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice import housekeeping
from boxoffice.auth.models import AccountToken, AuthSession, TokenPurpose
from boxoffice.bookings.models import IdempotencyRecord
from boxoffice.db import utcnow
from boxoffice.notifications.models import Notification, NotificationKind, NotificationStatus
from boxoffice.settings import Settings
from tests.factories import make_user


async def test_old_sent_messages_expired_keys_and_long_ended_sessions_are_pruned(
    app: FastAPI, db: AsyncSession, settings: Settings
) -> None:
    user = await make_user(db)
    now = utcnow()
    long_ago, lately = now - timedelta(days=45), now - timedelta(days=2)

    def message(
        status: NotificationStatus, sent_at: datetime | None, created_at: datetime
    ) -> Notification:
        return Notification(
            kind=NotificationKind.BOOKING_CONFIRMED,
            user_id=user.id,
            status=status,
            attempts=1,
            due_at=created_at,
            created_at=created_at,
            sent_at=sent_at,
        )

    def login(name: str, expires_at: datetime, revoked_at: datetime | None = None) -> AuthSession:
        return AuthSession(
            id=name,
            user_id=user.id,
            refresh_jti=name,
            created_at=long_ago,
            expires_at=expires_at,
            revoked_at=revoked_at,
        )

    db.add_all(
        [
            message(NotificationStatus.SENT, long_ago, long_ago),
            message(NotificationStatus.SENT, lately, long_ago),
            message(NotificationStatus.FAILED, None, long_ago),
            message(NotificationStatus.PENDING, None, long_ago),
            IdempotencyRecord(
                user_id=user.id, key="old", fingerprint="f", created_at=now - timedelta(hours=25)
            ),
            IdempotencyRecord(
                user_id=user.id, key="new", fingerprint="f", created_at=now - timedelta(hours=1)
            ),
            login("expired-long-ago", long_ago),
            login("revoked-long-ago", now + timedelta(days=1), revoked_at=long_ago),
            login("revoked-lately", now + timedelta(days=1), revoked_at=lately),
            login("live", now + timedelta(days=1)),
        ]
    )
    await db.commit()

    pruned = await housekeeping.run(settings, app.state.sessionmaker, now=utcnow())

    assert pruned == housekeeping.Pruned(
        notifications=1, idempotency_records=1, sessions=2, account_tokens=0
    )
    kept = (await db.execute(select(Notification.status, Notification.sent_at))).all()
    assert sorted(status.value for status, _ in kept) == ["failed", "pending", "sent"]
    assert set((await db.scalars(select(IdempotencyRecord.key))).all()) == {"new"}
    assert set((await db.scalars(select(AuthSession.id))).all()) == {"revoked-lately", "live"}


async def test_account_tokens_that_can_no_longer_be_used_are_pruned(
    app: FastAPI, db: AsyncSession, settings: Settings
) -> None:
    user = await make_user(db)
    now = utcnow()

    def token(
        name: str, expires_at: datetime, used_at: datetime | None = None, *, age: timedelta
    ) -> AccountToken:
        return AccountToken(
            user_id=user.id,
            purpose=TokenPurpose.PASSWORD_RESET,
            token_hash=name,
            created_at=now - age,
            expires_at=expires_at,
            used_at=used_at,
        )

    long_ago = timedelta(days=2)
    db.add_all(
        [
            token("expired", now - timedelta(minutes=1), age=long_ago),
            token("used", now + timedelta(minutes=30), now - timedelta(minutes=5), age=long_ago),
            token("live", now + timedelta(minutes=30), age=long_ago),
            # Counted against the day's verification links until it is a day old.
            token("expired-today", now - timedelta(minutes=1), age=timedelta(hours=2)),
        ]
    )
    await db.commit()

    pruned = await housekeeping.run(settings, app.state.sessionmaker, now=utcnow())

    assert pruned.account_tokens == 2
    assert set((await db.scalars(select(AccountToken.token_hash))).all()) == {
        "live",
        "expired-today",
    }
