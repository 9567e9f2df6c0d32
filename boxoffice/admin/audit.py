"""The audit log: written in the same session, so an entry commits or rolls back with its change."""

import json
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.admin.models import AuditEntry


class AuditAction(StrEnum):
    ADMIN_CREATED = "admin.created"
    USER_ROLE_CHANGED = "user.role_changed"
    USER_BANNED = "user.banned"
    USER_UNBANNED = "user.unbanned"
    EVENT_CANCELLED = "event.cancelled"
    EVENT_DELETED = "event.deleted"
    BOOKING_CANCELLED_BY_ADMIN = "booking.cancelled_by_admin"


class TargetType(StrEnum):
    USER = "user"
    EVENT = "event"
    BOOKING = "booking"


async def record(
    session: AsyncSession,
    *,
    actor_id: int | None,
    action: AuditAction,
    target_type: TargetType,
    target_id: int,
    **detail: Any,
) -> None:
    session.add(
        AuditEntry(
            actor_id=actor_id,
            action=action,
            target_type=target_type,
            target_id=target_id,
            detail=json.dumps(detail, sort_keys=True, default=str),
        )
    )
    await session.flush()
