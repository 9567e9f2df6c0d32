from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from boxoffice.db import Base, StrEnumText, UTCDateTime, utcnow


class Role(StrEnum):
    ATTENDEE = "attendee"
    ORGANIZER = "organizer"
    ADMIN = "admin"


def normalize_email(email: str) -> str:
    """An address as stored, and as every lookup and per-account count must spell it."""
    return email.strip().lower()


# What is left of an erased account (SPEC §13): a name that says so, and an address in the
# top-level domain RFC 2606 reserves as never deliverable. Registration refuses that domain, so
# an address in it can only be an erased account's, and no message is ever sent to it.
ERASED_NAME = "Deleted user"
ERASED_DOMAIN = "invalid"


def erased_email(user_id: int) -> str:
    """An erased account's address: unique, as the column must be, and never deliverable."""
    return f"erased-{user_id}@{ERASED_DOMAIN}"


def is_erased_address(email: str) -> bool:
    return email.endswith(f"@{ERASED_DOMAIN}")


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('attendee', 'organizer', 'admin')", name="role_known"),
        Index("ix_users_role_id", "role", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Stored lower-cased, so that the unique index makes e-mail case-insensitive on every engine.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(StrEnumText(Role), default=Role.ATTENDEE)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Set by following the link of a `verify_email` message (or of a password reset, which
    # proves the same): until then the address may not be the owner's.
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    # What the owner agreed to be told besides bookings, payments and cancellations.
    notify_reminders: Mapped[bool] = mapped_column(Boolean, default=True)
    notify_changes: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
