"""A closed round remembers why it closed early (a reason code), so late applicants are told the same.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("allocation_round", sa.Column("early_close_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("allocation_round", "early_close_reason")
