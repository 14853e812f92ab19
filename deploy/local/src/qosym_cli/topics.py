"""Every topic of the platform, created on the broker (replication factor 1 locally)."""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from qosym_cli.errors import StackError
from qosym_contracts.topics import ALL_TOPICS


class TopicError(StackError):
    """Topics could not be created; the message says why."""


def admin_client(bootstrap_servers: str, security: dict[str, Any] | None = None) -> AIOKafkaAdminClient:
    """``security``: TLS and SASL as aiokafka keywords (``qosym_chassis.kafka_security.aiokafka_options`` of the
    QOSYM_KAFKA_* settings, for an external broker); none for the embedded tansu."""
    return AIOKafkaAdminClient(**(security or {}), bootstrap_servers=bootstrap_servers, client_id="qosym-cli")


async def _connected_admin(
    bootstrap_servers: str, security: dict[str, Any] | None = None, timeout_s: float = 20.0
) -> AIOKafkaAdminClient:
    """A broker that has just started may accept connections before it answers: retry until the deadline."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        admin = admin_client(bootstrap_servers, security)
        try:
            await admin.start()
            return admin
        except KafkaError as error:
            await admin.close()
            if asyncio.get_running_loop().time() > deadline:
                raise TopicError(f"cannot reach the broker at {bootstrap_servers}: {error}") from error
            await asyncio.sleep(0.5)


async def _partition_counts(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, int]:
    if not names:
        return {}
    described = await admin.describe_topics(names)
    return {str(topic["topic"]): len(topic["partitions"]) for topic in described}


async def ensure_topics(
    bootstrap_servers: str, replication_factor: int = 1, security: dict[str, Any] | None = None
) -> list[str]:
    """Create each topic of ALL_TOPICS that is missing, with its declared partitions; add partitions to one that has
    fewer than declared (never remove any). Return a line per topic created or changed now, and per topic left short
    because the broker cannot add partitions (tansu: its topics live in memory, ``qosym down`` + ``up`` recreates
    them with the declared count)."""
    admin = await _connected_admin(bootstrap_servers, security)
    try:
        existing = set(await admin.list_topics())
        declared = {topic.name: topic.partitions for topic in ALL_TOPICS}
        counts = await _partition_counts(admin, sorted(existing & set(declared)))
        lines: list[str] = []
        for topic in ALL_TOPICS:
            if topic.name not in existing:
                try:
                    await admin.create_topics(
                        [NewTopic(topic.name, num_partitions=topic.partitions, replication_factor=replication_factor)]
                    )
                    lines.append(topic.name)
                except TopicAlreadyExistsError:
                    pass
                continue
            have = counts.get(topic.name, topic.partitions)
            if have >= topic.partitions:
                continue
            try:
                await admin.create_partitions({topic.name: NewPartitions(total_count=topic.partitions)})
                lines.append(f"{topic.name}: {have} → {topic.partitions} partitions")
            except (KafkaError, ValueError) as error:
                lines.append(f"{topic.name} keeps {have} of {topic.partitions} partitions ({type(error).__name__})")
        return lines
    finally:
        await admin.close()
