"""the door: check-in lists, scans and scanner keys (SPEC §11)

Every event gets its "Main entrance" list; a ticket checked in before counts as inside through
it. Bookings gain `updated_at`, so that an offline scanner downloads only what changed.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from boxoffice.db import UTCDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable: processes of the version before, still running during the upgrade, insert
    # bookings without it.
    with op.batch_alter_table("bookings") as bookings:
        bookings.add_column(sa.Column("updated_at", UTCDateTime(), nullable=True))
    op.execute("UPDATE bookings SET updated_at = COALESCE(cancelled_at, created_at)")
    _create_tables()
    _fill()


def _create_tables() -> None:
    op.create_table(
        "check_in_lists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("allow_reentry", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_check_in_lists_event_id_events")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_in_lists")),
    )
    op.create_index("ix_check_in_lists_event", "check_in_lists", ["event_id", "id"])
    op.create_table(
        "check_in_list_ticket_types",
        sa.Column("check_in_list_id", sa.Integer(), nullable=False),
        sa.Column("ticket_type_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["check_in_list_id"],
            ["check_in_lists.id"],
            name=op.f("fk_check_in_list_ticket_types_check_in_list_id_check_in_lists"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_type_id"],
            ["ticket_types.id"],
            name=op.f("fk_check_in_list_ticket_types_ticket_type_id_ticket_types"),
        ),
        sa.PrimaryKeyConstraint(
            "check_in_list_id", "ticket_type_id", name=op.f("pk_check_in_list_ticket_types")
        ),
    )
    op.create_index(
        "ix_check_in_list_ticket_types_ticket_type",
        "check_in_list_ticket_types",
        ["ticket_type_id"],
    )
    op.create_table(
        "check_in_presence",
        sa.Column("check_in_list_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("inside", sa.Boolean(), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("entries >= 0", name=op.f("ck_check_in_presence_entries_not_negative")),
        sa.ForeignKeyConstraint(
            ["check_in_list_id"],
            ["check_in_lists.id"],
            name=op.f("fk_check_in_presence_check_in_list_id_check_in_lists"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("check_in_list_id", "ticket_id", name=op.f("pk_check_in_presence")),
    )
    op.create_table(
        "scans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("check_in_list_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("forced", sa.Boolean(), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=True),
        sa.Column("nonce_digest", sa.String(length=64), nullable=True),
        sa.Column("scanned_at", UTCDateTime(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("scanner_key_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("direction IN ('entry', 'exit')", name=op.f("ck_scans_direction_known")),
        sa.CheckConstraint(
            "(result = 'ok' AND reason IS NULL) OR (result = 'refused' AND reason IS NOT NULL)",
            name=op.f("ck_scans_reason_matches_result"),
        ),
        sa.ForeignKeyConstraint(
            ["check_in_list_id"],
            ["check_in_lists.id"],
            name=op.f("fk_scans_check_in_list_id_check_in_lists"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scans")),
        sa.UniqueConstraint("check_in_list_id", "nonce_digest", name="uq_scans_nonce"),
    )
    op.create_index("ix_scans_list_time", "scans", ["check_in_list_id", "scanned_at"])
    op.create_table(
        "scanner_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("check_in_list_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_used_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["check_in_list_id"],
            ["check_in_lists.id"],
            name=op.f("fk_scanner_keys_check_in_list_id_check_in_lists"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scanner_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_scanner_keys_key_hash")),
    )
    op.create_index("ix_scanner_keys_list", "scanner_keys", ["check_in_list_id", "id"])


def _fill() -> None:
    """A Main entrance per event, with everyone checked in counted as inside through it."""
    op.execute(
        "INSERT INTO check_in_lists (event_id, name, allow_reentry, created_at)"
        " SELECT id, 'Main entrance', TRUE, created_at FROM events ORDER BY id"
    )
    op.execute(
        "INSERT INTO check_in_presence (check_in_list_id, ticket_id, inside, entries, changed_at)"
        " SELECT check_in_lists.id, tickets.id, TRUE, 1, tickets.checked_in_at FROM tickets"
        " JOIN bookings ON bookings.id = tickets.booking_id"
        " JOIN check_in_lists ON check_in_lists.event_id = bookings.event_id"
        " WHERE tickets.checked_in_at IS NOT NULL"
    )


def downgrade() -> None:
    for table in (
        "scanner_keys",
        "scans",
        "check_in_presence",
        "check_in_list_ticket_types",
        "check_in_lists",
    ):
        op.drop_table(table)
    with op.batch_alter_table("bookings") as bookings:
        bookings.drop_column("updated_at")
