"""Who closed a round, and why it was closed before its announced window end.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """ALTER TABLE round
             ADD COLUMN closed_by text,
             ADD COLUMN early_close_reason text,
             ADD COLUMN early_close_note text,
             ADD CONSTRAINT round_early_close_note_length CHECK (char_length(early_close_note) <= 500),
             ADD CONSTRAINT round_early_close_note_needs_reason
                 CHECK (early_close_note IS NULL OR early_close_reason IS NOT NULL)"""
    )


def downgrade() -> None:
    op.execute(
        """ALTER TABLE round DROP COLUMN early_close_note, DROP COLUMN early_close_reason, DROP COLUMN closed_by"""
    )
