"""Tables every service carries for reliable messaging and HTTP idempotency.

Each service's first Alembic revision creates them (see ``migrations.create_messaging_tables``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID


@dataclass(frozen=True)
class MessagingTables:
    outbox: Table
    inbox: Table
    dead_letter: Table
    idempotency_key: Table
    parked_event: Table
    relay_lease: Table
    outbox_refused: Table

    def all(self) -> list[Table]:
        """The tables each service's first revision created (``migrations.create_messaging_tables``): frozen."""
        return [self.outbox, self.inbox, self.dead_letter, self.idempotency_key]


def define_messaging_tables(metadata: MetaData) -> MessagingTables:
    outbox = Table(
        "outbox",
        metadata,
        Column("id", BigInteger, Identity(always=True), primary_key=True),
        Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
        Column("event_type", Text, nullable=False),
        Column("topic", Text, nullable=False),
        Column("msg_key", Text, nullable=False),
        Column("payload", JSONB, nullable=False),
        Column("headers", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("published_at", DateTime(timezone=True)),
        Column("attempts", Integer, nullable=False, server_default=text("0")),
        Column("last_error", Text),
        Index("ix_outbox_pending", "id", postgresql_where=text("published_at IS NULL")),
        Index("ix_outbox_created_at", "created_at"),
    )
    inbox = Table(
        "inbox",
        metadata,
        Column("consumer", Text, nullable=False),
        Column("event_id", UUID(as_uuid=True), nullable=False),
        Column("topic", Text, nullable=False),
        Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        PrimaryKeyConstraint("consumer", "event_id"),
    )
    dead_letter = Table(
        "dead_letter",
        metadata,
        Column("id", BigInteger, Identity(always=True), primary_key=True),
        Column("consumer", Text, nullable=False),
        Column("fingerprint", Text, nullable=False),
        Column("topic", Text, nullable=False),
        Column("partition", Integer),
        Column("offset", BigInteger),
        Column("msg_key", Text),
        Column("headers", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
        Column("payload", LargeBinary, nullable=False),
        Column("event_id", UUID(as_uuid=True)),
        Column("error", Text, nullable=False),
        Column("attempts", Integer, nullable=False, server_default=text("1")),
        Column("first_failed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("last_failed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("retry_requested_at", DateTime(timezone=True)),
        Column("resolved_at", DateTime(timezone=True)),
        UniqueConstraint("consumer", "fingerprint", name="uq_dead_letter_consumer_fingerprint"),
    )
    idempotency_key = Table(
        "idempotency_key",
        metadata,
        Column("principal", Text, nullable=False),
        Column("key", Text, nullable=False),
        Column("method", Text, nullable=False),
        Column("path", Text, nullable=False),
        Column("request_hash", Text, nullable=False),
        Column("status_code", Integer),
        Column("response_body", LargeBinary),
        Column("content_type", Text),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("completed_at", DateTime(timezone=True)),
        PrimaryKeyConstraint("principal", "key"),
    )
    parked_event = Table(
        "parked_event",
        metadata,
        Column("id", BigInteger, Identity(always=True), primary_key=True),  # the arrival order
        Column("consumer", Text, nullable=False),
        Column("event_id", UUID(as_uuid=True), nullable=False),
        Column("event_type", Text, nullable=False),
        Column("topic", Text, nullable=False),
        Column("awaits", Text, nullable=False),
        Column("msg_key", Text),
        Column("partition", Integer),
        Column("offset", BigInteger),
        Column("headers", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
        Column("payload", LargeBinary, nullable=False),
        Column("parked_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("release_requested_at", DateTime(timezone=True)),
        Column("last_error", Text),
        UniqueConstraint("consumer", "event_id", name="uq_parked_event_consumer_event"),
        Index("ix_parked_event_awaits", "consumer", "awaits", "id"),
        Index("ix_parked_event_msg_key", "consumer", "msg_key", "id"),
    )
    # The relay's lease (qosym_chassis.outbox): one row per relay name; ``epoch`` is the fencing token, incremented
    # by every takeover and checked by the relay's mark-published statement. Each service's own revision.
    relay_lease = Table(
        "relay_lease",
        metadata,
        Column("name", Text, primary_key=True),
        Column("holder", Text, nullable=False),
        Column("epoch", BigInteger, nullable=False),
        Column("acquired_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("expires_at", DateTime(timezone=True), nullable=False),
    )
    # Outgoing dead letters: outbox rows the broker refused for good (too large, invalid). The row stays in the
    # outbox unpublished; later rows of its topic and key wait behind it, other keys go on.
    outbox_refused = Table(
        "outbox_refused",
        metadata,
        Column("outbox_id", BigInteger, primary_key=True),
        Column("event_id", UUID(as_uuid=True), nullable=False),
        Column("event_type", Text, nullable=False),
        Column("topic", Text, nullable=False),
        Column("msg_key", Text, nullable=False),
        Column("size_bytes", Integer, nullable=False),
        Column("error", Text, nullable=False),
        Column("refused_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Index("ix_outbox_refused_key", "topic", "msg_key"),
    )
    return MessagingTables(outbox, inbox, dead_letter, idempotency_key, parked_event, relay_lease, outbox_refused)
