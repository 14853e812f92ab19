"""The keyed audit trail (qosym_chassis.audit): HMAC-SHA256 per row, signed heads outside the database.

The unkeyed sha256 chain of 0002 is kept, read-only, as ``audit_log_unkeyed`` (its rows cannot be re-keyed:
the database never holds the key); new rows go to the chassis table ``audit_log``.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

from qosym_chassis.audit import create_audit_table

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RENAMES = (
    "ALTER TABLE audit_log RENAME TO audit_log_unkeyed",
    "ALTER TABLE audit_log_unkeyed RENAME CONSTRAINT uq_audit_log_chain_seq TO uq_audit_log_unkeyed_chain_seq",
    "ALTER TABLE audit_log_unkeyed RENAME CONSTRAINT pk_audit_log TO pk_audit_log_unkeyed",
    "ALTER SEQUENCE audit_log_id_seq RENAME TO audit_log_unkeyed_id_seq",
)


def upgrade() -> None:
    for statement in RENAMES:
        op.execute(statement)
    create_audit_table(op.get_bind())


def downgrade() -> None:
    op.execute("DROP TABLE audit_log")  # the trigger function stays: the unkeyed table uses it
    for statement in (
        "ALTER SEQUENCE audit_log_unkeyed_id_seq RENAME TO audit_log_id_seq",
        "ALTER TABLE audit_log_unkeyed RENAME CONSTRAINT pk_audit_log_unkeyed TO pk_audit_log",
        "ALTER TABLE audit_log_unkeyed RENAME CONSTRAINT uq_audit_log_unkeyed_chain_seq TO uq_audit_log_chain_seq",
        "ALTER TABLE audit_log_unkeyed RENAME TO audit_log",
    ):
        op.execute(statement)

