from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from boxoffice.db import Base, StrEnumText, UTCDateTime, utcnow


class AuthSession(Base):
    """One login: its access tokens and its family of rotating refresh tokens.

    Revocation lives here, in the database, so that a logout or a ban is seen at once by every
    server process.
    """

    __tablename__ = "auth_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("users.id"), index=True)
    # The jti of the only refresh token of this family that may still be used.
    refresh_jti: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class TokenPurpose(StrEnum):
    VERIFY_EMAIL = "verify_email"
    PASSWORD_RESET = "password_reset"


# How long the link of each message works (SPEC §13).
TOKEN_VALIDITY = {
    TokenPurpose.VERIFY_EMAIL: timedelta(hours=48),
    TokenPurpose.PASSWORD_RESET: timedelta(hours=1),
}


class AccountToken(Base):
    """A one-time token sent in a link: only its SHA-256 is kept, so that the table (or a copy
    of it) opens no account. Used once (`used_at`), until `expires_at`; a newer token of the same
    user and purpose ends the older ones by moving their `expires_at` to its own start.

    `user_id` is null for a decoy: a reset asked for an address nobody has writes one too, so
    that the answer costs the same whether the address is known or not. Nothing redeems it.
    """

    __tablename__ = "account_tokens"
    __table_args__ = (
        CheckConstraint("purpose IN ('verify_email', 'password_reset')", name="purpose_known"),
        Index("ix_account_tokens_user", "user_id", "purpose", "expires_at"),
        # Housekeeping deletes what has expired.
        Index("ix_account_tokens_expires_at", "expires_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("users.id"), default=None)
    purpose: Mapped[TokenPurpose] = mapped_column(StrEnumText(TokenPurpose, 16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
