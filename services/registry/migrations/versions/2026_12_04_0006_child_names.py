"""A child's optional display name (shown to the coaches of the providers the child is enrolled with, never put in
an event), and the projection of catalog's enrolments that says which provider those are.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("child", sa.Column("name", sa.Text(), nullable=True))
    op.create_table(
        "provider_enrolment",
        sa.Column("enrolment_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("child_id", UUID(as_uuid=True), nullable=False),
        sa.Column("provider_id", UUID(as_uuid=True), nullable=True),
        sa.Column("ended", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_provider_enrolment_child_id", "provider_enrolment", ["child_id"])
    op.create_index("ix_provider_enrolment_provider_id", "provider_enrolment", ["provider_id"])


def downgrade() -> None:
    op.drop_table("provider_enrolment")
    op.drop_column("child", "name")
