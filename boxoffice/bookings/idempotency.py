"""Idempotency-Key for POST /bookings: a retried request returns the first answer, books nothing.

The key is claimed in a transaction of its own and committed at once, so that a repeat arriving
while the first request still runs sees the claim (409 request_in_progress) in any process. The
answer is stored in the request's own transaction, together with the booking it describes: both
commit or neither does.
"""

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from boxoffice.bookings.errors import IdempotencyKeyReused, RequestInProgress
from boxoffice.bookings.models import IdempotencyRecord
from boxoffice.db import transaction, utcnow
from boxoffice.errors import PROBLEM_JSON, DomainError, problem_body

KEPT_FOR = timedelta(hours=24)
# A claim this old whose request never finished (its process died) may be taken over.
ABANDONED_AFTER = timedelta(seconds=60)
# Refusals of the account (a ban may be lifted), conflicts, rate limits and server errors are
# answers of the moment: a retry may do better.
_NOT_REMEMBERED = {401, 403, 409, 429}


@dataclass(frozen=True)
class Answer:
    """What a request answered, as it is remembered: the router turns it into a response."""

    status: int
    body: dict[str, Any]

    @property
    def media_type(self) -> str:
        return PROBLEM_JSON if self.status >= 400 else "application/json"


def fingerprint(method: str, path: str, body: dict[str, Any]) -> str:
    canonical = json.dumps([method, path, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


async def run_once(
    sessionmaker: async_sessionmaker[AsyncSession],
    session: AsyncSession,
    *,
    user_id: int,
    key: str | None,
    request_fingerprint: str,
    action: Callable[[], Awaitable[Answer]],
) -> Answer:
    if key is None:
        return await action()
    # So far the request has only read (authentication). Ending that transaction gives its
    # connection back before the claim takes one of its own: otherwise, with as many keyed
    # requests in flight as the pool has connections, each would hold one and wait for a
    # second until the pool timed out.
    await session.commit()
    claimed = await _claim(sessionmaker, user_id, key, request_fingerprint)
    if isinstance(claimed, Answer):
        return claimed
    try:
        answer = await action()
    except BaseException as error:
        # End the request's transaction now, so that its locks cannot hold up settling the
        # claim (on SQLite it would hold the only write lock): lost, but for the changes a
        # refusal keeps (holds it reclaimed).
        if isinstance(error, DomainError) and error.keeps_changes:
            await session.commit()
        else:
            await session.rollback()
        if isinstance(error, DomainError):
            await _settle_failure(sessionmaker, claimed, error)
        else:
            await _release(sessionmaker, claimed)
        raise
    await session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.id == claimed)
        .values(status_code=answer.status, response_body=answer.body)
    )
    return answer


async def _claim(
    sessionmaker: async_sessionmaker[AsyncSession], user_id: int, key: str, request_fingerprint: str
) -> int | Answer:
    now = utcnow()
    try:
        async with transaction(sessionmaker) as session:
            await session.execute(
                delete(IdempotencyRecord).where(
                    IdempotencyRecord.user_id == user_id,
                    IdempotencyRecord.key == key,
                    IdempotencyRecord.created_at < now - KEPT_FOR,
                )
            )
            record = IdempotencyRecord(
                user_id=user_id, key=key, fingerprint=request_fingerprint, created_at=now
            )
            session.add(record)
            await session.flush()
            return record.id
    except IntegrityError:
        pass
    async with transaction(sessionmaker) as session:
        existing = (
            await session.scalars(
                select(IdempotencyRecord).where(
                    IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key
                )
            )
        ).one()
        if existing.fingerprint != request_fingerprint:
            raise IdempotencyKeyReused(
                "this Idempotency-Key was used with a different request; use a new key"
            )
        if existing.status_code is not None and existing.response_body is not None:
            return Answer(existing.status_code, existing.response_body)
        if existing.created_at < now - ABANDONED_AFTER:
            existing.created_at = now
            return existing.id
    raise RequestInProgress(
        "a request with this Idempotency-Key is still being processed; retry shortly",
        headers={"Retry-After": "1"},
    )


async def _settle_failure(
    sessionmaker: async_sessionmaker[AsyncSession], record_id: int, error: DomainError
) -> None:
    if error.status in _NOT_REMEMBERED or error.status >= 500:
        await _release(sessionmaker, record_id)
        return
    body = problem_body(error.status, error.code, error.detail, **error.extra)
    async with transaction(sessionmaker) as session:
        await session.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.id == record_id)
            .values(status_code=error.status, response_body=body)
        )


async def _release(sessionmaker: async_sessionmaker[AsyncSession], record_id: int) -> None:
    async with transaction(sessionmaker) as session:
        await session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == record_id))


async def prune(session: AsyncSession, now: datetime) -> int:
    """Deletes the records older than KEPT_FOR (housekeeping); how many there were."""
    result = await session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.created_at < now - KEPT_FOR)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
