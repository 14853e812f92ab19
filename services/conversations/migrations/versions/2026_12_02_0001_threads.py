"""Messaging tables, the guardianship and object projections, threads, messages, attachments, read receipts.

Revision ID: 0001
Revises:
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from qosym_chassis.migrations import create_messaging_tables, drop_messaging_tables

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UUID = postgresql.UUID(as_uuid=True)
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    create_messaging_tables(op.get_bind())
    op.create_table(
        "guardianship",
        sa.Column("child_id", UUID, primary_key=True),
        sa.Column("guardian_id", sa.Text(), primary_key=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("changed_at", TS, nullable=False),
    )
    op.create_table(
        "subject",
        sa.Column("object_type", sa.Text(), primary_key=True),
        sa.Column("object_id", UUID, primary_key=True),
        sa.Column("child_id", UUID, nullable=False),
        sa.Column("provider_id", UUID),
        sa.Column("region_code", sa.Text()),
        sa.Column("district_code", sa.Text()),
    )
    op.create_table(
        "thread",
        sa.Column("thread_id", UUID, primary_key=True),
        sa.Column("object_type", sa.Text(), nullable=False),
        sa.Column("object_id", UUID, nullable=False),
        sa.Column("counterpart", sa.Text(), nullable=False),
        sa.Column("child_id", UUID, nullable=False),
        sa.Column("provider_id", UUID),
        sa.Column("region_code", sa.Text()),
        sa.Column("district_code", sa.Text()),
        sa.Column("started_by_side", sa.Text(), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.UniqueConstraint("object_type", "object_id", "counterpart", name="thread_object_counterpart_key"),
    )
    op.create_table(
        "message",
        sa.Column("message_id", UUID, primary_key=True),
        sa.Column("thread_id", UUID, sa.ForeignKey("thread.thread_id"), nullable=False),
        sa.Column("author_side", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Text(), nullable=False),
        sa.Column("language", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("posted_at", TS, nullable=False),
    )
    op.create_index("message_thread_posted_idx", "message", ["thread_id", "posted_at"])
    op.create_table(
        "attachment",
        sa.Column("attachment_id", UUID, primary_key=True),
        sa.Column("message_id", UUID, sa.ForeignKey("message.message_id"), nullable=False),
        sa.Column("thread_id", UUID, sa.ForeignKey("thread.thread_id"), nullable=False),
        sa.Column("media_type", sa.Text(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_at", TS, nullable=False),
    )
    op.create_index("attachment_message_idx", "attachment", ["message_id"])
    op.create_table(
        "receipt",
        sa.Column("thread_id", UUID, sa.ForeignKey("thread.thread_id"), primary_key=True),
        sa.Column("reader_id", sa.Text(), primary_key=True),
        sa.Column("reader_side", sa.Text(), nullable=False),
        sa.Column("last_read_message_id", UUID, nullable=False),
        sa.Column("read_at", TS, nullable=False),
    )


def downgrade() -> None:
    for table in ("receipt", "attachment", "message", "thread", "subject", "guardianship"):
        op.drop_table(table)
    drop_messaging_tables(op.get_bind())
