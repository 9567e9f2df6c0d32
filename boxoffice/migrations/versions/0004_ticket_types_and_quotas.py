"""ticket types, quotas and tickets (SPEC §9)

Every event gets one ticket type, "General admission" at 0.00 in EUR, and every booking one
ticket of that type per seat, each with a code of its own; the booking's ticket code and every
count stay as they were.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 08:30:00
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from boxoffice.db import UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out rather than imported: this revision must do the same whatever the code does later.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10
DEFAULT_TYPE_NAME = "General admission"
DEFAULT_CURRENCY = "EUR"


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def upgrade() -> None:
    _create_tables()
    with op.batch_alter_table("events") as events:
        events.add_column(sa.Column("seats_held", sa.Integer(), nullable=False, server_default="0"))
        events.add_column(
            sa.Column("currency", sa.String(length=3), nullable=False, server_default="EUR")
        )
        events.add_column(
            sa.Column("catalogue_version", sa.BigInteger(), nullable=False, server_default="0")
        )
        events.create_check_constraint(
            op.f("ck_events_held_within_capacity"),
            "seats_held >= 0 AND seats_booked + seats_held <= capacity",
        )
    with op.batch_alter_table("bookings") as bookings:
        bookings.add_column(
            sa.Column("total_price_minor", sa.Integer(), nullable=False, server_default="0")
        )
        bookings.add_column(
            sa.Column("currency", sa.String(length=3), nullable=False, server_default="EUR")
        )
        bookings.add_column(sa.Column("expires_at", UTCDateTime(), nullable=True))
        # Ten lines of up to 100 tickets each, where a booking had up to 10 seats.
        bookings.drop_constraint(op.f("ck_bookings_seats_range"), type_="check")
        bookings.create_check_constraint(
            op.f("ck_bookings_seats_range"), "seats BETWEEN 1 AND 1000"
        )
    _fill()
    # The columns keep their database defaults: processes of the version before this one go
    # on writing events and bookings while a rolling upgrade replaces them.


def _create_tables() -> None:
    op.create_table(
        "ticket_types",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("price_minor", sa.Integer(), nullable=False),
        sa.Column("min_per_booking", sa.Integer(), nullable=False),
        sa.Column("max_per_booking", sa.Integer(), nullable=False),
        sa.Column("sale_starts_at", UTCDateTime(), nullable=True),
        sa.Column("sale_ends_at", UTCDateTime(), nullable=True),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("access_code", sa.String(length=64), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("price_minor >= 0", name=op.f("ck_ticket_types_price_not_negative")),
        sa.CheckConstraint(
            "min_per_booking >= 1 AND max_per_booking <= 100"
            " AND min_per_booking <= max_per_booking",
            name=op.f("ck_ticket_types_per_booking_range"),
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_ticket_types_event_id_events")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_types")),
    )
    op.create_index("ix_ticket_types_event", "ticket_types", ["event_id", "position", "id"])
    op.create_table(
        "quotas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("seats_taken", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("size BETWEEN 0 AND 100000", name=op.f("ck_quotas_size_range")),
        sa.CheckConstraint(
            "seats_taken >= 0 AND seats_taken <= size", name=op.f("ck_quotas_taken_within_size")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_quotas_event_id_events")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quotas")),
    )
    op.create_index("ix_quotas_event", "quotas", ["event_id", "id"])
    op.create_table(
        "quota_ticket_types",
        sa.Column("quota_id", sa.Integer(), nullable=False),
        sa.Column("ticket_type_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["quota_id"],
            ["quotas.id"],
            name=op.f("fk_quota_ticket_types_quota_id_quotas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_type_id"],
            ["ticket_types.id"],
            name=op.f("fk_quota_ticket_types_ticket_type_id_ticket_types"),
        ),
        sa.PrimaryKeyConstraint("quota_id", "ticket_type_id", name=op.f("pk_quota_ticket_types")),
    )
    op.create_index("ix_quota_ticket_types_ticket_type", "quota_ticket_types", ["ticket_type_id"])
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("ticket_type_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("unit_price_minor", sa.Integer(), nullable=False),
        sa.Column("checked_in_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["bookings.id"], name=op.f("fk_tickets_booking_id_bookings")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_type_id"],
            ["ticket_types.id"],
            name=op.f("fk_tickets_ticket_type_id_ticket_types"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
        sa.UniqueConstraint("code", name=op.f("uq_tickets_code")),
    )
    op.create_index("ix_tickets_booking", "tickets", ["booking_id", "id"])


def _fill() -> None:
    """A type per event, a ticket per booked seat, in batches so that a large table fits."""
    connection = op.get_bind()
    events = sa.table(
        "events",
        sa.column("id", sa.Integer),
        sa.column("created_at", UTCDateTime),
        sa.column("catalogue_version", sa.BigInteger),
    )
    types = sa.table(
        "ticket_types",
        *(
            sa.column(name, kind)
            for name, kind in (
                ("event_id", sa.Integer),
                ("name", sa.String),
                ("description", sa.Text),
                ("price_minor", sa.Integer),
                ("min_per_booking", sa.Integer),
                ("max_per_booking", sa.Integer),
                ("hidden", sa.Boolean),
                ("position", sa.Integer),
                ("created_at", UTCDateTime),
            )
        ),
        sa.column("id", sa.Integer),
    )
    for event_id, created_at in connection.execute(
        sa.select(events.c.id, events.c.created_at)
    ).all():
        connection.execute(
            sa.update(events)
            .where(events.c.id == event_id)
            .values(catalogue_version=secrets.randbits(62))
        )
        connection.execute(
            sa.insert(types).values(
                event_id=event_id,
                name=DEFAULT_TYPE_NAME,
                description="",
                price_minor=0,
                min_per_booking=1,
                max_per_booking=10,
                hidden=False,
                position=0,
                created_at=created_at,
            )
        )
    bookings = sa.table(
        "bookings",
        sa.column("id", sa.Integer),
        sa.column("event_id", sa.Integer),
        sa.column("seats", sa.Integer),
        sa.column("checked_in_at", UTCDateTime),
    )
    tickets = sa.table(
        "tickets",
        sa.column("booking_id", sa.Integer),
        sa.column("ticket_type_id", sa.Integer),
        sa.column("code", sa.String),
        sa.column("unit_price_minor", sa.Integer),
        sa.column("checked_in_at", UTCDateTime),
    )
    type_of_event = dict(connection.execute(sa.select(types.c.event_id, types.c.id)).all())
    rows = connection.execute(
        sa.select(bookings.c.id, bookings.c.event_id, bookings.c.seats, bookings.c.checked_in_at)
    ).all()
    new_tickets = [
        {
            "booking_id": booking_id,
            "ticket_type_id": type_of_event[event_id],
            "code": _new_code(),
            "unit_price_minor": 0,
            "checked_in_at": checked_in_at,
        }
        for booking_id, event_id, seats, checked_in_at in rows
        for _ in range(seats)
    ]
    for start in range(0, len(new_tickets), 1000):
        connection.execute(sa.insert(tickets), new_tickets[start : start + 1000])


def downgrade() -> None:
    with op.batch_alter_table("bookings") as bookings:
        bookings.drop_constraint(op.f("ck_bookings_seats_range"), type_="check")
        bookings.create_check_constraint(op.f("ck_bookings_seats_range"), "seats BETWEEN 1 AND 10")
        bookings.drop_column("expires_at")
        bookings.drop_column("currency")
        bookings.drop_column("total_price_minor")
    with op.batch_alter_table("events") as events:
        events.drop_constraint(op.f("ck_events_held_within_capacity"), type_="check")
        events.drop_column("catalogue_version")
        events.drop_column("currency")
        events.drop_column("seats_held")
    # Their indexes go with them (InnoDB keeps the foreign keys' until the table is gone).
    op.drop_table("tickets")
    op.drop_table("quota_ticket_types")
    op.drop_table("quotas")
    op.drop_table("ticket_types")
