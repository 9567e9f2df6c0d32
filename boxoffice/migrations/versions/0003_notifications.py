"""notifications outbox

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 20:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from boxoffice.db import UTCDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("claimed_until", UTCDateTime(), nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("message_id", sa.String(length=255), nullable=True),
        sa.CheckConstraint(
            "kind IN ('booking_confirmed', 'waitlist_joined', 'waitlist_promoted',"
            " 'booking_cancelled', 'event_cancelled', 'event_changed', 'reminder')",
            name=op.f("ck_notifications_kind_known"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'failed', 'cancelled')",
            name=op.f("ck_notifications_status_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    op.create_index("ix_notifications_due", "notifications", ["status", "due_at", "id"])
    op.create_index("ix_notifications_event", "notifications", ["event_id", "kind", "status"])
    op.create_index("ix_notifications_booking", "notifications", ["booking_id", "kind", "status"])


def downgrade() -> None:
    op.drop_index("ix_notifications_booking", table_name="notifications")
    op.drop_index("ix_notifications_event", table_name="notifications")
    op.drop_index("ix_notifications_due", table_name="notifications")
    op.drop_table("notifications")
