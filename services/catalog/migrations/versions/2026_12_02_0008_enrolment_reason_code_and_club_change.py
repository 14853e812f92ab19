"""Enrolments: the reason code that EnrolmentEnded carries (the person's words stay in ``reason``), and the
enrolment a change of club replaces (ended only once allocation assigned the voucher to the new one).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("enrolment", sa.Column("reason_code", sa.Text, nullable=True))
    op.add_column(
        "enrolment",
        sa.Column(
            "replaces_enrolment_id",
            sa.Uuid,
            sa.ForeignKey("enrolment.id", name="fk_enrolment_replaces_enrolment_id"),
            nullable=True,
        ),
    )
    op.create_index(
        "ix_enrolment_replaces_enrolment_id",
        "enrolment",
        ["replaces_enrolment_id"],
        postgresql_where=sa.text("replaces_enrolment_id IS NOT NULL"),
    )
    op.create_check_constraint("reason_length", "enrolment", "char_length(reason) <= 500")


def downgrade() -> None:
    op.drop_constraint(op.f("ck_enrolment_reason_length"), "enrolment", type_="check")
    op.drop_index("ix_enrolment_replaces_enrolment_id", "enrolment")
    op.drop_column("enrolment", "replaces_enrolment_id")
    op.drop_column("enrolment", "reason_code")
