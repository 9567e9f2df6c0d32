"""API keys (SPEC §12): made and shown once, listed without the secret, revoked; their uses
noted. Authentication by a key is `auth.service.authenticate`'s, beside the session check."""

import logging
from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from boxoffice.apikeys.errors import TooManyApiKeys
from boxoffice.apikeys.models import ApiKey, in_force
from boxoffice.apikeys.schemas import ApiKeyCreated
from boxoffice.db import changed_one, transaction, utcnow
from boxoffice.errors import NotFound, Unprocessable
from boxoffice.keys import API_KEY, USE_PRECISION, key_hash

logger = logging.getLogger(__name__)

# Keys in force per account. Enough for every script a person runs; a bound on what a runaway
# one can pile up. Two requests racing at the cap may both pass: it is a bound, not a quota.
MAX_KEYS_PER_USER = 20


async def create(
    session: AsyncSession, user_id: int, *, name: str, expires_at: datetime | None
) -> ApiKeyCreated:
    now = utcnow()
    if expires_at is not None and expires_at <= now:
        why = "must be in the future: the key would never work"
        raise Unprocessable(
            f"expires_at: {why}", errors=[{"loc": ["body", "expires_at"], "msg": why}]
        )
    working = await session.scalar(
        select(func.count()).where(ApiKey.user_id == user_id, *in_force(now))
    )
    if working is not None and working >= MAX_KEYS_PER_USER:
        raise TooManyApiKeys(
            f"you have {MAX_KEYS_PER_USER} API keys, the most an account may have;"
            " revoke one you no longer use first"
        )
    key = API_KEY.new()
    made = ApiKey(
        user_id=user_id, name=name, key_hash=key_hash(key), created_at=now, expires_at=expires_at
    )
    session.add(made)
    await session.flush()
    return ApiKeyCreated(
        id=made.id, name=made.name, created_at=made.created_at, expires_at=made.expires_at, key=key
    )


async def keys_of(session: AsyncSession, user_id: int, *, revoked: bool = False) -> list[ApiKey]:
    """The user's keys, oldest first: those not revoked (expired ones too, so that their owner
    sees why a script stopped), or with `revoked` every one ever made (the export)."""
    query = select(ApiKey).where(ApiKey.user_id == user_id).order_by(ApiKey.id)
    if not revoked:
        query = query.where(ApiKey.revoked_at.is_(None))
    return list(await session.scalars(query))


async def revoke(session: AsyncSession, user_id: int, key_id: int) -> None:
    """The key stops working with the next request, in every process (authentication reads it
    from the database each time). 404 for a key of someone else, as for one that never was."""
    revoked = await changed_one(
        session,
        update(ApiKey)
        .where(ApiKey.id == key_id, ApiKey.user_id == user_id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=utcnow()),
    )
    if not revoked:
        raise NotFound(f"you have no API key {key_id}")


async def revoke_all(session: AsyncSession, user_id: int) -> None:
    """Every key of the user stops working (a ban, an erasure): lifting a ban later does not
    bring them back, as it does not bring back the sessions. After the user's row and their
    sessions, in the lock order of docs/architecture.md."""
    await session.execute(
        update(ApiKey)
        .where(ApiKey.user_id == user_id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


async def note_use(sessionmaker: async_sessionmaker[AsyncSession], key_id: int) -> None:
    """Notes that the key was used now, unless a use within the last minute was noted already
    (by another request or process: the condition is in the UPDATE).

    Run after the request's transaction has ended (`db.after_transaction`), in a transaction of
    its own that locks the key's row and nothing else. So it never waits for a lock while
    holding another one, and no request waits for it while holding one: it cannot deadlock with
    a booking's locks (nor with a ban or an erasure, which lock the user's row before the keys),
    and it adds nothing to the lock order of `bookings/seats.py`. In the request itself it could
    not be written anyway where a GET's session only reads (PostgreSQL)."""
    now = utcnow()
    try:
        async with transaction(sessionmaker) as session:
            await session.execute(
                update(ApiKey)
                .where(
                    ApiKey.id == key_id,
                    or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < now - USE_PRECISION),
                )
                .values(last_used_at=now)
            )
    except (SQLAlchemyError, OSError):
        # The request's own work is done, and a last use is a hint: the next use notes it again.
        logger.warning("could not note the use of API key %s", key_id, exc_info=True)
