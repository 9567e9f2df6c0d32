"""audit log actor without a foreign key

On InnoDB a foreign key check takes a shared lock on the referenced row, so writing an audit entry
had to wait for any transaction holding the actor's user row: two admins banning each other at
the same moment deadlocked. Users are never deleted, so the key protected nothing.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 11:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTOR_KEY = "fk_audit_log_actor_id_users"


def upgrade() -> None:
    with op.batch_alter_table("audit_log") as table:
        table.drop_constraint(ACTOR_KEY, type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as table:
        table.create_foreign_key(ACTOR_KEY, "users", ["actor_id"], ["id"])
