"""Conversations' tables (the messaging tables are the chassis')."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

metadata = sa.MetaData()
UUID = postgresql.UUID(as_uuid=True)
TS = sa.DateTime(timezone=True)

# projections: who a child's guardians are, and what each object names (child, provider, region)
guardianship = sa.Table(
    "guardianship",
    metadata,
    sa.Column("child_id", UUID, primary_key=True),
    sa.Column("guardian_id", sa.Text(), primary_key=True),
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.Column("changed_at", TS, nullable=False),
)

subject = sa.Table(
    "subject",
    metadata,
    sa.Column("object_type", sa.Text(), primary_key=True),
    sa.Column("object_id", UUID, primary_key=True),
    sa.Column("child_id", UUID, nullable=False),
    sa.Column("provider_id", UUID),
    sa.Column("region_code", sa.Text()),
    sa.Column("district_code", sa.Text()),
)

thread = sa.Table(
    "thread",
    metadata,
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

message = sa.Table(
    "message",
    metadata,
    sa.Column("message_id", UUID, primary_key=True),
    sa.Column("thread_id", UUID, sa.ForeignKey("thread.thread_id"), nullable=False),
    sa.Column("author_side", sa.Text(), nullable=False),
    sa.Column("author_id", sa.Text(), nullable=False),
    sa.Column("language", sa.Text(), nullable=False),
    sa.Column("body", sa.Text(), nullable=False),
    sa.Column("posted_at", TS, nullable=False),
    sa.Index("message_thread_posted_idx", "thread_id", "posted_at"),
)

attachment = sa.Table(
    "attachment",
    metadata,
    sa.Column("attachment_id", UUID, primary_key=True),
    sa.Column("message_id", UUID, sa.ForeignKey("message.message_id"), nullable=False),
    sa.Column("thread_id", UUID, sa.ForeignKey("thread.thread_id"), nullable=False),
    sa.Column("media_type", sa.Text(), nullable=False),
    sa.Column("size_bytes", sa.Integer(), nullable=False),
    sa.Column("sealed", sa.LargeBinary(), nullable=False),
    sa.Column("uploaded_at", TS, nullable=False),
    sa.Index("attachment_message_idx", "message_id"),
)

receipt = sa.Table(
    "receipt",
    metadata,
    sa.Column("thread_id", UUID, sa.ForeignKey("thread.thread_id"), primary_key=True),
    sa.Column("reader_id", sa.Text(), primary_key=True),
    sa.Column("reader_side", sa.Text(), nullable=False),
    sa.Column("last_read_message_id", UUID, nullable=False),
    sa.Column("read_at", TS, nullable=False),
)
