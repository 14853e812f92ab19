"""Payments' parked events move into the chassis' parking (docs/architecture.md, "Delivery", Parking).

The rows of the old ``parked_event`` (waiting_for, JSON payload) become rows of the chassis table of the same name
(awaits, the event's bytes), in their arrival order; their inbox rows stay, so they are not applied twice.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from qosym_chassis.migrations import create_parking_table, drop_parking_table

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONSUMER = "payments"

OLD_TABLE = (
    """
CREATE TABLE parked_event (
    id BIGSERIAL PRIMARY KEY,
    waiting_for TEXT NOT NULL,
    event_id UUID NOT NULL,
    event_type TEXT NOT NULL,
    topic TEXT NOT NULL,
    payload JSONB NOT NULL,
    parked_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT uq_parked_event_event_id UNIQUE (event_id)
)""",
    "CREATE INDEX ix_parked_event_waiting_for ON parked_event (waiting_for)",
)


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT waiting_for, event_id, event_type, topic, payload::text AS payload, parked_at"
            " FROM parked_event ORDER BY id"
        )
    ).all()
    op.execute("DROP TABLE parked_event")
    create_parking_table(bind)
    for r in rows:
        bind.execute(
            sa.text(
                "INSERT INTO parked_event (consumer, event_id, event_type, topic, awaits, payload, parked_at)"
                " VALUES (:c, :e, :t, :topic, :w, convert_to(:p, 'UTF8'), :at)"
            ),
            {"c": CONSUMER, "e": r.event_id, "t": r.event_type, "topic": r.topic, "w": r.waiting_for,
             "p": r.payload, "at": r.parked_at},
        )


def downgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT awaits, event_id, event_type, topic, convert_from(payload, 'UTF8') AS payload, parked_at"
            " FROM parked_event WHERE consumer = :c ORDER BY id"
        ),
        {"c": CONSUMER},
    ).all()
    drop_parking_table(bind)
    for statement in OLD_TABLE:
        op.execute(statement)
    for r in rows:
        bind.execute(
            sa.text(
                "INSERT INTO parked_event (waiting_for, event_id, event_type, topic, payload, parked_at)"
                " VALUES (:w, :e, :t, :topic, CAST(:p AS JSONB), :at)"
            ),
            {"w": r.awaits, "e": r.event_id, "t": r.event_type, "topic": r.topic, "p": r.payload, "at": r.parked_at},
        )
