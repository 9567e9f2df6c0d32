from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from boxoffice.db import Base, UTCDateTime, utcnow


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
    # A JSON object; TEXT rather than JSON so that it reads the same on every engine.
    detail: Mapped[str] = mapped_column(Text, default="{}")
