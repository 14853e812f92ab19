"""Messaging tables, webhook subscriptions and their deliveries.

Revision ID: 0001
Revises:
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from qosym_chassis.migrations import create_messaging_tables, drop_messaging_tables

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UUID = postgresql.UUID(as_uuid=True)
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    create_messaging_tables(op.get_bind())
    op.create_table(
        "subscription",
        sa.Column("subscription_id", UUID, primary_key=True),
        sa.Column("partner_id", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("event_types", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("description", sa.Text(), nullable=False, server_default=""),
        sa.Column("secret_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("subscription_partner_idx", "subscription", ["partner_id", "created_at"])
    op.create_table(
        "delivery",
        sa.Column("delivery_id", UUID, primary_key=True),
        sa.Column(
            "subscription_id",
            UUID,
            sa.ForeignKey("subscription.subscription_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("partner_id", sa.Text(), nullable=False),
        sa.Column("event_id", UUID, nullable=False),
        sa.Column("event_type", sa.Text(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("last_attempt_at", TS),
        sa.Column("last_status_code", sa.Integer()),
        sa.Column("last_error", sa.Text()),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("delivered_at", TS),
        sa.UniqueConstraint("subscription_id", "event_id", name="delivery_subscription_event_key"),
    )
    op.create_index(
        "delivery_due_idx", "delivery", ["next_attempt_at"], postgresql_where=sa.text("status = 'pending'")
    )
    op.create_index("delivery_partner_idx", "delivery", ["partner_id", "status", "created_at"])


def downgrade() -> None:
    for table in ("delivery", "subscription"):
        op.drop_table(table)
    drop_messaging_tables(op.get_bind())
