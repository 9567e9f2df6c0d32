from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, ForeignKey, Index, Integer, String, or_
from sqlalchemy.orm import Mapped, mapped_column

from boxoffice.db import Base, UTCDateTime, utcnow


class ApiKey(Base):
    """A key that acts as its owner, for scripts (SPEC §12). Only its SHA-256 is kept
    (`boxoffice.keys`). A revoked key keeps its row, so that the owner's export still lists it;
    authentication joins the owner's row, so a ban or an erasure stops every key at once."""

    __tablename__ = "api_keys"
    __table_args__ = (Index("ix_api_keys_user", "user_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(100))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


def in_force(now: Any) -> tuple[ColumnElement[bool], ...]:
    """A key that works at `now` (a datetime, or a bound parameter of a statement built once)."""
    return (
        ApiKey.revoked_at.is_(None),
        or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > now),
    )
