"""accounts a person can recover: verified addresses, mail preferences, one-time tokens (SPEC §13)

Accounts made before this revision count as verified: they predate verification, and asking
every existing user to confirm their address at once would stop their mail. New accounts start
unverified. The outbox learns the two account messages.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-10 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from boxoffice.db import UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KINDS = (
    "kind IN ('booking_confirmed', 'waitlist_joined', 'waitlist_promoted',"
    " 'booking_cancelled', 'event_cancelled', 'event_changed', 'reminder',"
    " 'booking_pending', 'booking_expired', 'waitlist_offer', 'payment_received',"
    " 'payment_refunded'"
)
_NEW_KINDS = ("verify_email", "password_reset")


def upgrade() -> None:
    # Server defaults: processes of the version before, still running during the upgrade,
    # insert users without these columns. Existing rows take `true` for email_verified; new
    # ones are written `false` by the code.
    with op.batch_alter_table("users") as users:
        users.add_column(
            sa.Column("email_verified", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        users.add_column(
            sa.Column("notify_reminders", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        users.add_column(
            sa.Column("notify_changes", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    op.create_table(
        "account_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "purpose IN ('verify_email', 'password_reset')",
            name=op.f("ck_account_tokens_purpose_known"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_account_tokens_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_account_tokens_token_hash")),
    )
    op.create_index(
        "ix_account_tokens_user", "account_tokens", ["user_id", "purpose", "expires_at"]
    )
    op.create_index("ix_account_tokens_expires_at", "account_tokens", ["expires_at"])
    _replace_kinds_check(_KINDS + ", 'verify_email', 'password_reset')")


def downgrade() -> None:
    # The version before sends no account messages: those not sent yet are dropped.
    notifications = sa.table("notifications", sa.column("kind", sa.String))
    op.execute(sa.delete(notifications).where(notifications.c.kind.in_(_NEW_KINDS)))
    _replace_kinds_check(_KINDS + ")")
    op.drop_table("account_tokens")
    with op.batch_alter_table("users") as users:
        users.drop_column("notify_changes")
        users.drop_column("notify_reminders")
        users.drop_column("email_verified")


def _replace_kinds_check(condition: str) -> None:
    # SQLite cannot alter a constraint: there the batch copies the table.
    with op.batch_alter_table("notifications") as notifications:
        notifications.drop_constraint(op.f("ck_notifications_kind_known"), type_="check")
        notifications.create_check_constraint(op.f("ck_notifications_kind_known"), condition)
