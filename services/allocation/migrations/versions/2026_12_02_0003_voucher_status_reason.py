"""Vouchers: why an administrator revoked one (a reason code, which VoucherRevoked carries) and their note
(free text that stays here and never travels on the bus).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("ALTER TABLE voucher ADD COLUMN status_reason text, ADD COLUMN status_note text")
    op.execute(
        "ALTER TABLE voucher ADD CONSTRAINT ck_voucher_status_note_length CHECK (char_length(status_note) <= 500)"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE voucher DROP COLUMN status_note, DROP COLUMN status_reason")
