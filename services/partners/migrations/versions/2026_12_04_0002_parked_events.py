"""The chassis' parked events (docs/architecture.md, "Delivery", Parking): events waiting for a prerequisite.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

from collections.abc import Sequence

from alembic import op

from qosym_chassis.migrations import create_parking_table, drop_parking_table

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_parking_table(op.get_bind())


def downgrade() -> None:
    drop_parking_table(op.get_bind())
