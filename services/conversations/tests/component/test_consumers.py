"""Conversations' projections: guardians from registry's events, each object's child, provider and region from
allocation's, catalog's and attendance's; a redelivered event changes nothing."""

from __future__ import annotations

from uuid import uuid4

import asyncpg
import pytest

from qosym_chassis.consumer import Outcome
from qosym_contracts.registry import GuardianshipEndedV1, GuardianshipEstablishedV1
from services.conversations.tests.component.support import Family, deliver, utc
from tests.support.events import message

pytestmark = pytest.mark.component


async def rows(url: str, sql: str) -> list[tuple[object, ...]]:
    conn = await asyncpg.connect(url)
    try:
        return [tuple(r) for r in await conn.fetch(sql)]
    finally:
        await conn.close()


async def test_every_object_names_its_child_provider_and_region(service_db, consumer) -> None:
    url = await service_db("conversations")
    c = await consumer("conversations", url)
    f = Family()
    await deliver(c, *f.events())

    subjects = await rows(
        url, "SELECT object_type, object_id, child_id, provider_id, region_code, district_code FROM subject"
    )
    assert sorted(subjects, key=lambda r: str(r[0])) == [
        ("application", f.application_id, f.child_id, None, "astana", "yesil"),
        ("dispute", f.dispute_id, f.child_id, f.provider_id, "astana", "yesil"),
        ("enrolment", f.enrolment_id, f.child_id, f.provider_id, "astana", "yesil"),
        ("timesheet", f.timesheet_id, f.child_id, f.provider_id, "astana", "yesil"),
    ]
    guardians = await rows(url, "SELECT guardian_id, active FROM guardianship ORDER BY guardian_id")
    assert sorted(guardians) == sorted([(str(f.guardian_id), True), (str(f.second_guardian_id), True)])


async def test_a_redelivered_event_is_applied_once(service_db, consumer) -> None:
    url = await service_db("conversations")
    c = await consumer("conversations", url)
    f = Family()
    events = f.events()
    await deliver(c, *events)
    before = await rows(url, "SELECT * FROM subject ORDER BY object_type")

    for event in events:
        assert await c.deliver(message(event)) is Outcome.DUPLICATE
    assert await rows(url, "SELECT * FROM subject ORDER BY object_type") == before


async def test_an_ended_guardianship_is_not_revived_by_an_older_event(service_db, consumer) -> None:
    url = await service_db("conversations")
    c = await consumer("conversations", url)
    child, guardian = uuid4(), uuid4()
    await deliver(
        c,
        GuardianshipEndedV1(occurred_at=utc(2026, 10, 2), child_id=child, guardian_id=guardian),
        GuardianshipEstablishedV1(occurred_at=utc(2026, 10, 1), child_id=child, guardian_id=guardian),
    )
    assert await rows(url, "SELECT guardian_id, active FROM guardianship") == [(str(guardian), False)]
