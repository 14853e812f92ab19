"""Notifications tables."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    Table,
    Text,
    Time,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from qosym_chassis.db import new_metadata

metadata = new_metadata()

# each message is addressed to one audience (person:<id>, provider:<id>, operators:<region>, administrators:<region>)
inbox_message = Table(
    "inbox_message",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("seq", BigInteger, Identity(always=True), nullable=False, unique=True),
    Column("audience", Text, nullable=False),
    Column("person_id", UUID(as_uuid=True), nullable=True),  # set for person audiences
    Column("kind", Text, nullable=False),
    Column("subject_id", UUID(as_uuid=True), nullable=False),
    Column("event_id", UUID(as_uuid=True), nullable=False),
    Column("dedup_key", Text, nullable=False),
    Column("payload", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("audience", "dedup_key", name="uq_inbox_message_audience_dedup"),
    UniqueConstraint("audience", "kind", "event_id", "subject_id", name="uq_inbox_message_event_recipient_kind"),
    Index("ix_inbox_message_audience_seq", "audience", "seq"),
)

# every reader's own read state (a provider's staff share messages, not their read marks)
message_read = Table(
    "message_read",
    metadata,
    Column("message_id", UUID(as_uuid=True), ForeignKey("inbox_message.id", ondelete="CASCADE"), primary_key=True),
    Column("reader_id", UUID(as_uuid=True), primary_key=True),
    Column("read_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# what the person told this service; contact details encrypted, kept only with consent
preference = Table(
    "preference",
    metadata,
    Column("person_id", UUID(as_uuid=True), primary_key=True),
    Column("language", Text, nullable=True),
    Column("timezone", Text, nullable=False, server_default="Asia/Almaty"),
    Column("email_enc", LargeBinary, nullable=True),
    Column("email_consent_at", DateTime(timezone=True), nullable=True),
    Column("phone_enc", LargeBinary, nullable=True),
    Column("phone_consent_at", DateTime(timezone=True), nullable=True),
    Column("channels", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("quiet_start", Time, nullable=True),
    Column("quiet_end", Time, nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# which group audiences a person belongs to (from their token's scope), so group messages reach their e-mail too
audience_member = Table(
    "audience_member",
    metadata,
    Column("person_id", UUID(as_uuid=True), primary_key=True),
    Column("audience", Text, primary_key=True),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_audience_member_audience", "audience"),
)

delivery = Table(
    "delivery",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("message_id", UUID(as_uuid=True), ForeignKey("inbox_message.id", ondelete="CASCADE"), nullable=False),
    Column("person_id", UUID(as_uuid=True), nullable=False),
    Column("channel", Text, nullable=False),
    Column("status", Text, nullable=False, server_default="pending"),  # pending | sent | failed | skipped
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("not_before", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_error", Text, nullable=True),
    Column("sent_at", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("message_id", "person_id", "channel", name="uq_delivery_message_person_channel"),
    Index("ix_delivery_due", "not_before", postgresql_where=text("status = 'pending'")),
)

# --- projections of other services' facts -----------------------------------------------------------

guardian = Table(
    "guardian",
    metadata,
    Column("child_id", UUID(as_uuid=True), primary_key=True),
    Column("guardian_id", UUID(as_uuid=True), primary_key=True),
    Column("active", Boolean, nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
)

programme = Table(
    "programme",
    metadata,
    Column("programme_id", UUID(as_uuid=True), primary_key=True),
    Column("provider_id", UUID(as_uuid=True), nullable=False),
    Column("title", JSONB, nullable=True),
    Column("changed_at", DateTime(timezone=True), nullable=False),
)

application = Table(
    "application",
    metadata,
    Column("application_id", UUID(as_uuid=True), primary_key=True),
    Column("round_id", UUID(as_uuid=True), nullable=False),
    Column("child_id", UUID(as_uuid=True), nullable=False),
    Column("position", Integer, nullable=True),
    Column("was_waitlisted", Boolean, nullable=False, server_default="false"),
    Column("withdrawn", Boolean, nullable=False, server_default="false"),
    Index("ix_application_round", "round_id"),
)

allocation_round = Table(
    "allocation_round",
    metadata,
    Column("round_id", UUID(as_uuid=True), primary_key=True),
    Column("region_code", Text, nullable=False),
    Column("closed_event_id", UUID(as_uuid=True), nullable=False),
    Column("closed_at", DateTime(timezone=True), nullable=False),
    Column("early_close_reason", Text, nullable=True),
)

reminder = Table(
    "reminder",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("kind", Text, nullable=False),
    Column("subject_id", UUID(as_uuid=True), nullable=False),  # the timesheet or the voucher
    Column("child_id", UUID(as_uuid=True), nullable=True),
    Column("status", Text, nullable=False),  # scheduled | fired | cancelled
    Column("fire_at", DateTime(timezone=True), nullable=True),
    Column("deadline", DateTime(timezone=True), nullable=True),
    Column("payload", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("settled_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("kind", "subject_id", name="uq_reminder_kind_subject"),
    Index("ix_reminder_due", "fire_at", postgresql_where=text("status = 'scheduled'")),
)
