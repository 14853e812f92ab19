"""Every topic of the platform, created on the broker (replication factor 1 locally)."""

from __future__ import annotations

import asyncio

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from qosym_cli.errors import StackError
from qosym_contracts.topics import ALL_TOPICS


class TopicError(StackError):
    """Topics could not be created; the message says why."""


async def _connected_admin(bootstrap_servers: str, timeout_s: float = 20.0) -> AIOKafkaAdminClient:
    """A broker that has just started may accept connections before it answers: retry until the deadline."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="qosym-cli")
        try:
            await admin.start()
            return admin
        except KafkaError as error:
            await admin.close()
            if asyncio.get_running_loop().time() > deadline:
                raise TopicError(f"cannot reach the broker at {bootstrap_servers}: {error}") from error
            await asyncio.sleep(0.5)


async def ensure_topics(bootstrap_servers: str, replication_factor: int = 1) -> list[str]:
    """Create each topic of ALL_TOPICS that is missing; return the names created now."""
    admin = await _connected_admin(bootstrap_servers)
    try:
        existing = set(await admin.list_topics())
        created: list[str] = []
        for topic in ALL_TOPICS:
            if topic.name in existing:
                continue
            try:
                await admin.create_topics(
                    [NewTopic(topic.name, num_partitions=topic.partitions, replication_factor=replication_factor)]
                )
                created.append(topic.name)
            except TopicAlreadyExistsError:
                pass
        return created
    finally:
        await admin.close()
