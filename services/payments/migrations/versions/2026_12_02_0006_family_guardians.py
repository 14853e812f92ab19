"""Who each child's guardians are (projection of registry's ChildRegistered and Guardianship*): the family budget
(``GET /v1/families/me/budget``) lists the children whose guardian the caller is.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
CREATE TABLE guardianship (
    child_id UUID NOT NULL,
    guardian_id UUID NOT NULL,
    since TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (child_id, guardian_id)
)"""
    )
    op.execute("CREATE INDEX ix_guardianship_guardian ON guardianship (guardian_id)")


def downgrade() -> None:
    op.execute("DROP TABLE guardianship")
