"""Messages per audience with their own read state, preferences, deliveries, projections and reminders.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UUID = postgresql.UUID(as_uuid=True)


def upgrade() -> None:
    # inbox_message: addressed to an audience, ordered by seq, deduplicated by business key and by event
    op.execute("ALTER TABLE inbox_message ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY")
    op.create_unique_constraint("uq_inbox_message_seq", "inbox_message", ["seq"])
    op.add_column("inbox_message", sa.Column("audience", sa.Text(), nullable=True))
    op.add_column("inbox_message", sa.Column("event_id", UUID, nullable=True))
    op.add_column("inbox_message", sa.Column("dedup_key", sa.Text(), nullable=True))
    op.execute(
        "UPDATE inbox_message SET audience = 'person:' || person_id::text, event_id = id, "
        "dedup_key = kind || ':' || subject_id::text"
    )
    for column in ("audience", "event_id", "dedup_key"):
        op.alter_column("inbox_message", column, nullable=False)
    op.alter_column("inbox_message", "person_id", nullable=True)
    op.drop_constraint("uq_inbox_message_kind_subject_person", "inbox_message", type_="unique")
    op.create_unique_constraint("uq_inbox_message_audience_dedup", "inbox_message", ["audience", "dedup_key"])
    # one message per (event, recipient, kind), per subject (one event may concern two children of one guardian)
    op.create_unique_constraint(
        "uq_inbox_message_event_recipient_kind", "inbox_message", ["audience", "kind", "event_id", "subject_id"]
    )
    op.drop_index("ix_inbox_message_person_created", table_name="inbox_message")
    op.create_index("ix_inbox_message_audience_seq", "inbox_message", ["audience", "seq"])

    op.create_table(
        "message_read",
        sa.Column(
            "message_id", UUID, sa.ForeignKey("inbox_message.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("reader_id", UUID, primary_key=True),
        sa.Column("read_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.execute(
        "INSERT INTO message_read (message_id, reader_id, read_at) "
        "SELECT id, person_id, read_at FROM inbox_message WHERE read_at IS NOT NULL"
    )
    op.drop_column("inbox_message", "read_at")

    op.create_table(
        "preference",
        sa.Column("person_id", UUID, primary_key=True),
        sa.Column("language", sa.Text(), nullable=True),
        sa.Column("timezone", sa.Text(), server_default="Asia/Almaty", nullable=False),
        sa.Column("email_enc", sa.LargeBinary(), nullable=True),
        sa.Column("email_consent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("phone_enc", sa.LargeBinary(), nullable=True),
        sa.Column("phone_consent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("channels", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.Column("quiet_start", sa.Time(), nullable=True),
        sa.Column("quiet_end", sa.Time(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_table(
        "audience_member",
        sa.Column("person_id", UUID, primary_key=True),
        sa.Column("audience", sa.Text(), primary_key=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_index("ix_audience_member_audience", "audience_member", ["audience"])
    op.create_table(
        "delivery",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("message_id", UUID, sa.ForeignKey("inbox_message.id", ondelete="CASCADE"), nullable=False),
        sa.Column("person_id", UUID, nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.UniqueConstraint("message_id", "person_id", "channel", name="uq_delivery_message_person_channel"),
        sa.CheckConstraint("channel IN ('email', 'sms')", name="ck_delivery_channel"),
        sa.CheckConstraint("status IN ('pending', 'sent', 'failed', 'skipped')", name="ck_delivery_status"),
    )
    op.create_index("ix_delivery_due", "delivery", ["not_before"], postgresql_where=sa.text("status = 'pending'"))

    op.create_table(
        "guardian",
        sa.Column("child_id", UUID, primary_key=True),
        sa.Column("guardian_id", UUID, primary_key=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "programme",
        sa.Column("programme_id", UUID, primary_key=True),
        sa.Column("provider_id", UUID, nullable=False),
        sa.Column("title", postgresql.JSONB(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "application",
        sa.Column("application_id", UUID, primary_key=True),
        sa.Column("round_id", UUID, nullable=False),
        sa.Column("child_id", UUID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("was_waitlisted", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("withdrawn", sa.Boolean(), server_default="false", nullable=False),
    )
    op.create_index("ix_application_round", "application", ["round_id"])
    op.create_table(
        "allocation_round",
        sa.Column("round_id", UUID, primary_key=True),
        sa.Column("region_code", sa.Text(), nullable=False),
        sa.Column("closed_event_id", UUID, nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "reminder",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("subject_id", UUID, nullable=False),
        sa.Column("child_id", UUID, nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("fire_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("payload", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("kind", "subject_id", name="uq_reminder_kind_subject"),
        sa.CheckConstraint("status IN ('scheduled', 'fired', 'cancelled')", name="ck_reminder_status"),
    )
    op.create_index("ix_reminder_due", "reminder", ["fire_at"], postgresql_where=sa.text("status = 'scheduled'"))


def downgrade() -> None:
    for table in ("reminder", "allocation_round", "application", "programme", "guardian", "delivery"):
        op.drop_table(table)
    op.drop_table("audience_member")
    op.drop_table("preference")
    op.add_column("inbox_message", sa.Column("read_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE inbox_message m SET read_at = r.read_at FROM message_read r "
        "WHERE r.message_id = m.id AND r.reader_id = m.person_id"
    )
    op.drop_table("message_read")
    # the old shape knows only one message per (kind, subject, person): group messages and repeats go
    op.execute("DELETE FROM inbox_message WHERE person_id IS NULL")
    op.execute(
        "DELETE FROM inbox_message m USING inbox_message o WHERE m.kind = o.kind AND m.subject_id = o.subject_id "
        "AND m.person_id = o.person_id AND m.seq > o.seq"
    )
    op.drop_index("ix_inbox_message_audience_seq", table_name="inbox_message")
    op.create_index("ix_inbox_message_person_created", "inbox_message", ["person_id", "created_at"])
    op.drop_constraint("uq_inbox_message_event_recipient_kind", "inbox_message", type_="unique")
    op.drop_constraint("uq_inbox_message_audience_dedup", "inbox_message", type_="unique")
    op.create_unique_constraint(
        "uq_inbox_message_kind_subject_person", "inbox_message", ["kind", "subject_id", "person_id"]
    )
    op.alter_column("inbox_message", "person_id", nullable=False)
    op.drop_constraint("uq_inbox_message_seq", "inbox_message", type_="unique")
    for column in ("dedup_key", "event_id", "audience", "seq"):
        op.drop_column("inbox_message", column)
