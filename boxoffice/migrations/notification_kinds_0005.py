"""Revision 0005's part of the notifications table: the kinds of SPEC §10 in its CHECK.

Called from the revision's upgrade and downgrade. The kinds are written out rather than
imported, so that the revision does the same whatever the code does later. No column changes:
the longest new kind has 16 characters, and `kind` holds 32.
"""

import sqlalchemy as sa
from alembic import op

_CONSTRAINT = "ck_notifications_kind_known"
_BEFORE = (
    "kind IN ('booking_confirmed', 'waitlist_joined', 'waitlist_promoted',"
    " 'booking_cancelled', 'event_cancelled', 'event_changed', 'reminder')"
)
_NEW_KINDS = (
    "booking_pending",
    "booking_expired",
    "waitlist_offer",
    "payment_received",
    "payment_refunded",
)
_AFTER = (
    "kind IN ('booking_confirmed', 'waitlist_joined', 'waitlist_promoted',"
    " 'booking_cancelled', 'event_cancelled', 'event_changed', 'reminder',"
    " 'booking_pending', 'booking_expired', 'waitlist_offer', 'payment_received',"
    " 'payment_refunded')"
)


def upgrade_notification_kinds() -> None:
    _replace_check(_AFTER)


def downgrade_notification_kinds() -> None:
    # Rows of the new kinds would break the old CHECK; the version they go back to has no
    # holds or payments to tell about, so they are dropped, sent or not.
    notifications = sa.table("notifications", sa.column("kind", sa.String))
    op.execute(sa.delete(notifications).where(notifications.c.kind.in_(_NEW_KINDS)))
    _replace_check(_BEFORE)


def _replace_check(condition: str) -> None:
    # SQLite cannot alter a constraint: there the batch copies the table; the other engines
    # drop and add the constraint in place.
    with op.batch_alter_table("notifications") as notifications:
        notifications.drop_constraint(op.f(_CONSTRAINT), type_="check")
        notifications.create_check_constraint(op.f(_CONSTRAINT), condition)
