"""A programme can be suspended while its coaches' or facility's attestations have lapsed.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("ALTER TABLE programme DROP CONSTRAINT ck_programme_status")
    op.execute(
        "ALTER TABLE programme ADD CONSTRAINT ck_programme_status CHECK (status IN ('published', 'suspended', 'closed'))"
    )


def downgrade() -> None:
    op.execute("UPDATE programme SET status = 'published' WHERE status = 'suspended'")
    op.execute("ALTER TABLE programme DROP CONSTRAINT ck_programme_status")
    op.execute("ALTER TABLE programme ADD CONSTRAINT ck_programme_status CHECK (status IN ('published', 'closed'))")
