"""The region projection keeps each region's district codes, so catalog refuses places that do not exist.

Regions projected before this revision have no districts (NULL) until their next RegionConfigured.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("region", sa.Column("districts", JSONB))


def downgrade() -> None:
    op.drop_column("region", "districts")
