"""holds, payments and waiting-list offers (SPEC §10)

Bookings may be pending, offered or expired; events gain their hold, payment and offer
settings; payments, refunds and the provider events already applied get tables of their own.
Existing rows keep their meaning: every booking is confirmed, waitlisted or cancelled as before.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from boxoffice.db import UTCDateTime
from boxoffice.migrations.notification_kinds_0005 import (
    downgrade_notification_kinds,
    upgrade_notification_kinds,
)

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ALL_STATUSES = "'pending', 'offered', 'confirmed', 'waitlisted', 'cancelled', 'expired'"
_ENDED = "'cancelled', 'expired'"


def upgrade() -> None:
    with op.batch_alter_table("events") as events:
        events.add_column(
            sa.Column("hold_minutes", sa.Integer(), nullable=False, server_default="15")
        )
        events.add_column(
            sa.Column("manual_payment_days", sa.Integer(), nullable=False, server_default="3")
        )
        events.add_column(
            sa.Column("offer_hours", sa.Integer(), nullable=False, server_default="24")
        )
        events.add_column(
            sa.Column(
                "waitlist_mode", sa.String(length=16), nullable=False, server_default="promote"
            )
        )
        events.add_column(sa.Column("cancellation_deadline", UTCDateTime(), nullable=True))
        events.create_check_constraint(
            op.f("ck_events_hold_minutes_range"), "hold_minutes BETWEEN 1 AND 120"
        )
        events.create_check_constraint(
            op.f("ck_events_manual_payment_days_range"), "manual_payment_days BETWEEN 1 AND 60"
        )
        events.create_check_constraint(
            op.f("ck_events_offer_hours_range"), "offer_hours BETWEEN 1 AND 336"
        )
        events.create_check_constraint(
            op.f("ck_events_waitlist_mode_known"), "waitlist_mode IN ('promote', 'offer')"
        )
    with op.batch_alter_table("bookings") as bookings:
        bookings.drop_constraint(op.f("ck_bookings_status_known"), type_="check")
        bookings.drop_constraint(op.f("ck_bookings_active_matches_status"), type_="check")
        bookings.create_check_constraint(
            op.f("ck_bookings_status_known"), f"status IN ({_ALL_STATUSES})"
        )
        bookings.create_check_constraint(
            op.f("ck_bookings_active_matches_status"),
            f"(status IN ({_ENDED}) AND active IS NULL)"
            f" OR (status NOT IN ({_ENDED}) AND active IS NOT NULL)",
        )
        bookings.create_check_constraint(
            op.f("ck_bookings_hold_has_expiry"),
            "status NOT IN ('pending', 'offered') OR expires_at IS NOT NULL",
        )
        bookings.create_index("ix_bookings_expiry", ["status", "expires_at"])
    _create_tables()
    upgrade_notification_kinds()


def _create_tables() -> None:
    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("provider_id", sa.String(length=255), nullable=True),
        sa.Column("client_secret", sa.String(length=255), nullable=True),
        sa.Column("instructions", sa.String(length=1000), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("confirmed_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('created', 'pending', 'confirmed', 'failed', 'cancelled', 'refunded')",
            name=op.f("ck_payments_status_known"),
        ),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_payments_amount_positive")),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["bookings.id"], name=op.f("fk_payments_booking_id_bookings")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("provider", "provider_id", name=op.f("uq_payments_provider_id")),
    )
    op.create_index("ix_payments_booking", "payments", ["booking_id", "id"])
    op.create_table(
        "refunds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("provider_id", sa.String(length=255), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_until", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("completed_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('requested', 'succeeded', 'owed', 'failed')",
            name=op.f("ck_refunds_status_known"),
        ),
        sa.CheckConstraint(
            "reason IN ('cancelled', 'event_cancelled', 'late_payment', 'duplicate')",
            name=op.f("ck_refunds_reason_known"),
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_refunds_payment_id_payments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
        sa.UniqueConstraint("payment_id", name=op.f("uq_refunds_payment")),
    )
    op.create_index("ix_refunds_status", "refunds", ["status", "id"])
    op.create_table(
        "provider_events",
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("provider", "event_id", name=op.f("pk_provider_events")),
    )


def downgrade() -> None:
    downgrade_notification_kinds()
    op.drop_table("provider_events")
    op.drop_table("refunds")
    op.drop_table("payments")
    # The version before knows no holds: they end (their seats come back), as do expired ones.
    op.execute(
        "UPDATE bookings SET status = 'cancelled', active = NULL"
        " WHERE status IN ('pending', 'offered', 'expired')"
    )
    op.execute("UPDATE events SET seats_held = 0")
    op.execute(
        "UPDATE quotas SET seats_taken = (SELECT COUNT(*) FROM tickets"
        " JOIN bookings ON bookings.id = tickets.booking_id"
        " JOIN quota_ticket_types ON quota_ticket_types.ticket_type_id = tickets.ticket_type_id"
        " WHERE quota_ticket_types.quota_id = quotas.id AND bookings.status = 'confirmed')"
    )
    with op.batch_alter_table("bookings") as bookings:
        bookings.drop_index("ix_bookings_expiry")
        bookings.drop_constraint(op.f("ck_bookings_hold_has_expiry"), type_="check")
        bookings.drop_constraint(op.f("ck_bookings_active_matches_status"), type_="check")
        bookings.drop_constraint(op.f("ck_bookings_status_known"), type_="check")
        bookings.create_check_constraint(
            op.f("ck_bookings_status_known"), "status IN ('confirmed', 'waitlisted', 'cancelled')"
        )
        bookings.create_check_constraint(
            op.f("ck_bookings_active_matches_status"),
            "(status = 'cancelled' AND active IS NULL)"
            " OR (status <> 'cancelled' AND active IS NOT NULL)",
        )
    with op.batch_alter_table("events") as events:
        for check in ("waitlist_mode_known", "offer_hours_range", "manual_payment_days_range"):
            events.drop_constraint(op.f(f"ck_events_{check}"), type_="check")
        events.drop_constraint(op.f("ck_events_hold_minutes_range"), type_="check")
        for column in (
            "cancellation_deadline",
            "waitlist_mode",
            "offer_hours",
            "manual_payment_days",
            "hold_minutes",
        ):
            events.drop_column(column)
