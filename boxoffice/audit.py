"""The audit log: who changed what. Every domain records the same way, with `record`, in the
session of the change itself, so an entry commits or rolls back with what it records."""

from collections.abc import Collection, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, Integer, String, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from boxoffice.db import Base, JSONText, UTCDateTime, utcnow


class TargetType(StrEnum):
    USER = "user"
    EVENT = "event"
    BOOKING = "booking"


class AuditAction(StrEnum):
    ADMIN_CREATED = "admin.created"
    USER_ROLE_CHANGED = "user.role_changed"
    USER_BANNED = "user.banned"
    USER_UNBANNED = "user.unbanned"
    EVENT_CANCELLED = "event.cancelled"
    EVENT_DELETED = "event.deleted"
    BOOKING_CANCELLED_BY_ADMIN = "booking.cancelled_by_admin"
    USER_ERASED = "user.erased"

    @property
    def target_type(self) -> TargetType:
        # The action names what it acts on: "event.cancelled" targets an event. An admin
        # created is a user.
        subject = self.value.split(".", 1)[0]
        return TargetType.USER if subject == "admin" else TargetType(subject)


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_actor", "actor_id", "id"),
        Index("ix_audit_log_action", "action", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A user's id, or NULL for changes made from the command line, where nobody is signed in.
    # No foreign key: on InnoDB its check would make every audited change wait on the actor's
    # user row, and two admins changing each other would deadlock. Users are never deleted.
    actor_id: Mapped[int | None] = mapped_column(Integer, default=None)
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[int] = mapped_column(Integer)
    # Keys sorted, so that an entry reads in the same order whatever order it was recorded in.
    detail: Mapped[dict[str, Any]] = mapped_column(
        JSONText(sort_keys=True, default=str), default=dict
    )


async def record(
    session: AsyncSession,
    action: AuditAction,
    *,
    actor_id: int | None,
    target_id: int,
    **detail: object,
) -> None:
    """Adds an entry to the change's own transaction; `actor_id` None means the command line."""
    session.add(
        AuditEntry(
            actor_id=actor_id,
            action=action,
            target_type=action.target_type,
            target_id=target_id,
            detail=detail,
        )
    )
    await session.flush()


def _about(target_type: TargetType, ids: Collection[int]) -> Any:
    return and_(AuditEntry.target_type == target_type, AuditEntry.target_id.in_(ids))


async def entries_about(
    session: AsyncSession, user_id: int, *, bookings: Collection[int], events: Collection[int]
) -> Sequence[AuditEntry]:
    """What the log says about a person: their account, their bookings and their events;
    oldest first."""
    found = await session.scalars(
        select(AuditEntry)
        .where(
            or_(
                _about(TargetType.USER, [user_id]),
                _about(TargetType.BOOKING, bookings),
                _about(TargetType.EVENT, events),
            )
        )
        .order_by(AuditEntry.id)
    )
    return found.all()


ERASED_VALUE = "[erased]"


async def scrub(session: AsyncSession, user_id: int, values: Collection[str]) -> None:
    """Takes an erased person's address and name out of the details of the entries about them
    or made by them; the entries themselves, who did what and when, stay."""
    found = await session.scalars(
        select(AuditEntry).where(
            or_(_about(TargetType.USER, [user_id]), AuditEntry.actor_id == user_id)
        )
    )
    for entry in found:
        scrubbed = _scrubbed(entry.detail, values)
        if scrubbed != entry.detail:
            entry.detail = scrubbed
    await session.flush()


def _scrubbed(value: Any, erased: Collection[str]) -> Any:
    if isinstance(value, str):
        for gone in erased:
            value = value.replace(gone, ERASED_VALUE)
        return value
    if isinstance(value, dict):
        return {key: _scrubbed(item, erased) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrubbed(item, erased) for item in value]
    return value
