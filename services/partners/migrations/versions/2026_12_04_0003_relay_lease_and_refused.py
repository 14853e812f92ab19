"""The chassis' relay lease with its fencing token and the outbox rows the broker refused (outgoing dead letters).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from collections.abc import Sequence

from alembic import op

from qosym_chassis.migrations import create_relay_tables, drop_relay_tables

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_relay_tables(op.get_bind())


def downgrade() -> None:
    drop_relay_tables(op.get_bind())
