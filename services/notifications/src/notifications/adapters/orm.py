"""Notifications tables."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Index, Table, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB, UUID

from qosym_chassis.db import new_metadata

metadata = new_metadata()

inbox_message = Table(
    "inbox_message",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("person_id", UUID(as_uuid=True), nullable=False),
    Column("kind", Text, nullable=False),
    Column("subject_id", UUID(as_uuid=True), nullable=False),
    Column("payload", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("read_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("kind", "subject_id", "person_id", name="uq_inbox_message_kind_subject_person"),
    Index("ix_inbox_message_person_created", "person_id", "created_at"),
)
