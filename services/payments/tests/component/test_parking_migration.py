"""Revision 0005 moves payments' own parked events into the chassis' parking: they are applied once, after all."""

from __future__ import annotations

import asyncio
import json
import uuid
from urllib.parse import urlsplit

import asyncpg
import pytest

from qosym_chassis.cli import migrations_dir
from qosym_chassis.consumer import Outcome
from qosym_chassis.migrations import upgrade
from tests.support.events import message, region_event

from .support import MONTHLY, MONTHS, balance, round_opened, value, voucher_awarded

pytestmark = pytest.mark.component


async def test_events_parked_before_the_chassis_parking_are_applied_when_their_prerequisite_arrives(
    stack_servers, consumer
) -> None:
    server = stack_servers.state.postgres_server_url
    name = f"parking_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(server)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = urlsplit(server)._replace(path=f"/{name}").geturl()
    try:
        await asyncio.to_thread(upgrade, migrations_dir("payments"), url, "0004")
        opened = round_opened(2 * MONTHLY * MONTHS)
        award = voucher_awarded(opened.round_id)
        conn = await asyncpg.connect(url)
        try:  # what payments' own parking stored: the inbox row and the parked event, in one transaction
            await conn.execute(
                "INSERT INTO inbox (consumer, event_id, topic) VALUES ('payments', $1, $2)", award.event_id, award.topic
            )
            await conn.execute(
                "INSERT INTO parked_event (waiting_for, event_id, event_type, topic, payload)"
                " VALUES ($1, $2, $3, $4, $5::jsonb)",
                f"round:{opened.round_id}",
                award.event_id,
                award.event_type,
                award.topic,
                json.dumps(award.model_dump(mode="json")),
            )
        finally:
            await conn.close()

        await asyncio.to_thread(upgrade, migrations_dir("payments"), url)
        assert await value(url, "SELECT awaits FROM parked_event WHERE event_id = $1", award.event_id) == (
            f"round:{opened.round_id}"
        )

        c = await consumer("payments", url)
        assert await c.deliver(message(award)) is Outcome.DUPLICATE  # a redelivery is not parked twice
        assert await c.deliver(message(region_event())) is Outcome.APPLIED
        assert await c.deliver(message(opened)) is Outcome.APPLIED
        assert await value(url, "SELECT count(*) FROM parked_event") == 0
        assert await balance(url, f"voucher:{award.voucher_id}") == MONTHLY * MONTHS
        assert await value(url, "SELECT count(*) FROM dead_letter") == 0
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()
