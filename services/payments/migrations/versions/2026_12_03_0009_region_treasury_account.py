"""A region's treasury account (the debtor of its payment orders) as its region file names it, projected from
RegionConfigured; QOSYM_TREASURY_ACCOUNTS stays the fallback for regions whose file names none.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("ALTER TABLE region_budget ADD COLUMN treasury_account JSONB")


def downgrade() -> None:
    op.execute("ALTER TABLE region_budget DROP COLUMN treasury_account")
