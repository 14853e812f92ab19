from uuid import uuid4

import asyncpg
import pytest

from qosym_chassis.consumer import IncomingMessage, Outcome
from tests.support.events import child_registered, message

pytestmark = pytest.mark.component


async def inbox(url: str) -> list[dict]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT person_id, kind, subject_id, payload::text AS payload, read_at FROM inbox_message"
        )
    finally:
        await conn.close()
    return [dict(r) for r in rows]


async def test_a_registered_child_puts_one_message_in_the_guardians_inbox(service_db, consumer) -> None:
    url = await service_db("notifications")
    c = await consumer("notifications", url)
    guardian, child = uuid4(), uuid4()

    assert await c.deliver(message(child_registered(guardian, child))) is Outcome.APPLIED

    assert await inbox(url) == [
        {
            "person_id": guardian,
            "kind": "child_registered",
            "subject_id": child,
            "payload": f'{{"child_id": "{child}", "region_code": "astana", "district_code": "yesil"}}',
            "read_at": None,
        }
    ]


async def test_a_redelivered_event_changes_nothing(service_db, consumer) -> None:
    url = await service_db("notifications")
    c = await consumer("notifications", url)
    event = child_registered(uuid4())
    await c.deliver(message(event))

    assert await c.deliver(message(event)) is Outcome.DUPLICATE
    assert len(await inbox(url)) == 1


async def test_a_replay_under_a_new_event_id_never_sends_a_second_message(service_db, consumer) -> None:
    url = await service_db("notifications")
    c = await consumer("notifications", url)
    guardian, child = uuid4(), uuid4()
    await c.deliver(message(child_registered(guardian, child)))

    assert await c.deliver(message(child_registered(guardian, child))) is Outcome.APPLIED
    assert len(await inbox(url)) == 1


async def test_each_child_is_its_own_message(service_db, consumer) -> None:
    url = await service_db("notifications")
    c = await consumer("notifications", url)
    guardian = uuid4()

    await c.deliver(message(child_registered(guardian)))
    await c.deliver(message(child_registered(guardian)))

    assert [m["person_id"] for m in await inbox(url)] == [guardian, guardian]


async def test_an_event_that_is_not_a_valid_child_registration_is_dead_lettered(service_db, consumer) -> None:
    url = await service_db("notifications")
    c = await consumer("notifications", url)
    event = child_registered(uuid4())
    body = message(event).body.replace(b'"sex":"F"', b'"sex":"X"')

    outcome = await c.deliver(IncomingMessage(topic=event.topic, body=body))

    assert outcome is Outcome.DEAD_LETTERED
    assert await inbox(url) == []
