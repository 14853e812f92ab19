"""Partners' tables (the messaging tables are the chassis')."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

metadata = sa.MetaData()
UUID = postgresql.UUID(as_uuid=True)
TS = sa.DateTime(timezone=True)

subscription = sa.Table(
    "subscription",
    metadata,
    sa.Column("subscription_id", UUID, primary_key=True),
    sa.Column("partner_id", sa.Text(), nullable=False),
    sa.Column("url", sa.Text(), nullable=False),
    sa.Column("event_types", postgresql.ARRAY(sa.Text()), nullable=False),
    sa.Column("description", sa.Text(), nullable=False, server_default=""),
    sa.Column("secret_sealed", sa.LargeBinary(), nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Index("subscription_partner_idx", "partner_id", "created_at"),
)

delivery = sa.Table(
    "delivery",
    metadata,
    sa.Column("delivery_id", UUID, primary_key=True),
    sa.Column(
        "subscription_id", UUID, sa.ForeignKey("subscription.subscription_id", ondelete="CASCADE"), nullable=False
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
    sa.Index("delivery_due_idx", "next_attempt_at", postgresql_where=sa.text("status = 'pending'")),
    sa.Index("delivery_partner_idx", "partner_id", "status", "created_at"),
)
